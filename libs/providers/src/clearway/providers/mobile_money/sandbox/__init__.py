"""An in-memory M-Pesa simulator (pushes and payouts) and its HTTP control API, for development and tests."""

from clearway.providers.mobile_money.sandbox.core import RequestKind
from clearway.providers.mobile_money.sandbox.provider import Deliver, SandboxProvider, SandboxRequest
from clearway.providers.mobile_money.sandbox.router import sandbox_control_router
from clearway.providers.mobile_money.sandbox.scenarios import SandboxOutcome, Scenario

__all__ = [
    "Deliver",
    "RequestKind",
    "SandboxOutcome",
    "SandboxProvider",
    "SandboxRequest",
    "Scenario",
    "sandbox_control_router",
]
