"""An in-memory M-Pesa simulator and its HTTP control API, for development and tests."""

from clearway.providers.mobile_money.sandbox.provider import SandboxProvider, SandboxRequest
from clearway.providers.mobile_money.sandbox.router import sandbox_control_router
from clearway.providers.mobile_money.sandbox.scenarios import SandboxOutcome, Scenario

__all__ = ["SandboxOutcome", "SandboxProvider", "SandboxRequest", "Scenario", "sandbox_control_router"]
