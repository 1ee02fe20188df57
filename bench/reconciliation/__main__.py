"""`python -m bench.reconciliation [--transactions N]` (`make bench-reconciliation`)

How long matching takes for N external transactions against 1.1 N expectations on one link, in
PostgreSQL (embedded, or `CLEARWAY_DATABASE_URL`). The data: 80% pair by reference (rule 1), 10%
are bulk receipts for two expectations sharing a reference (rule 2), 10% carry no reference and pair
by amount and date (rule 3). Posting to the ledger is not timed: it is one HTTP call per entry and
happens after matching, in the posting pass. Writes bench-results/reconciliation.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from clearway.devstack.databases import with_database
from clearway.devstack.ports import find_free_port
from clearway.devstack.postgres import EmbeddedPostgres
from clearway.devstack.preparation import create_databases
from clearway.platform.db import create_engine, create_session_factory, libpq_url
from clearway.reconciliation.adapters.unit_of_work import SqlReconciliationUnitOfWork
from clearway.reconciliation.main import run_migrations
from clearway.reconciliation.service import matching
from clearway.reconciliation.service.context import ReconciliationContext

LINK_ID = "lnk_bench"


class NoLedger:
    """Matching never calls the ledger; posting (not timed here) would."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"matching called the ledger ({name})")


def _seed_sql() -> list[str]:
    """n transactions and 1.1 n expectations: [0, .8n) pair 1:1 by reference; [.8n, .9n) are bulk
    receipts of two expectations each (rule 2); [.9n, n) carry no reference (rule 3)."""
    amount = "(100 + {i} % 5000)"
    day = "now() - ({i} % 3) * interval '1 day'"
    tx = (
        "INSERT INTO external_transactions (id, processor, transfer_id, direction, amount_minor, currency,"
        " account_id, reference, booked_at, status, link_id, external_id, source)"
        " SELECT 'ext_' || lpad(i::text, 9, '0'), 'bench', 't' || i, 'inbound', {amount}, 'KES', 'acct_bench',"
        " {reference}, " + day.format(i="i") + ", 'unreconciled', 'lnk_bench', 't' || i, 'statement'"
        " FROM generate_series({start}, {stop} - 1) AS i"
    )
    ex = (
        "INSERT INTO expectations (id, link_id, direction, amount_minor, currency, reference, expected_on, source,"
        " status, initiation_status)"
        " SELECT 'exp_' || lpad(k::text, 9, '0'), 'lnk_bench', 'inbound', {amount}, 'KES', {reference},"
        " (" + day.format(i="{i}") + ")::date, 'bench', 'open', 'none'"
        " FROM generate_series({start}, {stop} - 1) AS k"
    )
    bulk_i = "(:a + (k - :a) / 2)"
    return [
        "INSERT INTO links (id, name, kind, ledger_id, cash_account_path, currency, external_account_id, auto_match,"
        " clearing_max_age_s, date_window_days, created_by) VALUES ('lnk_bench', 'bench', 'bank_statement',"
        " 'ldg_bench', 'assets/operating', 'KES', 'acct_bench', true, 259200, 3, 'bench')",
        tx.format(amount=amount.format(i="i"), reference="'r' || i", start="0", stop=":a"),
        tx.format(amount="2 * " + amount.format(i="i"), reference="'r' || i", start=":a", stop=":b"),
        tx.format(amount=amount.format(i="i"), reference="NULL", start=":b", stop=":n"),
        ex.format(amount=amount.format(i="k"), reference="'r' || k", i="k", start="0", stop=":a"),
        ex.format(amount=amount.format(i=bulk_i), reference="'r' || " + bulk_i, i=bulk_i, start=":a", stop=":c"),
        ex.format(amount=amount.format(i="(k - :c + :b)"), reference="NULL", i="(k - :c + :b)", start=":c", stop=":d"),
    ]


async def bench(database_url: str, n: int) -> dict[str, Any]:
    engine = create_engine(database_url, pool_size=2)
    try:
        async with engine.begin() as connection:
            started = time.perf_counter()
            a, b = n * 8 // 10, n * 9 // 10
            bounds = {"n": n, "a": a, "b": b, "c": a + 2 * (b - a), "d": a + 2 * (b - a) + (n - b)}
            for statement in _seed_sql():
                await connection.execute(
                    text(statement), {key: bounds[key] for key in bounds if f":{key}" in statement}
                )
            for table in ("external_transactions", "expectations"):
                await connection.execute(text(f"ANALYZE {table}"))
            seeded_s = time.perf_counter() - started
        context = ReconciliationContext(
            unit_of_work=lambda: SqlReconciliationUnitOfWork(create_session_factory(engine)), ledger=NoLedger()
        )
        started = time.perf_counter()
        run = await matching.run_matching(context, LINK_ID, dry_run=False, actor="bench")
        matching_s = time.perf_counter() - started
        async with engine.connect() as connection:
            left = (
                await connection.execute(
                    text("SELECT count(*) FROM external_transactions WHERE status = 'unreconciled'")
                )
            ).scalar_one()
        by_rule: dict[str, int] = {}
        for match in run.matches:
            by_rule[match.rule.value] = by_rule.get(match.rule.value, 0) + 1
        return {
            "transactions": n,
            "expectations": bounds["d"],
            "seed_s": round(seeded_s, 2),
            "matching_s": round(matching_s, 2),
            "matches": len(run.matches),
            "matches_by_rule": by_rule,
            "transactions_left_unreconciled": int(left),
            "transactions_per_s": round(n / matching_s),
        }
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.reconciliation")
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--out", default="bench-results/reconciliation.json")
    arguments = parser.parse_args(argv)
    owned: EmbeddedPostgres | None = None
    server = os.environ.get("CLEARWAY_DATABASE_URL")
    work = Path(tempfile.mkdtemp(prefix="bench-reconciliation-"))
    if not server:
        owned = EmbeddedPostgres(work / "pgdata", find_free_port(), test_mode=False, log_path=work / "postgres.log")
        owned.start()
        server = owned.url
    try:
        name = f"bench_reconciliation_{os.getpid()}"
        create_databases(libpq_url(server), [name])
        database_url = with_database(libpq_url(server), name, driver="asyncpg")
        run_migrations(database_url)
        result = asyncio.run(bench(database_url, arguments.transactions))
    finally:
        if owned is not None:
            owned.stop()
    report = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
        "result": result,
    }
    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return 0 if result["transactions_left_unreconciled"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
