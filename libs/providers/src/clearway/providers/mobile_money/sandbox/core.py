"""State and helpers the sandbox's C2B and B2C halves share: request records, scenarios, ids."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from clearway.providers.clock import Clock
from clearway.providers.mobile_money.callbacks import verify_callback_token
from clearway.providers.mobile_money.errors import ProviderRejected
from clearway.providers.mobile_money.sandbox.scenarios import SandboxOutcome, Scenario, ScenarioBook

Deliver = Callable[[bytes], Awaitable[None]]
REQUESTS_KEPT_MAX = 10_000
RECEIPT_LENGTH = 10
UNKNOWN_REQUEST = "SANDBOX_UNKNOWN_CHECKOUT_REQUEST"


class RequestKind(StrEnum):
    C2B = "c2b"
    """An STK push: the customer pays us."""
    B2C = "b2c"
    """A payout: we pay the customer."""


@dataclass(frozen=True, slots=True)
class SandboxRequest:
    """One simulated push or payout, as the control API shows it.

    For a payout (`kind` b2c) `checkout_request_id` holds the ConversationID, `merchant_request_id`
    and `originator_conversation_id` our OriginatorConversationID, `account_reference` the remarks.
    """

    checkout_request_id: str
    merchant_request_id: str
    phone: str
    amount_minor: int
    currency: str
    account_reference: str
    outcome: SandboxOutcome
    requested_at: datetime
    answers_at: datetime
    receipt: str | None
    callbacks_delivered: int = 0
    callback_due: bool = False
    last_delivery_error: str | None = None
    kind: RequestKind = RequestKind.C2B
    originator_conversation_id: str | None = None
    reversed_at: datetime | None = None
    reversal_receipt: str | None = None

    @property
    def id(self) -> str:
        return self.checkout_request_id


class SandboxCore:
    def __init__(
        self,
        *,
        clock: Clock,
        default_scenario: Scenario,
        callback_token: str | None,
        id_prefix: str,
        default_region: str,
    ) -> None:
        assert id_prefix.isalnum() and id_prefix.isupper() and len(id_prefix) <= 4, "id_prefix: up to 4 A-Z/0-9"
        self._clock = clock
        self._callback_token = callback_token
        self._id_prefix = id_prefix
        self.default_region = default_region
        self.scenarios = ScenarioBook(default_scenario)
        self._requests: OrderedDict[str, SandboxRequest] = OrderedDict()
        # OriginatorConversationID -> ConversationID (the key of _requests) for payouts.
        self._b2c_ids: dict[str, str] = {}

    @property
    def name(self) -> str:
        return "sandbox"

    def set_phone_scenario(self, phone_e164: str, outcome: SandboxOutcome, *, delay_ms: int = 0) -> None:
        self.scenarios.set_for_phone(phone_e164, Scenario(outcome, delay_ms))

    def queue_next_scenario(self, outcome: SandboxOutcome, *, delay_ms: int = 0) -> None:
        """The next request of either kind (push or payout) takes this scenario."""
        self.scenarios.queue_next(Scenario(outcome, delay_ms))

    def requests(self) -> list[SandboxRequest]:
        """Every push and payout still kept, oldest first."""
        return list(self._requests.values())

    def request(self, request_id: str) -> SandboxRequest:
        """By CheckoutRequestID (push), ConversationID or OriginatorConversationID (payout)."""
        found = self._requests.get(request_id) or self._requests.get(self._b2c_ids.get(request_id, ""))
        if found is None:
            raise ProviderRejected("unknown sandbox request id", provider_code=UNKNOWN_REQUEST)
        return found

    def _receipt(self, unique: str) -> str:
        # M-Pesa receipts are 10 upper-case letters and digits (e.g. "PDL72WRAVZ"); the tail of a
        # ULID is its random part, so receipts of different runs and instances do not repeat.
        return f"{self._id_prefix}{unique[-(RECEIPT_LENGTH - len(self._id_prefix)) :]}"

    def _remember(self, record: SandboxRequest) -> None:
        self._requests[record.checkout_request_id] = record
        if record.originator_conversation_id is not None:
            self._b2c_ids[record.originator_conversation_id] = record.checkout_request_id
        while len(self._requests) > REQUESTS_KEPT_MAX:
            _, evicted = self._requests.popitem(last=False)
            if evicted.originator_conversation_id is not None:
                self._b2c_ids.pop(evicted.originator_conversation_id, None)

    def _update(self, request_id: str, **changes: object) -> None:
        record = self._requests.get(request_id)
        if record is not None:  # evicted while the callback was in flight: nothing left to update
            self._requests[request_id] = replace(record, **changes)  # type: ignore[arg-type]

    async def _send(self, request_id: str, deliver: Deliver, body: bytes) -> bool:
        """Send one callback body and record how it went on the request."""
        try:
            await deliver(body)
        except Exception as error:
            # Daraja does not retry a failed callback either; the status query still answers.
            self._update(request_id, last_delivery_error=f"{type(error).__name__}: {error}"[:200])
            return False
        record = self._requests.get(request_id)
        if record is not None:
            self._update(request_id, callbacks_delivered=record.callbacks_delivered + 1)
        return True

    def verify_callback_token(self, presented: str | None) -> None:
        if self._callback_token is not None:
            verify_callback_token(self._callback_token, presented)
