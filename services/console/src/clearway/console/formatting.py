"""How amounts and times read on a page.

Amounts come in minor units; the currency's exponent (ISO 4217, `clearway.platform.money`) places
the point, so JPY shows no decimals and KES two. Times are rendered in UTC by the server inside
a `<time>` element; a few lines of script (static/console.js) rewrite the text in the viewer's
zone and keep UTC in the tooltip.
"""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape

from clearway.platform.money import format_minor, is_known_currency


def group_thousands(amount: str) -> str:
    """`"-1234567.50"` -> `"-1,234,567.50"`."""
    sign = "-" if amount.startswith("-") else ""
    whole, _, fraction = amount.lstrip("-").partition(".")
    grouped = f"{int(whole):,}"
    return f"{sign}{grouped}{'.' + fraction if fraction else ''}"


def money(amount_minor: int | str | None, currency: str | None) -> str:
    """`money(150000, "KES") == "KES 1,500.00"`; an unknown currency shows its minor units as such."""
    if amount_minor is None or currency is None:
        return "—"
    minor = int(amount_minor)
    if not is_known_currency(currency):
        return f"{minor:,} {currency} (minor units)"
    return f"{currency} {group_thousands(format_minor(minor, currency))}"


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def time_element(value: str | datetime | None) -> Markup:
    """`<time datetime=ISO title="… UTC">… UTC</time>`; the page script localises the text."""
    moment = parse_time(value)
    if moment is None:
        return Markup("—")
    utc = moment.astimezone(UTC)
    iso = utc.isoformat().replace("+00:00", "Z")
    shown = utc.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(escape(iso), escape(shown), escape(shown))


def count_label(count: int, has_more: bool) -> str:
    """Lists page at most 100 rows per call; past that the overview says "100+"."""
    return f"{count}+" if has_more else str(count)


def age(seconds: int | None) -> str:
    """How long something has waited, in the two largest units: `"2 d 3 h"`, `"5 min"`."""
    if seconds is None:
        return "unknown"
    minutes, _ = divmod(max(int(seconds), 0), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{value} {unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if value]
    return " ".join(parts[:2]) or "under a minute"
