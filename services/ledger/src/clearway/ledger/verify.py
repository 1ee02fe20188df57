"""`python -m clearway.ledger.verify`: prove the books from the journal, or say where they disagree.

Recomputes every balance from its entries (applied and inflight buckets), checks that per
currency and bucket debits equal credits, that each balance's inflight columns equal what its
open holds still keep, and lists rows that cannot be right (unbalanced transactions, holds
whose legs do not add up, INFLIGHT transactions without a hold). Exit status: 0 when the
books agree, 1 on any difference, 2 when the check could not run.

    python -m clearway.ledger.verify [--database-url URL] [--json]

The URL defaults to `CLEARWAY_LEDGER_DATABASE_URL` (the service's own setting).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import orjson

from clearway.ledger.adapters.verification import (
    Anomaly,
    BucketTotal,
    ColumnDifference,
    Counts,
    VerificationRepository,
    connect,
)
from clearway.ledger.config import LedgerSettings

# Bounds the report, not the check: every query still scans everything, but a corrupted
# database lists at most this many rows of each kind.
FINDINGS_PER_KIND_MAX = 1000
EXIT_OK = 0
EXIT_DIFFERENCES = 1
EXIT_FAILED = 2


@dataclass(frozen=True)
class VerificationReport:
    counts: Counts
    totals: tuple[BucketTotal, ...]
    differences: tuple[ColumnDifference, ...]
    anomalies: tuple[Anomaly, ...]

    @property
    def unbalanced_totals(self) -> tuple[BucketTotal, ...]:
        return tuple(total for total in self.totals if not total.balanced)

    @property
    def ok(self) -> bool:
        return not (self.differences or self.anomalies or self.unbalanced_totals)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": asdict(self.counts),
            "totals": [{**asdict(total), "balanced": total.balanced} for total in self.totals],
            "differences": [asdict(difference) for difference in self.differences],
            "anomalies": [asdict(anomaly) for anomaly in self.anomalies],
        }


async def verify_ledger(connection: asyncpg.Connection) -> VerificationReport:
    """Run every check against one snapshot of the database; reads only."""
    repository = VerificationRepository(connection)
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        counts = await repository.counts()
        totals = await repository.bucket_totals()
        differences = await repository.entry_differences(FINDINGS_PER_KIND_MAX)
        differences += await repository.hold_differences(FINDINGS_PER_KIND_MAX)
        anomalies = await repository.anomalies(FINDINGS_PER_KIND_MAX)
    return VerificationReport(counts, tuple(totals), tuple(differences), tuple(anomalies))


async def verify_database(database_url: str) -> VerificationReport:
    connection = await connect(database_url)
    try:
        return await verify_ledger(connection)
    finally:
        await connection.close()


def render_text(report: VerificationReport) -> str:
    counts = report.counts
    lines = [
        f"ledger verification: {counts.balances} balances, {counts.entries} entries, "
        f"{counts.holds} holds, {counts.transactions} transactions",
        "",
        "per currency and bucket (debits must equal credits):",
    ]
    if not report.totals:
        lines.append("  (no entries)")
    for total in report.totals:
        verdict = "ok" if total.balanced else f"OFF BY {total.debit_minor - total.credit_minor}"
        lines.append(
            f"  {total.currency} {total.bucket:<8} debits {total.debit_minor:>20} credits {total.credit_minor:>20} "
            f"({total.entry_count} entries) {verdict}"
        )
    if report.differences:
        lines += ["", f"balance differences ({len(report.differences)}):"]
        lines += [
            f"  {item.balance_id} ({item.currency}) {item.column}: stored {item.stored_minor}, "
            f"expected {item.expected_minor} from {item.basis} (difference {item.stored_minor - item.expected_minor})"
            for item in report.differences
        ]
    if report.anomalies:
        lines += ["", f"anomalies ({len(report.anomalies)}):"]
        lines += [f"  {item.kind}: {item.subject}: {item.detail}" for item in report.anomalies]
    lines += ["", "OK: every balance equals its entries" if report.ok else "FAILED: the books disagree"]
    return "\n".join(lines)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m clearway.ledger.verify",
        description="Recompute every ledger balance from its entries and report any difference.",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="ledger database (postgresql:// or postgresql+asyncpg://); default CLEARWAY_LEDGER_DATABASE_URL",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    database_url = arguments.database_url or LedgerSettings().database_url
    try:
        report = asyncio.run(verify_database(database_url))
    except (OSError, asyncpg.PostgresError) as error:
        print(f"ledger verification could not run: {error}", file=sys.stderr)
        return EXIT_FAILED
    if arguments.json:
        print(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        print(render_text(report))
    return EXIT_OK if report.ok else EXIT_DIFFERENCES


if __name__ == "__main__":
    sys.exit(main())
