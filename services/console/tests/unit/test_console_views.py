"""The pure parts of the new pages: a funding's timeline, ages, the services' metrics, the chart's
geometry, the filename of a passed-through document, and which service's dead letters a page shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from clearway.console.adapters.services_api import _filename
from clearway.console.charts import Point, line_chart
from clearway.console.formatting import age
from clearway.console.views.balance_history import POINTS, moments
from clearway.console.views.dead_letters import ServiceDeadLetters, chosen_service, total
from clearway.console.views.funding_timeline import timeline
from clearway.console.views.service_metrics import parse

EXPOSITION = """\
# HELP clearway_messages_consumed_total Consumed messages by outcome
# TYPE clearway_messages_consumed_total counter
clearway_messages_consumed_total{group="g",outcome="processed",topic="a"} 7.0
clearway_messages_consumed_total{group="g",outcome="dead_lettered",topic="a"} 2.0
clearway_messages_consumed_total{group="h",outcome="dead_lettered",topic="b"} 1.0
# HELP clearway_outbox_lag_seconds Age of the oldest unpublished outbox event at the last claim
# TYPE clearway_outbox_lag_seconds gauge
clearway_outbox_lag_seconds{service="payout"} 0.25
# HELP clearway_consumer_lag_messages Records behind the partition's end, as of the group's last poll
# TYPE clearway_consumer_lag_messages gauge
clearway_consumer_lag_messages{group="g",partition="0",topic="a"} 4.0
clearway_consumer_lag_messages{group="h",partition="3",topic="b"} 1.0
"""


def test_a_fundings_timeline_is_built_from_its_recorded_times_in_order() -> None:
    funding = {
        "created_at": "2026-11-29T09:00:00Z",
        "created_by": "dev-admin",
        "invoice": {"number": "CW-1", "issued_at": "2026-11-29T09:00:01Z", "sent_at": None},
        "deposit": {"deposit_id": "dep_1", "linked_at": "2026-11-29T11:00:00Z", "linked_by": "dev-approver"},
        "funded_at": "2026-11-29T11:00:00Z",
        "paid_out_at": None,
        "cancelled_at": None,
    }
    moments_ = timeline(funding)
    assert [moment.what for moment in moments_] == ["Created", "Invoice CW-1 issued", "Deposit dep_1 linked", "Funded"]
    assert moments_[0].by == "dev-admin" and moments_[2].by == "dev-approver"


def test_ages_read_in_their_two_largest_units() -> None:
    assert age(None) == "unknown"
    assert age(30) == "under a minute"
    assert age(5 * 60) == "5 min"
    assert age(2 * 86_400 + 3 * 3_600 + 60) == "2 d 3 h"


def test_consumer_and_outbox_lag_are_read_from_the_prometheus_exposition() -> None:
    traffic = parse("payout", EXPOSITION)
    assert (traffic.reachable, traffic.outbox_lag_s) == (True, 0.25)
    assert traffic.consumer_lag == 5  # every partition of every group: what the service has to read
    assert parse("ledger", "").consumer_lag is None
    assert not parse("funding", None).reachable
    assert not parse("funding", '{"data": []}').reachable


def test_the_balance_is_read_from_its_creation_or_the_windows_start_to_now() -> None:
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    recent = moments(now - timedelta(hours=3), now, days=30)
    assert len(recent) == POINTS and recent[0] == now - timedelta(hours=3) and recent[-1] == now
    assert moments(now - timedelta(days=400), now, days=7)[0] == now - timedelta(days=7)


def test_the_chart_spans_its_readings_with_zero_included() -> None:
    start = datetime(2026, 11, 29, tzinfo=UTC)
    points = [
        Point(start, Decimal(0), "KES 0.00"),
        Point(start + timedelta(hours=1), Decimal(1000), "KES 1,000.00"),
    ]
    chart = line_chart(points)
    assert chart is not None
    assert chart.dots[0].x == chart.left and chart.dots[-1].x == chart.left + chart.plot_width
    assert chart.dots[-1].y == chart.top and chart.zero_y == chart.top + chart.plot_height
    assert [label.text for label in chart.y_labels] == ["KES 0.00", "KES 1,000.00"]
    assert line_chart([]) is None


def test_a_passed_through_document_keeps_the_services_filename() -> None:
    assert _filename('attachment; filename="lnk_1-2026-11-29.csv"') == "lnk_1-2026-11-29.csv"
    assert _filename('attachment; filename="../etc/passwd"') is None
    assert _filename(None) is None


def test_the_dead_letters_page_shows_the_service_asked_for_else_the_first_with_any() -> None:
    found = [
        ServiceDeadLetters("ledger", 0),
        ServiceDeadLetters("funding", None, note="not allowed for your roles"),
        ServiceDeadLetters("payout", 2, {"payable.paid": 2}),
    ]
    assert chosen_service(found, "ledger") == "ledger"
    assert chosen_service(found, None) == "payout"
    assert chosen_service(found, "nonsense") == "payout"
    assert chosen_service(found[:1], None) == "ledger"
    assert total(found) == 2  # of the services that answered
    assert total([ServiceDeadLetters("funding", None)]) is None
