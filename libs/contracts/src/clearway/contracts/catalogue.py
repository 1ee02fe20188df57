"""The topic catalogue: every topic with its key, partitions, schema, producer and consumers.

Services create their topics at start from this list (explicit partition counts, never auto-create),
and the AsyncAPI documents and committed JSON Schemas are generated from it. The CloudEvents `type`
of a message is its topic name.

A command topic (`<service>.<command>`) has one consumer, the owning service, and may have several
senders: `producer` names the main one and `also_produced_by` the rest.

`producers` and `consumers` are the contract. The ones whose code does not exist yet are also named
in `planned_producers` / `planned_consumers`; every other use is what the code does, and a test holds
it to the code (tests/contracts/test_catalogue_matches_wiring.py): each service's subscriptions must
be its wired consumers, the topics its code publishes its wired producers. Wiring a planned use
means moving it out of `planned_*` in the same change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from . import events as ev

SERVICES: tuple[str, ...] = ("ledger", "authorization", "funding", "payout", "reconciliation")
EXTERNAL_PROCESSOR = "external processor"
DLQ_SUFFIX = ".dlq"

PARTITIONS_HIGH_VOLUME = 12
PARTITIONS_DEFAULT = 6

TopicKind = Literal["event", "command"]


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic: its message model, partition key field, partition count and who uses it."""

    name: str
    key: str  # the body field whose value is the record key, so one aggregate's messages stay in order
    partitions: int
    schema: type[BaseModel]
    producer: str
    consumers: tuple[str, ...]
    description: str
    kind: TopicKind
    also_produced_by: tuple[str, ...] = ()
    # Services named in `producers` / `consumers` whose code does not do it yet (see the module docstring).
    planned_producers: tuple[str, ...] = ()
    planned_consumers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.partitions > 0, f"{self.name}: partitions must be positive"
        assert self.key in self.schema.model_fields, f"{self.name}: key {self.key!r} is not a schema field"
        assert not self.name.endswith(DLQ_SUFFIX), f"{self.name}: DLQ topics are derived, not catalogued"
        assert set(self.planned_producers) <= set(self.producers), f"{self.name}: a planned producer is a producer"
        assert set(self.planned_consumers) <= set(self.consumers), f"{self.name}: a planned consumer is a consumer"

    @property
    def producers(self) -> tuple[str, ...]:
        return (self.producer, *self.also_produced_by)

    @property
    def wired_producers(self) -> tuple[str, ...]:
        """The producers whose code publishes this topic today."""
        return tuple(service for service in self.producers if service not in self.planned_producers)

    @property
    def wired_consumers(self) -> tuple[str, ...]:
        """The consumers that subscribe to this topic today."""
        return tuple(service for service in self.consumers if service not in self.planned_consumers)

    @property
    def event_type(self) -> str:
        """The CloudEvents `type` attribute for messages on this topic."""
        return self.name

    @property
    def dlq(self) -> str:
        return dlq_topic(self.name)

    def message_key(self, message: BaseModel) -> str:
        """The record key for `message`: the value of its `key` field."""
        assert isinstance(message, self.schema), f"{self.name} carries {self.schema.__name__}"
        value = getattr(message, self.key)
        assert isinstance(value, str) and value, f"{self.name}: key field {self.key!r} must be a non-empty str"
        return value


def _event(
    name: str,
    key: str,
    schema: type[BaseModel],
    producer: str,
    consumers: tuple[str, ...],
    description: str,
    *,
    planned_consumers: tuple[str, ...] = (),
) -> TopicSpec:
    return TopicSpec(
        name=name,
        key=key,
        partitions=_partitions_for(name),
        schema=schema,
        producer=producer,
        consumers=consumers,
        description=description,
        kind="event",
        planned_consumers=planned_consumers,
    )


def _partitions_for(name: str) -> int:
    # Per card transaction; a network's settlement files (card.settlement.*, card.clearing_file.*) are daily.
    high_volume = name.startswith(("ledger.transaction.", "card.authorization.", "card.clearing.")) or name in (
        "transfer.created",
    )
    return PARTITIONS_HIGH_VOLUME if high_volume else PARTITIONS_DEFAULT


# Services that send ledger commands also read the outcome events of the transactions they asked for;
# none of them does either yet (`planned_*`). Funding and payout are not among them: they call the
# ledger's HTTP API and read the outcome from the response (a hold must be known placed before a
# withdrawal is accepted).
_LEDGER_TRANSACTION_SENDERS = ("authorization", "reconciliation")
_HOLD_USERS = ("authorization",)

CATALOGUE: tuple[TopicSpec, ...] = (
    # Payables and funding (seed 000), produced by funding.
    _event("payable.created", "payable_id", ev.PayableCreated, "funding", (), "A payable was created."),
    _event("payable.approved", "payable_id", ev.PayableApproved, "funding", (), "A payable was approved."),
    _event("payable.unapproved", "payable_id", ev.PayableUnapproved, "funding", (), "An approval was withdrawn."),
    _event("payable.cancelled", "payable_id", ev.PayableCancelled, "funding", (), "A payable was cancelled."),
    _event(
        "payable.paid",
        "payable_id",
        ev.PayablePaid,
        "funding",
        ("payout",),
        "A payable's money reached the payee's wallet; payout pays it out.",
    ),
    _event(
        "funding.created",
        "funding_id",
        ev.FundingCreated,
        "funding",
        ("reconciliation",),
        "A funding invoice was created; reconciliation expects its deposit.",
    ),
    _event(
        "funding.deposit_linked",
        "funding_id",
        ev.FundingDepositLinked,
        "funding",
        ("reconciliation",),
        "A settled transfer was linked to a funding as its deposit.",
    ),
    _event(
        "funding.invoice_sent",
        "funding_id",
        ev.FundingInvoiceSent,
        "funding",
        (),
        "The funding invoice was sent to its recipient.",
    ),
    _event(
        "funding.cancelled",
        "funding_id",
        ev.FundingCancelled,
        "funding",
        (),
        "A funding invoice was cancelled or expired unpaid; its payables are approved again.",
    ),
    # Wallet top-ups by mobile money (seed 001's C2B flow), produced by funding.
    _event(
        "topup.succeeded",
        "topup_id",
        ev.TopupSucceeded,
        "funding",
        ("reconciliation",),
        "A mobile-money top-up was paid and credited to the owner's wallet.",
    ),
    _event(
        "topup.failed",
        "topup_id",
        ev.TopupFailed,
        "funding",
        (),
        "A mobile-money top-up ended without money moving (declined, unreachable, refused).",
    ),
    # Withdrawals and payouts (seed 001's money-out path), produced by payout.
    _event(
        "withdrawal.requested",
        "withdrawal_id",
        ev.WithdrawalRequested,
        "payout",
        (),
        "A withdrawal's money is reserved in the wallet; it awaits approval.",
    ),
    _event(
        "withdrawal.approved",
        "withdrawal_id",
        ev.WithdrawalApproved,
        "payout",
        (),
        "A second principal (or the payable auto-approval rule) approved a withdrawal.",
    ),
    _event(
        "withdrawal.rejected",
        "withdrawal_id",
        ev.WithdrawalRejected,
        "payout",
        (),
        "A withdrawal was rejected; its reservation is released.",
    ),
    _event(
        "payout.submitted",
        "withdrawal_id",
        ev.PayoutSubmitted,
        "payout",
        ("reconciliation",),
        "A withdrawal was handed to its rail (mobile-money B2C, or a bank batch).",
    ),
    _event(
        "payout.succeeded",
        "withdrawal_id",
        ev.PayoutSucceeded,
        "payout",
        ("funding", "reconciliation"),
        "The rail paid the withdrawal; the reservation is committed to the provider's balance.",
    ),
    _event(
        "payout.failed",
        "withdrawal_id",
        ev.PayoutFailed,
        "payout",
        ("funding", "reconciliation"),
        "The rail did not pay the withdrawal; the reservation is voided.",
    ),
    _event(
        "payout.reversed",
        "withdrawal_id",
        ev.PayoutReversed,
        "payout",
        ("funding", "reconciliation"),
        "The provider reversed a paid withdrawal; the money is back in the wallet.",
    ),
    # Reconciliation (seed 003), produced by reconciliation.
    _event(
        "transfer.reconciled",
        "external_transaction_id",
        ev.TransferReconciled,
        "reconciliation",
        ("funding",),
        "An external transaction was matched and its ledger entries posted.",
    ),
    _event(
        "reconciliation.break_detected",
        "break_id",
        ev.BreakDetected,
        "reconciliation",
        (),
        "Something stayed unreconciled or disagrees (a clearing account, a balance, a cross-service check).",
    ),
    # Card authorizations (seed 002), produced by authorization.
    _event(
        "card.authorization.decided",
        "card_id",
        ev.CardAuthorizationDecided,
        "authorization",
        (),
        "Authorization approved (a ledger hold placed) or declined a processor's authorization request.",
    ),
    _event(
        "card.clearing.posted",
        "card_id",
        ev.CardClearingPosted,
        "authorization",
        (),
        "Authorization posted a clearing: the hold committed (and any difference, release and fee), or force-posted.",
    ),
    _event(
        "card.authorization.expired",
        "card_id",
        ev.CardAuthorizationExpired,
        "authorization",
        (),
        "The expiry job voided the hold of an approved authorization never cleared or reversed.",
    ),
    _event(
        "statement.closed",
        "card_account_id",
        ev.StatementClosed,
        "authorization",
        (),
        "The close-cycles job closed a card account's billing cycle: a statement and its billed-balance transfer.",
    ),
    _event(
        "card.repayment.applied",
        "card_account_id",
        ev.CardRepaymentApplied,
        "authorization",
        (),
        "A card account's repayment was posted to the ledger: its split over overdue, billed, fees and interest.",
    ),
    _event(
        "card.repayment.refused",
        "card_account_id",
        ev.CardRepaymentRefused,
        "authorization",
        (),
        "Money quoting a card account's repayment reference was not applied (another currency): nothing posted.",
    ),
    # Published by processors, banks and mobile-money providers (public contract).
    _event(
        "transfer.created",
        "transfer_id",
        ev.TransferCreated,
        EXTERNAL_PROCESSOR,
        ("funding", "reconciliation", "authorization"),
        "Money settled on (or left) one of the platform's bank or wallet accounts.",
    ),
    _event(
        "card.authorization.requested",
        "card_id",
        ev.CardAuthorizationRequested,
        EXTERNAL_PROCESSOR,
        ("authorization",),
        "A card network asks to authorize a card payment.",
    ),
    _event(
        "card.authorization.reversed",
        "card_id",
        ev.CardAuthorizationReversed,
        EXTERNAL_PROCESSOR,
        ("authorization",),
        "All or part of an authorization was reversed.",
    ),
    _event(
        "card.clearing.received",
        "card_id",
        ev.CardClearingReceived,
        EXTERNAL_PROCESSOR,
        ("authorization",),
        "The network's final amount for a card transaction.",
    ),
    _event(
        "card.settlement.received",
        "settlement_id",
        ev.CardSettlementReceived,
        EXTERNAL_PROCESSOR,
        ("reconciliation",),
        "A card network's settlement report: what the bank will receive, per clearing (seed 003 level 1-2).",
    ),
    _event(
        "card.clearing_file.received",
        "clearing_id",
        ev.CardClearingFileReceived,
        EXTERNAL_PROCESSOR,
        ("reconciliation",),
        "One clearing's file: the card transactions its settled amount is made of (seed 003 level 3).",
    ),
    # Ledger outcomes.
    _event(
        "ledger.transaction.applied",
        "transaction_id",
        ev.LedgerTransactionApplied,
        "ledger",
        _LEDGER_TRANSACTION_SENDERS,
        "A transaction moved money.",
        planned_consumers=_LEDGER_TRANSACTION_SENDERS,
    ),
    _event(
        "ledger.transaction.inflight",
        "transaction_id",
        ev.LedgerTransactionInflight,
        "ledger",
        _HOLD_USERS,
        "A hold was placed.",
        planned_consumers=_HOLD_USERS,
    ),
    _event(
        "ledger.transaction.committed",
        "transaction_id",
        ev.LedgerTransactionCommitted,
        "ledger",
        _HOLD_USERS,
        "A hold was committed, fully or partly.",
        planned_consumers=_HOLD_USERS,
    ),
    _event(
        "ledger.transaction.voided",
        "transaction_id",
        ev.LedgerTransactionVoided,
        "ledger",
        _HOLD_USERS,
        "A hold was voided.",
        planned_consumers=_HOLD_USERS,
    ),
    _event(
        "ledger.transaction.rejected",
        "transaction_id",
        ev.LedgerTransactionRejected,
        "ledger",
        _LEDGER_TRANSACTION_SENDERS,
        "The ledger refused a transaction.",
        planned_consumers=_LEDGER_TRANSACTION_SENDERS,
    ),
    _event(
        "ledger.entry.posted",
        "ik",
        ev.LedgerEntryPosted,
        "ledger",
        ("reconciliation",),
        "A schema-driven ledger entry was posted.",
        planned_consumers=("reconciliation",),
    ),
    _event(
        "ledger.clearing.cleared",
        "balance_id",
        ev.LedgerClearingCleared,
        "ledger",
        ("reconciliation",),
        "A clearing account returned to zero.",
        planned_consumers=("reconciliation",),
    ),
    _event(
        "ledger.balance.monitor_triggered",
        "balance_id",
        ev.LedgerBalanceMonitorTriggered,
        "ledger",
        ("reconciliation",),
        "A balance crossed a monitored threshold.",
        planned_consumers=("reconciliation",),
    ),
    # Commands to the ledger.
    TopicSpec(
        name="ledger.transaction.requested",
        key="reference",
        partitions=PARTITIONS_HIGH_VOLUME,
        schema=ev.LedgerTransactionRequested,
        producer="authorization",
        also_produced_by=("reconciliation",),
        consumers=("ledger",),
        description="Asks the ledger to post a transaction (or place a hold).",
        kind="command",
        planned_producers=_LEDGER_TRANSACTION_SENDERS,
    ),
    TopicSpec(
        name="ledger.entry.requested",
        key="ik",
        partitions=PARTITIONS_DEFAULT,
        schema=ev.LedgerEntryRequested,
        producer="reconciliation",
        consumers=("ledger",),
        description="Asks the ledger to post a named entry type from its schema.",
        kind="command",
        planned_producers=("reconciliation",),
    ),
)

_BY_NAME: dict[str, TopicSpec] = {spec.name: spec for spec in CATALOGUE}
_BY_SCHEMA: dict[type[BaseModel], TopicSpec] = {spec.schema: spec for spec in CATALOGUE}
assert len(_BY_NAME) == len(CATALOGUE), "topic names must be unique"
assert len(_BY_SCHEMA) == len(CATALOGUE), "each topic must have its own schema class"


class UnknownTopicError(KeyError):
    """The name (or model) is not in the catalogue."""


def topic(name: str) -> TopicSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownTopicError(f"unknown topic {name!r}; see clearway.contracts.catalogue.CATALOGUE") from None


def topic_for_event(message: BaseModel) -> TopicSpec:
    """The topic a message model is published on (each topic has its own model class)."""
    try:
        return _BY_SCHEMA[type(message)]
    except KeyError:
        raise UnknownTopicError(f"no topic carries {type(message).__name__}") from None


def dlq_topic(name: str) -> str:
    return f"{name}{DLQ_SUFFIX}"


def all_topic_names(include_dlq: bool = True) -> list[str]:
    """Every catalogued topic, followed by their dead-letter topics when include_dlq."""
    names = [spec.name for spec in CATALOGUE]
    if include_dlq:
        names += [dlq_topic(name) for name in names]
    return names


def topics_for_service(service: str) -> tuple[TopicSpec, ...]:
    """Topics `service` produces or consumes, in catalogue order."""
    _require_service(service)
    return tuple(spec for spec in CATALOGUE if service in spec.producers or service in spec.consumers)


def produced_by(service: str, *, include_planned: bool = True) -> tuple[TopicSpec, ...]:
    """Topics `service` produces; without the planned ones when not include_planned."""
    _require_service(service)
    return tuple(spec for spec in CATALOGUE if service in (spec.producers if include_planned else spec.wired_producers))


def consumed_by(service: str, *, include_planned: bool = True) -> tuple[TopicSpec, ...]:
    """Topics `service` consumes; without the planned ones when not include_planned."""
    _require_service(service)
    return tuple(spec for spec in CATALOGUE if service in (spec.consumers if include_planned else spec.wired_consumers))


def _require_service(service: str) -> None:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
