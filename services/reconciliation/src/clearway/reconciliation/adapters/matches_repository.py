"""All of the matches' SQL, including matching itself: set-based candidate queries in PostgreSQL.

Each rule is one statement over a link's unreconciled transactions and open expectations, pairing
them with window functions (`row_number` over the matching key on both sides), never a Python loop
over pairs. With the partial indexes on `(link_id, currency, amount_minor)` a run over 100,000 of
each is bounded by sorting them once per rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.platform.timestamps import repaired_updated_at, updated_at_not_before_creation
from clearway.reconciliation.adapters.orm import MatchRow
from clearway.reconciliation.domain.matches import Match, MatchStatus, Rule, Strategy


@dataclass(frozen=True, slots=True)
class Candidate:
    transaction_ids: tuple[str, ...]
    expectation_ids: tuple[str, ...]
    strategy: Strategy
    rule: Rule
    reverses_match_id: str | None = None


# One external transaction <-> one expectation with the same reference, amount, currency and direction.
# Duplicates on either side pair in arrival order, each at most once (`rn`).
_BY_REFERENCE = text(
    """
    WITH tx AS (
        SELECT id, reference, amount_minor, currency, direction,
               row_number() OVER (PARTITION BY reference, amount_minor, currency, direction ORDER BY booked_at, id) rn
        FROM external_transactions
        WHERE link_id = :link_id AND status = 'unreconciled' AND reference IS NOT NULL AND NOT held_for_review
    ), ex AS (
        SELECT id, reference, amount_minor, currency, direction, jsonb_array_length(items) > 0 AS bulk,
               source = 'card_settlement' AS card,
               row_number() OVER (PARTITION BY reference, amount_minor, currency, direction ORDER BY created_at, id) rn
        FROM expectations
        WHERE link_id = :link_id AND status = 'open' AND reference IS NOT NULL AND batch_id IS NULL
    )
    SELECT tx.id AS tx_id, ex.id AS ex_id, ex.bulk, ex.card
    FROM tx JOIN ex USING (reference, amount_minor, currency, direction, rn)
    """
)

# One external transaction <-> several open expectations sharing its reference whose amounts add up
# to it: a bulk receipt for several workflows (inbound), or a batch settlement of several payouts.
_BY_REFERENCE_GROUP = text(
    """
    WITH groups AS (
        SELECT reference, currency, direction, sum(amount_minor) AS total, array_agg(id ORDER BY id) AS ids,
               1 AS priority
        FROM expectations
        WHERE link_id = :link_id AND status = 'open' AND reference IS NOT NULL AND jsonb_array_length(items) = 0
            AND batch_id IS NULL AND source <> 'card_settlement'
        GROUP BY reference, currency, direction
        HAVING count(*) > 1
        UNION ALL
        -- A formed batch settles for its members still open (a cancelled member left it).
        SELECT b.reference, b.currency, e.direction, sum(e.amount_minor), array_agg(e.id ORDER BY e.id), 0
        FROM batches b JOIN expectations e ON e.batch_id = b.id AND e.status = 'open'
        WHERE b.link_id = :link_id AND b.status = 'open'
        GROUP BY b.id, b.reference, b.currency, e.direction
    ), tx AS (
        SELECT id, reference, amount_minor, currency, direction,
               count(*) OVER (PARTITION BY reference, currency, direction) AS n
        FROM external_transactions
        WHERE link_id = :link_id AND status = 'unreconciled' AND reference IS NOT NULL AND NOT held_for_review
    )
    SELECT DISTINCT ON (tx.id) tx.id AS tx_id, groups.ids AS ex_ids, tx.direction
    FROM tx JOIN groups ON groups.reference = tx.reference AND groups.currency = tx.currency
        AND groups.direction = tx.direction AND groups.total = tx.amount_minor
    WHERE tx.n = 1
    ORDER BY tx.id, groups.priority
    """
)

# What references could not pair: the same amount, currency and direction within the link's date
# window, nearest dates first, each side used once. Not for expectations whose reference the rail
# always echoes (a payout's withdrawal id, a top-up's id): the rail's report can arrive before the
# event that creates its expectation (two topics), and pairing it by amount with another user's
# payout would settle the wrong payment.
_BY_AMOUNT_AND_DATE = text(
    """
    WITH tx AS (
        SELECT id, amount_minor, currency, direction, booked_at::date AS on_day,
               row_number() OVER (PARTITION BY amount_minor, currency, direction ORDER BY booked_at, id) rn
        FROM external_transactions
        WHERE link_id = :link_id AND status = 'unreconciled' AND NOT held_for_review
            AND coalesce(reference, '') NOT LIKE 'reversal:%'
    ), ex AS (
        SELECT id, amount_minor, currency, direction, coalesce(expected_on, created_at::date) AS on_day,
               jsonb_array_length(items) > 0 AS bulk, source = 'card_settlement' AS card,
               row_number() OVER (
                   PARTITION BY amount_minor, currency, direction ORDER BY coalesce(expected_on, created_at::date), id
               ) rn
        FROM expectations
        WHERE link_id = :link_id AND status = 'open' AND batch_id IS NULL AND source NOT IN ('payout', 'topup')
    )
    SELECT tx.id AS tx_id, ex.id AS ex_id, ex.bulk, ex.card
    FROM tx JOIN ex USING (amount_minor, currency, direction, rn)
    WHERE abs(tx.on_day - ex.on_day) <= :window_days
    """
)

# The bank reversing a settled payment or batch: a transaction in the other direction for the same
# amount whose reference is the settled one's (or `reversal:<it>`), against a posted match not yet
# reversed. Each side is used once (the caller keeps the first pairing of each).
_REVERSALS = text(
    """
    SELECT r.id AS tx_id, m.id AS match_id, m.expectation_ids
    FROM external_transactions r
    JOIN external_transactions o ON o.link_id = r.link_id AND o.status = 'reconciled'
        AND o.direction <> r.direction AND o.currency = r.currency AND o.amount_minor = r.amount_minor
        AND (r.reference = o.reference OR r.reference = 'reversal:' || o.reference)
    JOIN matches m ON m.id = o.match_id AND m.status = 'posted' AND m.strategy IN ('one_to_one', 'one_to_many')
        AND m.reverses_match_id IS NULL
    WHERE r.link_id = :link_id AND r.status = 'unreconciled' AND r.reference IS NOT NULL AND NOT r.held_for_review
        AND NOT EXISTS (
            SELECT 1 FROM matches x WHERE x.reverses_match_id = m.id AND x.status IN ('matched', 'posted')
        )
    ORDER BY r.booked_at, r.id, m.id
    """
)


# Rule 4, single-purpose routes (a virtual account, a paybill number): inbound money on such a link
# that no expectation explained belongs to the link's route account. Each transaction gets its own
# expectation (source `route`, unique per transaction, so a second run adds none), paired one to one.
_UNEXPLAINED_INBOUND = text(
    """
    SELECT id FROM external_transactions
    WHERE link_id = :link_id AND status = 'unreconciled' AND direction = 'inbound' AND NOT held_for_review
        AND coalesce(reference, '') NOT LIKE 'reversal:%'
    ORDER BY booked_at, id
    """
)
_ROUTED_EXPECTATIONS = text(
    """
    INSERT INTO expectations (id, link_id, direction, amount_minor, currency, reference, expected_on,
                              account_path, source, source_id, status, initiation_status, created_at, updated_at)
    SELECT n.id, t.link_id, 'inbound', t.amount_minor, t.currency, t.reference, t.booked_at::date,
           :account_path, :source, t.id, 'open', 'none', :now, :now
    FROM unnest(CAST(:ids AS text[]), CAST(:tx_ids AS text[])) AS n(id, tx_id)
    JOIN external_transactions t ON t.id = n.tx_id
    ON CONFLICT (source, source_id) DO NOTHING
    RETURNING source_id AS tx_id, id AS ex_id
    """
)


def _match(row: MatchRow) -> Match:
    return Match(
        id=row.id,
        link_id=row.link_id,
        strategy=Strategy(row.strategy),
        rule=Rule(row.rule),
        external_transaction_ids=tuple(row.external_transaction_ids),
        expectation_ids=tuple(row.expectation_ids),
        status=MatchStatus(row.status),
        created_by=row.created_by,
        reason=row.reason,
        entry_iks=tuple(row.entry_iks),
        posted_at=row.posted_at,
        failure=row.failure,
        reverses_match_id=row.reverses_match_id,
        created_at=row.created_at,
        updated_at=repaired_updated_at("match", row.id, row.created_at, row.updated_at),
    )


def _one_to_one(bulk: bool, card: bool) -> Strategy:
    if card:
        return Strategy.CARD_SETTLEMENT
    return Strategy.BULK_SPLIT if bulk else Strategy.ONE_TO_ONE


class SqlMatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_link(self, link_id: str) -> None:
        """One matching run per link at a time (until the transaction ends)."""
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"recon-link:{link_id}"}
        )

    async def candidates_by_reference(self, link_id: str) -> list[Candidate]:
        rows = await self._session.execute(_BY_REFERENCE, {"link_id": link_id})
        return [Candidate((tx,), (ex,), _one_to_one(bulk, card), Rule.REFERENCE) for tx, ex, bulk, card in rows]

    async def candidates_by_reference_group(self, link_id: str) -> list[Candidate]:
        rows = await self._session.execute(_BY_REFERENCE_GROUP, {"link_id": link_id})
        return [
            Candidate(
                (tx,),
                tuple(ids),
                Strategy.MANY_TO_ONE if direction == "inbound" else Strategy.ONE_TO_MANY,
                Rule.REFERENCE_GROUP,
            )
            for tx, ids, direction in rows
        ]

    async def candidates_by_amount_and_date(self, link_id: str, window_days: int) -> list[Candidate]:
        rows = await self._session.execute(_BY_AMOUNT_AND_DATE, {"link_id": link_id, "window_days": window_days})
        return [Candidate((tx,), (ex,), _one_to_one(bulk, card), Rule.AMOUNT_DATE) for tx, ex, bulk, card in rows]

    async def candidates_by_route(
        self, link_id: str, account_path: str, *, source: str, new_ids: Callable[[int], list[str]], now: datetime
    ) -> list[Candidate]:
        """Creates the routed expectations it pairs (the caller's transaction decides whether they stay)."""
        transaction_ids = list(await self._session.scalars(_UNEXPLAINED_INBOUND, {"link_id": link_id}))
        if not transaction_ids:
            return []
        rows = await self._session.execute(
            _ROUTED_EXPECTATIONS,
            {
                "ids": new_ids(len(transaction_ids)),
                "tx_ids": transaction_ids,
                "account_path": account_path,
                "source": source,
                "now": now,
            },
        )
        return [Candidate((tx,), (ex,), Strategy.ONE_TO_ONE, Rule.ROUTE) for tx, ex in rows]

    async def candidates_for_reversal(self, link_id: str) -> list[Candidate]:
        rows = await self._session.execute(_REVERSALS, {"link_id": link_id})
        used_transactions: set[str] = set()
        used_matches: set[str] = set()
        found = []
        for tx, match_id, expectation_ids in rows:
            if tx in used_transactions or match_id in used_matches:
                continue
            used_transactions.add(tx)
            used_matches.add(match_id)
            found.append(Candidate((tx,), tuple(expectation_ids), Strategy.REVERSAL, Rule.REVERSAL, match_id))
        return found

    async def add_many(self, matches: Sequence[Match]) -> None:
        if not matches:
            return
        await self._session.execute(
            insert(MatchRow),
            [
                {
                    "id": match.id,
                    "link_id": match.link_id,
                    "strategy": match.strategy.value,
                    "rule": match.rule.value,
                    "external_transaction_ids": list(match.external_transaction_ids),
                    "expectation_ids": list(match.expectation_ids),
                    "entry_iks": list(match.entry_iks),
                    "status": match.status.value,
                    "created_by": match.created_by,
                    "reason": match.reason,
                    "posted_at": match.posted_at,
                    "failure": match.failure,
                    "reverses_match_id": match.reverses_match_id,
                    "created_at": match.created_at,
                    "updated_at": match.updated_at,
                }
                for match in matches
            ],
        )

    async def get(self, match_id: str, *, for_update: bool = False) -> Match | None:
        query = select(MatchRow).where(MatchRow.id == match_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return _match(row) if row is not None else None

    async def list(self, *, link_id: str | None, starting_after: str | None, limit: int) -> Sequence[Match]:
        query = select(MatchRow).order_by(MatchRow.id).limit(limit)
        if link_id is not None:
            query = query.where(MatchRow.link_id == link_id)
        if starting_after is not None:
            query = query.where(MatchRow.id > starting_after)
        return [_match(row) for row in await self._session.scalars(query)]

    async def unposted(self, limit: int, *, link_id: str | None = None) -> Sequence[Match]:
        query = select(MatchRow).where(MatchRow.status == MatchStatus.MATCHED.value).order_by(MatchRow.id).limit(limit)
        if link_id is not None:
            query = query.where(MatchRow.link_id == link_id)
        return [_match(row) for row in await self._session.scalars(query)]

    async def set_status(
        self,
        match_id: str,
        status: MatchStatus,
        now: datetime,
        *,
        entry_iks: Sequence[str] = (),
        failure: str | None = None,
    ) -> None:
        values: dict[str, object] = {
            "status": status.value,
            "failure": failure,
            "updated_at": updated_at_not_before_creation(MatchRow.created_at, now),
        }
        if status is MatchStatus.POSTED:
            values["posted_at"] = now
            values["entry_iks"] = list(entry_iks)
        await self._session.execute(update(MatchRow).where(MatchRow.id == match_id).values(**values))
        self._session.expire_all()
