"""All ledger SQL, on asyncpg: one module per table (or job), united here into the two views call sites use.

`LedgerRepository` is the posting path: what a group-commit batch reads, locks and writes
(transactions, balances and entries, holds, monitor states, the outbox), plus the transaction
lookups of the API and the sweeper. Its reads return domain objects; its batch writes use array
binds and COPY. `CatalogRepository` is the low-volume rest, and transaction search. No SQL lives here.
"""

from __future__ import annotations

from clearway.ledger.adapters.balance_repository import BalanceCatalog, BalanceRepository
from clearway.ledger.adapters.hold_repository import HoldRepository
from clearway.ledger.adapters.ledger_identity_repository import LedgerIdentityCatalog
from clearway.ledger.adapters.monitor_repository import MonitorCatalog, MonitorRepository
from clearway.ledger.adapters.outbox_repository import OutboxRepository
from clearway.ledger.adapters.posting_write_repository import PostingWriteRepository
from clearway.ledger.adapters.transaction_repository import TransactionRepository
from clearway.ledger.adapters.transaction_search import TransactionSearch


class LedgerRepository(
    TransactionRepository,
    BalanceRepository,
    HoldRepository,
    MonitorRepository,
    OutboxRepository,
    PostingWriteRepository,
):
    """Transactions, balances and entries, holds, monitor states and the outbox, on one connection
    (a batch's writes in one statement: `PostingWriteRepository`)."""


class CatalogRepository(LedgerIdentityCatalog, BalanceCatalog, MonitorCatalog, TransactionSearch):
    """Ledgers, identities, balances and monitors: the low-volume records around the books."""
