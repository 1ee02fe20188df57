"""Billing's SQL: job runs per (job, account, business date), statements, repayments, and the posted
clearings a statement lists. Plain SQL on the unit of work's session; rows come out as dicts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Spliced into the statements' SQL below (`noqa: S608` there): a constant, never input.
_STATEMENT_COLUMNS = (
    "card_account_id, number, currency, period_start, period_end, due_date, status, principal_minor, "
    "billed_minor, fees_minor, interest_minor, total_due_minor, transactions, closed_at, updated_at"
)


# Spliced into the repayments' SQL below (`noqa: S608` there): a constant, never input.
_REPAYMENT_COLUMNS = (
    "id, card_account_id, reference, amount_minor, currency, status, reason, allocation, ledger_transaction_id, "
    "created_at, posted_at"
)

_JSON_COLUMNS = frozenset({"plan", "transactions", "allocation"})


def _json(key: str, value: Any) -> Any:
    """JSONB read through plain SQL may come back as text."""
    return json.loads(value) if key in _JSON_COLUMNS and isinstance(value, str) else value


class SqlBillingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        result = await self._session.execute(text(sql), params)
        return [{key: _json(key, value) for key, value in row.items()} for row in result.mappings()]

    # Job runs.
    async def get_run(self, job: str, card_account_id: str, business_date: date) -> dict[str, Any] | None:
        rows = await self._rows(
            "SELECT job, card_account_id, business_date, status, plan FROM card_job_runs "
            "WHERE job = :job AND card_account_id = :account AND business_date = :day FOR UPDATE",
            job=job,
            account=card_account_id,
            day=business_date,
        )
        return rows[0] if rows else None

    async def add_run(
        self, job: str, card_account_id: str, business_date: date, plan: dict[str, Any], now: datetime
    ) -> bool:
        """False when a run for the same job, account and date already exists."""
        result = await self._session.execute(
            text(
                "INSERT INTO card_job_runs (job, card_account_id, business_date, status, plan, created_at) "
                "VALUES (:job, :account, :day, 'pending', CAST(:plan AS jsonb), :now) ON CONFLICT DO NOTHING"
            ),
            {"job": job, "account": card_account_id, "day": business_date, "plan": json.dumps(plan), "now": now},
        )
        return bool(getattr(result, "rowcount", 0))

    async def finish_run(self, job: str, card_account_id: str, business_date: date, now: datetime) -> None:
        await self._session.execute(
            text(
                "UPDATE card_job_runs SET status = 'done', finished_at = :now "
                "WHERE job = :job AND card_account_id = :account AND business_date = :day"
            ),
            {"job": job, "account": card_account_id, "day": business_date, "now": now},
        )

    async def pending_runs_older_than(self, moment: datetime, limit: int) -> list[dict[str, Any]]:
        """Runs a crash (or a failed ledger call) left `pending`, recorded before `moment`, oldest first."""
        return await self._rows(
            "SELECT job, card_account_id, business_date FROM card_job_runs WHERE status = 'pending' "
            "AND created_at < :moment ORDER BY created_at LIMIT :limit",
            moment=moment,
            limit=limit,
        )

    async def active_account_ids(self, *, starting_after: str, limit: int, cycle_day: int | None) -> list[str]:
        sql = "SELECT id FROM card_accounts WHERE status = 'active' AND id > :after"
        if cycle_day is not None:
            sql += " AND billing_cycle_day = :day"
        rows = await self._rows(sql + " ORDER BY id LIMIT :limit", after=starting_after, limit=limit, day=cycle_day)
        return [str(row["id"]) for row in rows]

    # Statements.
    async def last_statement(self, card_account_id: str) -> dict[str, Any] | None:
        rows = await self._rows(
            f"SELECT {_STATEMENT_COLUMNS} FROM statements WHERE card_account_id = :account ORDER BY number DESC LIMIT 1",  # noqa: S608
            account=card_account_id,
        )
        return rows[0] if rows else None

    async def statement(self, card_account_id: str, number: int) -> dict[str, Any] | None:
        rows = await self._rows(
            f"SELECT {_STATEMENT_COLUMNS} FROM statements WHERE card_account_id = :account AND number = :number",  # noqa: S608
            account=card_account_id,
            number=number,
        )
        return rows[0] if rows else None

    async def statements(self, card_account_id: str, *, after_number: int, limit: int) -> list[dict[str, Any]]:
        return await self._rows(
            f"SELECT {_STATEMENT_COLUMNS} FROM statements WHERE card_account_id = :account AND number > :after "  # noqa: S608
            "ORDER BY number LIMIT :limit",
            account=card_account_id,
            after=after_number,
            limit=limit,
        )

    async def add_statement(self, statement: dict[str, Any]) -> bool:
        params = {**statement, "transactions": json.dumps(statement["transactions"])}
        result = await self._session.execute(
            text(
                f"INSERT INTO statements ({_STATEMENT_COLUMNS}) VALUES (:card_account_id, :number, :currency, "  # noqa: S608
                ":period_start, :period_end, :due_date, :status, :principal_minor, :billed_minor, :fees_minor, "
                ":interest_minor, :total_due_minor, CAST(:transactions AS jsonb), :closed_at, :updated_at) "
                "ON CONFLICT DO NOTHING"
            ),
            params,
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_statement_status(self, card_account_id: str, number: int, status: str, now: datetime) -> None:
        await self._session.execute(
            text(
                "UPDATE statements SET status = :status, updated_at = :now "
                "WHERE card_account_id = :account AND number = :number"
            ),
            {"status": status, "now": now, "account": card_account_id, "number": number},
        )

    async def unpaid_statements_due_before(self, card_account_id: str, day: date) -> list[dict[str, Any]]:
        return await self._rows(
            f"SELECT {_STATEMENT_COLUMNS} FROM statements WHERE card_account_id = :account "  # noqa: S608
            "AND status = 'open' AND due_date < :day ORDER BY number",
            account=card_account_id,
            day=day,
        )

    async def mark_statements_paid(self, card_account_id: str, now: datetime) -> None:
        await self._session.execute(
            text(
                "UPDATE statements SET status = 'paid', updated_at = :now "
                "WHERE card_account_id = :account AND status IN ('open', 'overdue')"
            ),
            {"now": now, "account": card_account_id},
        )

    async def unbilled_clearings(self, card_account_id: str) -> list[dict[str, Any]]:
        return await self._rows(
            "SELECT id, clearing_id, card_id, merchant_name, merchant_category_code, amount_minor, fee_minor, "
            "forced, cleared_at FROM clearings WHERE card_account_id = :account AND status = 'posted' "
            "AND statement_number IS NULL ORDER BY cleared_at, id",
            account=card_account_id,
        )

    async def bill_clearings(self, card_account_id: str, clearing_ids: Sequence[str], number: int) -> None:
        await self._session.execute(
            text(
                "UPDATE clearings SET statement_number = :number "
                "WHERE card_account_id = :account AND id = ANY(:ids) AND statement_number IS NULL"
            ),
            {"number": number, "account": card_account_id, "ids": list(clearing_ids)},
        )

    # Repayments.
    async def repayment_by_reference(
        self, card_account_id: str, reference: str, *, for_update: bool = False
    ) -> dict[str, Any] | None:
        rows = await self._rows(
            f"SELECT {_REPAYMENT_COLUMNS} FROM repayments "  # noqa: S608
            "WHERE card_account_id = :account AND reference = :reference" + (" FOR UPDATE" if for_update else ""),
            account=card_account_id,
            reference=reference,
        )
        return rows[0] if rows else None

    async def pending_repayments_older_than(self, moment: datetime, limit: int) -> list[dict[str, Any]]:
        """Repayments a crash (or a failed ledger call) left `pending`, recorded before `moment`, oldest first."""
        return await self._rows(
            f"SELECT {_REPAYMENT_COLUMNS} FROM repayments "  # noqa: S608
            "WHERE status = 'pending' AND created_at < :moment ORDER BY created_at LIMIT :limit",
            moment=moment,
            limit=limit,
        )

    async def add_repayment(self, repayment: dict[str, Any]) -> None:
        await self._session.execute(
            text(
                "INSERT INTO repayments (id, card_account_id, reference, amount_minor, currency, status, allocation, "
                "created_at) VALUES (:id, :card_account_id, :reference, :amount_minor, :currency, 'pending', "
                "CAST(:allocation AS jsonb), :created_at)"
            ),
            {**repayment, "allocation": json.dumps(repayment["allocation"])},
        )

    async def repayments_posted_minor(self, card_account_id: str, *, after: datetime | None, until: datetime) -> int:
        """What repayments posted in (`after`, `until`] add up to (all before `until` when `after` is None)."""
        rows = await self._rows(
            "SELECT COALESCE(SUM(amount_minor), 0) AS total FROM repayments WHERE card_account_id = :account "
            "AND status = 'posted' AND posted_at <= :until AND (CAST(:after AS timestamptz) IS NULL OR posted_at > :after)",
            account=card_account_id,
            after=after,
            until=until,
        )
        return int(rows[0]["total"])

    async def repayment_posted(self, repayment_id: str, now: datetime, ledger_transaction_id: str) -> bool:
        result = await self._session.execute(
            text(
                "UPDATE repayments SET status = 'posted', posted_at = :now, ledger_transaction_id = :txn "
                "WHERE id = :id AND status = 'pending'"
            ),
            {"now": now, "id": repayment_id, "txn": ledger_transaction_id},
        )
        return bool(getattr(result, "rowcount", 0))

    async def add_refused_repayment(self, repayment: dict[str, Any]) -> None:
        await self._session.execute(
            text(
                "INSERT INTO repayments (id, card_account_id, reference, amount_minor, currency, status, reason, "
                "allocation, created_at) VALUES (:id, :card_account_id, :reference, :amount_minor, :currency, "
                "'refused', :reason, CAST(:allocation AS jsonb), :created_at)"
            ),
            {**repayment, "allocation": json.dumps(repayment["allocation"])},
        )

    async def list_repayments(
        self, card_account_id: str, *, starting_after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        return await self._rows(
            f"SELECT {_REPAYMENT_COLUMNS} FROM repayments WHERE card_account_id = :account "  # noqa: S608
            "AND (CAST(:after AS text) IS NULL OR id > :after) ORDER BY id LIMIT :limit",
            account=card_account_id,
            after=starting_after,
            limit=limit,
        )
