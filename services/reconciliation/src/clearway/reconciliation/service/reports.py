"""The daily report per cash account (link): opening, in, out, closing; the bank's side and the
ledger's side next to each other; the open breaks. JSON, or CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from clearway.reconciliation.domain.breaks import Break
from clearway.reconciliation.domain.errors import NotFoundError
from clearway.reconciliation.domain.external_transactions import ReconStatus
from clearway.reconciliation.domain.links import Link
from clearway.reconciliation.service.context import ReconciliationContext

CSV_COLUMNS = (
    "day",
    "link_id",
    "ledger_id",
    "cash_account_path",
    "currency",
    "opening_minor",
    "in_minor",
    "out_minor",
    "closing_minor",
    "bank_closing_minor",
    "ledger_balance_minor",
    "difference_minor",
    "unreconciled",
    "open_breaks",
)


@dataclass(frozen=True, slots=True)
class DailyReport:
    day: date
    link: Link
    opening_minor: int
    in_minor: int
    out_minor: int
    bank_closing_minor: int | None  # from the day's statement, when one was imported
    ledger_balance_minor: int  # the cash account now
    unreconciled: int
    open_breaks: tuple[Break, ...]

    @property
    def closing_minor(self) -> int:
        return self.opening_minor + self.in_minor - self.out_minor

    @property
    def difference_minor(self) -> int | None:
        """The bank's closing balance against the ledger's, when the bank has said one."""
        return None if self.bank_closing_minor is None else self.ledger_balance_minor - self.bank_closing_minor


async def daily_report(context: ReconciliationContext, link_id: str, day: date) -> DailyReport:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    async with context.unit_of_work() as uow:
        link = await uow.links.get(link_id)
        if link is None:
            raise NotFoundError(f"No link {link_id}.", code="LINK_NOT_FOUND")
        before_in, before_out = await uow.external_transactions.totals(link_id, since=None, until=start)
        day_in, day_out = await uow.external_transactions.totals(link_id, since=start, until=end)
        closing = await uow.statements.latest_closing(link_id, on_or_before=day)
        unreconciled = await uow.external_transactions.list(
            link_id=link_id, status=ReconStatus.UNRECONCILED, starting_after=None, limit=10_000
        )
        open_breaks = await uow.breaks.open_for_link(link_id)
    accounts, _ = await context.ledger.list_accounts(
        link.ledger_id, path=link.cash_account_path, currency=link.currency, limit=1
    )
    return DailyReport(
        day=day,
        link=link,
        opening_minor=before_in - before_out,
        in_minor=day_in,
        out_minor=day_out,
        bank_closing_minor=closing[0] if closing is not None and closing[1] == day else None,
        ledger_balance_minor=accounts[0].own_balance_minor if accounts else 0,
        unreconciled=len(unreconciled),
        open_breaks=tuple(open_breaks),
    )


def as_csv(report: DailyReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(
        (
            report.day.isoformat(),
            report.link.id,
            report.link.ledger_id,
            report.link.cash_account_path,
            report.link.currency,
            report.opening_minor,
            report.in_minor,
            report.out_minor,
            report.closing_minor,
            "" if report.bank_closing_minor is None else report.bank_closing_minor,
            report.ledger_balance_minor,
            "" if report.difference_minor is None else report.difference_minor,
            report.unreconciled,
            len(report.open_breaks),
        )
    )
    return out.getvalue()
