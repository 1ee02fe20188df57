"""Message bodies: events (past tense) and commands (imperative), one model per topic."""

from .commands import LedgerEntryRequested, LedgerTransactionRequested
from .funding import FundingCancelled, FundingCreated, FundingDepositLinked, FundingInvoiceSent
from .ledger import (
    Distribution,
    EntryLine,
    LedgerBalanceMonitorTriggered,
    LedgerClearingCleared,
    LedgerEntryPosted,
    LedgerTransactionApplied,
    LedgerTransactionCommitted,
    LedgerTransactionEvent,
    LedgerTransactionInflight,
    LedgerTransactionRejected,
    LedgerTransactionStatus,
    LedgerTransactionVoided,
    MonitorCondition,
)
from .payables import (
    PayableApproved,
    PayableCancelled,
    PayableCreated,
    PayableEvent,
    PayablePaid,
    PayableUnapproved,
)
from .primitives import AmountMinor, ContractModel, CurrencyCode, SignedAmountMinor, Timestamp
from .processor import (
    CardAuthorizationRequested,
    CardAuthorizationReversed,
    CardClearingReceived,
    Counterparty,
    TransferCreated,
)
from .topups import TopupEvent, TopupFailed, TopupResolvedBy, TopupSucceeded

__all__ = [
    "AmountMinor",
    "CardAuthorizationRequested",
    "CardAuthorizationReversed",
    "CardClearingReceived",
    "ContractModel",
    "Counterparty",
    "CurrencyCode",
    "Distribution",
    "EntryLine",
    "FundingCancelled",
    "FundingCreated",
    "FundingDepositLinked",
    "FundingInvoiceSent",
    "LedgerBalanceMonitorTriggered",
    "LedgerClearingCleared",
    "LedgerEntryPosted",
    "LedgerEntryRequested",
    "LedgerTransactionApplied",
    "LedgerTransactionCommitted",
    "LedgerTransactionEvent",
    "LedgerTransactionInflight",
    "LedgerTransactionRejected",
    "LedgerTransactionRequested",
    "LedgerTransactionStatus",
    "LedgerTransactionVoided",
    "MonitorCondition",
    "PayableApproved",
    "PayableCancelled",
    "PayableCreated",
    "PayableEvent",
    "PayablePaid",
    "PayableUnapproved",
    "SignedAmountMinor",
    "Timestamp",
    "TopupEvent",
    "TopupFailed",
    "TopupResolvedBy",
    "TopupSucceeded",
    "TransferCreated",
]
