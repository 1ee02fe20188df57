"""Bank-payout errors: each a `ProviderError` with a stable `code`, and a ValueError (map to 422)."""

from __future__ import annotations

from clearway.providers.errors import ProviderError


class InvalidBankAccount(ProviderError, ValueError):
    """An account identifier we cannot pay to. Catch this; read `.code` for which part is wrong."""

    code = "INVALID_BANK_ACCOUNT"


class InvalidIban(InvalidBankAccount):
    code = "INVALID_IBAN"


class InvalidBic(InvalidBankAccount):
    code = "INVALID_BIC"


class InvalidCreditTransfer(ProviderError, ValueError):
    """A payment file that the scheme would refuse (not EUR, an id too long, ...); nothing was written."""

    code = "INVALID_CREDIT_TRANSFER"
