"""The root of every provider error (mobile money, bank files).

Callers branch on the class (or its stable `code`), never on message text. `retryable` tells a
caller whether sending the same call again is safe and may help.
"""

from __future__ import annotations

from typing import ClassVar


class ProviderError(Exception):
    code: ClassVar[str] = "PROVIDER_ERROR"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, provider_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The rail's own error code (Daraja `errorCode`, e.g. "400.002.02"), for logs and support.
        self.provider_code = provider_code
