"""What the sandbox's simulated customer does with a prompt, chosen per phone or per next request."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from clearway.providers.mobile_money.result_codes import ResultCode

SCENARIO_DELAY_MS_MAX = 10 * 60 * 1000
PHONE_SCENARIOS_MAX = 10_000
NEXT_SCENARIOS_MAX = 1_000


class SandboxOutcome(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    TIMEOUT = "timeout"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    LOST_CALLBACK = "lost_callback"
    """The customer approves and pays, but the callback never arrives: only a status query tells."""

    @property
    def result_code(self) -> ResultCode:
        return _RESULT_CODES[self]

    @property
    def b2c_result_code(self) -> ResultCode:
        """For a payout: `timeout` expires queued (a timeout notice, then status "expired")."""
        return _B2C_RESULT_CODES[self]

    @property
    def sends_callback(self) -> bool:
        return self is not SandboxOutcome.LOST_CALLBACK


_RESULT_CODES = {
    SandboxOutcome.APPROVE: ResultCode.SUCCESS,
    SandboxOutcome.DECLINE: ResultCode.CANCELLED_BY_USER,
    SandboxOutcome.TIMEOUT: ResultCode.UNREACHABLE,
    SandboxOutcome.INSUFFICIENT_FUNDS: ResultCode.INSUFFICIENT_BALANCE,
    SandboxOutcome.LOST_CALLBACK: ResultCode.SUCCESS,
}

_B2C_RESULT_CODES = {
    SandboxOutcome.APPROVE: ResultCode.SUCCESS,
    SandboxOutcome.DECLINE: ResultCode.RECIPIENT_NOT_REGISTERED,
    SandboxOutcome.TIMEOUT: ResultCode.EXPIRED,
    SandboxOutcome.INSUFFICIENT_FUNDS: ResultCode.INSUFFICIENT_BALANCE,
    SandboxOutcome.LOST_CALLBACK: ResultCode.SUCCESS,
}


@dataclass(frozen=True, slots=True)
class Scenario:
    outcome: SandboxOutcome
    # How long the simulated customer takes to answer; the callback (if any) comes then.
    delay_ms: int = 0

    def __post_init__(self) -> None:
        assert 0 <= self.delay_ms <= SCENARIO_DELAY_MS_MAX, f"delay_ms must be 0..{SCENARIO_DELAY_MS_MAX}"


class ScenarioBook:
    """Next-request scenarios win (used once each, in order), then the phone's, then the default."""

    def __init__(self, default: Scenario) -> None:
        self.default = default
        self._by_phone: dict[str, Scenario] = {}
        self._next: deque[Scenario] = deque()

    def set_for_phone(self, phone_e164: str, scenario: Scenario) -> None:
        if phone_e164 not in self._by_phone and len(self._by_phone) >= PHONE_SCENARIOS_MAX:
            raise OverflowError(f"at most {PHONE_SCENARIOS_MAX} phone scenarios; clear some first")
        self._by_phone[phone_e164] = scenario

    def queue_next(self, scenario: Scenario) -> None:
        if len(self._next) >= NEXT_SCENARIOS_MAX:
            raise OverflowError(f"at most {NEXT_SCENARIOS_MAX} queued scenarios")
        self._next.append(scenario)

    def clear(self) -> None:
        self._by_phone.clear()
        self._next.clear()

    def take(self, phone_e164: str) -> Scenario:
        if self._next:
            return self._next.popleft()
        return self._by_phone.get(phone_e164, self.default)
