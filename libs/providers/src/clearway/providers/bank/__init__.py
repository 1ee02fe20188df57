"""Bank payouts: IBAN/BIC validation and masking, SEPA credit-transfer files (pain.001).

See libs/providers/README.md ("Bank payouts").
"""

from clearway.providers.bank.errors import InvalidBankAccount, InvalidBic, InvalidCreditTransfer, InvalidIban
from clearway.providers.bank.iban import mask_account_number, mask_iban, normalise_bic, normalise_iban
from clearway.providers.bank.pain001 import (
    PAIN001_SCHEMA,
    SEPA_CURRENCY,
    CreditTransfer,
    Debtor,
    control_sum,
    render_pain001,
    validate_pain001,
)

__all__ = [
    "PAIN001_SCHEMA",
    "SEPA_CURRENCY",
    "CreditTransfer",
    "Debtor",
    "InvalidBankAccount",
    "InvalidBic",
    "InvalidCreditTransfer",
    "InvalidIban",
    "control_sum",
    "mask_account_number",
    "mask_iban",
    "normalise_bic",
    "normalise_iban",
    "render_pain001",
    "validate_pain001",
]
