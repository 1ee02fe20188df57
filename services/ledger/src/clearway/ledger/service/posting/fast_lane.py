"""Step 3's fast lane: a batch of plain transfers posted on balances held in memory and written in
one statement that commits by itself.

The locked path (`executor.py`) spends five round trips on a batch (begin, look up references,
lock the balances, write, commit) and holds its row locks while Python posts, so at a few
transfers a batch the round trips, not the posting, set the pace, and a second batch waits on the
first's locks. Here a batch of transfers between existing, unmonitored balances is posted on the
balances as this process last left them (`BalanceCache`, read without locks on a miss) and written
at the versions it posted on (`FastLaneStore.write_postings_at_versions`): one round trip, no lock
held while Python runs, and a batch can be posted while the previous one is still being written,
on the balances that one will leave.

Whatever the fast lane cannot be sure of goes to the locked path, which decides it as before: a
balance that moved since it was read (another instance, the locked path, a batch that failed), a
reference that already exists (a replay, which the locked path answers), a monitor, a hold, an
internal `@` balance, anything but a transfer, a transfer refused with an error (it may be a replay,
which the locked path answers before any refusal). Nothing is written then, since the statement is
all or nothing, so the locked path starts from the store as it was.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter

from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.errors import LedgerError
from clearway.ledger.domain.tenancy import BalanceOwner
from clearway.ledger.domain.transactions import is_internal_identifier
from clearway.ledger.service.ports import FastLaneStore
from clearway.ledger.service.posting.operations import Operation, OperationResult, Transfer
from clearway.ledger.service.posting.state import BatchState
from clearway.ledger.service.posting.transfers import apply_transfer

logger = logging.getLogger(__name__)

CACHED_BALANCES_MAX = 100_000

fast_lane_batches = Counter(
    "clearway_ledger_fast_lane_batches",
    "Batches the fast lane was offered, by how they ended",
    ["outcome"],  # written | declined | conflict
)


class BalanceCache:
    """Balances as this process last read or wrote them, each at the version the store holds (or
    will hold once the write in flight commits), with its owner and whether it has monitors; and,
    for each balance a write in flight posted on, that write (a later batch's write waits for it).

    An entry may be stale (another writer, a write that failed): the fast lane's write then fails
    on the version and the entry is forgotten, so a stale entry costs a retry, never money. The
    cache is bounded: past `capacity` the oldest entries go.
    """

    def __init__(self, capacity: int = CACHED_BALANCES_MAX) -> None:
        assert capacity > 0
        self._capacity = capacity
        self._states: dict[str, BalanceState] = {}
        self._owners: dict[str, BalanceOwner] = {}
        self._monitored: set[str] = set()
        self._writing: dict[str, asyncio.Future[bool]] = {}

    def __len__(self) -> int:
        return len(self._states)

    def missing(self, balance_ids: Iterable[str]) -> list[str]:
        return [balance_id for balance_id in balance_ids if balance_id not in self._states]

    def fill(self, states: dict[str, BalanceState], owners: dict[str, BalanceOwner], monitored: set[str]) -> None:
        """Add what was read, keeping any entry a batch staged while the read was in flight (newer)."""
        for balance_id, state in states.items():
            if balance_id not in self._states:
                self._states[balance_id] = state
                self._owners[balance_id] = owners[balance_id]
        self._monitored |= monitored
        self._trim()

    def take(self, balance_ids: Iterable[str]) -> tuple[dict[str, BalanceState], dict[str, BalanceOwner]] | None:
        """Copies to post on (those that exist), or None when one has a monitor."""
        states: dict[str, BalanceState] = {}
        owners: dict[str, BalanceOwner] = {}
        for balance_id in balance_ids:
            if balance_id in self._monitored:
                return None
            state = self._states.get(balance_id)
            if state is not None:
                states[balance_id] = state.copy()
                owners[balance_id] = self._owners[balance_id]
        return states, owners

    def stage(
        self, posted_on: Iterable[str], touched: Sequence[BalanceState], write: asyncio.Future[bool]
    ) -> set[asyncio.Future[bool]]:
        """What a batch leaves, at the version its write will give them (the next batch posts on it);
        answers the writes in flight this one must wait for (those that posted on its balances)."""
        earlier = {self._writing[balance_id] for balance_id in posted_on if balance_id in self._writing}
        for balance_id in posted_on:
            self._writing[balance_id] = write
        for state in touched:
            staged = state.copy()
            staged.version += 1
            staged.touched = False
            self._states[state.balance_id] = staged
        return earlier

    def written(self, posted_on: Iterable[str], write: asyncio.Future[bool]) -> None:
        """A write ended: later batches no longer wait for it."""
        for balance_id in posted_on:
            if self._writing.get(balance_id) is write:
                del self._writing[balance_id]

    def monitored(self, balance_ids: Iterable[str]) -> bool:
        """Whether one of these is known to have a monitor (the locked path posts on it, unread here)."""
        return not self._monitored.isdisjoint(balance_ids)

    def forget(self, balance_ids: Iterable[str], *, monitors_too: bool = True) -> None:
        for balance_id in balance_ids:
            self._states.pop(balance_id, None)
            self._owners.pop(balance_id, None)
            if monitors_too:
                self._monitored.discard(balance_id)

    def _trim(self) -> None:
        excess = len(self._states) - self._capacity
        if excess > 0:
            self.forget(list(itertools.islice(self._states, excess)))


@dataclass(frozen=True)
class PostedBatch:
    """A batch posted in memory and staged in the cache, until `FastLane.write` ends it."""

    results: list[OperationResult]
    batch: BatchState
    touched: list[BalanceState]
    read_versions: dict[str, int]  # every balance the batch posted on, at the version it read
    balance_ids: set[str]  # every balance the batch named (some may not exist)
    written: asyncio.Future[bool]  # resolved when its write ends: True once committed
    earlier: set[asyncio.Future[bool]]  # the writes in flight it posted on


class FastLane:
    def __init__(
        self,
        store: FastLaneStore,
        cache: BalanceCache,
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[str], str],
    ) -> None:
        self._store = store
        self._cache = cache
        self._clock = clock
        self._new_id = new_id

    def forget(self, balance_ids: Iterable[str]) -> None:
        """Balances the locked path changed: read them again before posting on them (a monitor, once
        seen, stays known: monitors are not deleted, and a batch on one goes to the locked path unread)."""
        self._cache.forget(balance_ids, monitors_too=False)

    async def run(self, operations: Sequence[Operation]) -> list[OperationResult] | None:
        """The batch's results once written and committed, or None when the locked path must run it
        (nothing of it was written then)."""
        posted = await self.post(operations)
        return None if posted is None else await self.write(posted)

    async def post(self, operations: Sequence[Operation]) -> PostedBatch | None:
        """Post the batch in memory on the cached balances and stage what it leaves (the next batch
        posts on that); None, with nothing staged, when the locked path must run it. The caller must
        `write` what this answers (or the batches staged after it wait for good)."""
        transfers = [op for op in operations if isinstance(op, Transfer) and not op.request.inflight]
        if len(transfers) < len(operations):  # holds and anything but a transfer
            fast_lane_batches.labels("declined").inc()
            return None
        balance_ids = {identifier for transfer in transfers for identifier in transfer.request.identifiers()}
        if any(is_internal_identifier(identifier) for identifier in balance_ids) or self._cache.monitored(balance_ids):
            fast_lane_batches.labels("declined").inc()
            return None
        missing = self._cache.missing(balance_ids)
        if missing:
            self._cache.fill(*await self._store.read_owned_balances(missing))
        # From here until `stage` nothing awaits, so no other batch posts on these balances meanwhile.
        taken = self._cache.take(balance_ids)
        if taken is None:
            fast_lane_batches.labels("declined").inc()
            return None
        batch = BatchState(None, now=self._clock(), new_id=self._new_id)
        batch.balances, batch.owners = taken
        try:
            results = [apply_transfer(batch, transfer.request, transfer.tenant) for transfer in transfers]
        except LedgerError:
            # The locked path answers a replayed reference before any refusal, and only it can tell
            # a replay here: it decides the batch (each refusal stays its transfer's own there).
            fast_lane_batches.labels("declined").inc()
            return None
        read_versions = {balance_id: state.version for balance_id, state in batch.balances.items()}
        touched = [state for state in batch.balances.values() if state.touched]
        written: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        earlier = self._cache.stage(read_versions, touched, written)
        return PostedBatch(results, batch, touched, read_versions, balance_ids, written, earlier)

    async def write(
        self, posted: PostedBatch, *, after: asyncio.Future[bool] | None = None
    ) -> list[OperationResult] | None:
        """Write a posted batch once the writes it posted on (and `after`, when given) are written;
        None, with nothing written, when one of them was not or the store refused this one."""
        written = False
        waits = posted.earlier if after is None else {*posted.earlier, after}
        try:
            # Writes that posted on the same balances reach the store in the order they were posted,
            # or the later one would find the balance behind the version it expects.
            # (Shielded: a waiter cancelled must not cancel the write it waits for.)
            written = all([await asyncio.shield(previous) for previous in waits]) and await self._write(posted)
        finally:
            self.settle(posted, written=written)
        if not written:
            fast_lane_batches.labels("conflict").inc()
            return None
        fast_lane_batches.labels("written").inc()
        return posted.results

    def settle(self, posted: PostedBatch, *, written: bool = False) -> None:
        """The end of a posted batch's write (or of a batch whose write never ran: not written).
        Batches that wait for it go on; when not written, what it read and staged is forgotten, and
        the locked path decides (a stale entry, a failed write before it, a replay, a monitor)."""
        if posted.written.done():
            return
        posted.written.set_result(written)
        self._cache.written(posted.read_versions, posted.written)
        if not written:
            self._cache.forget(posted.balance_ids)

    async def _write(self, posted: PostedBatch) -> bool:
        batch = posted.batch
        writes = batch.writes
        try:
            await self._store.write_postings_at_versions(
                writes.records, writes.lines, batch.now, posted.touched, writes.outbox, posted.read_versions
            )
        except self._store.conflict_errors as error:
            logger.debug("fast lane batch conflicted, taking the locked path", extra={"error": type(error).__name__})
            return False
        return True
