"""The two ledger calls a top-up makes, through funding's ledger client (adapters/ledger_client.py).

The client retries network errors and 5xx a bounded number of times. That is safe here: the
wallet lookup is get-or-create by indicator, and the credit carries a deterministic reference,
so the ledger answers a repeat with the original transaction (a replay), never a second one.
"""

from __future__ import annotations

from clearway.funding.domain.postings import Posting
from clearway.funding.service.ports import Ledger, LedgerRefusedError, LedgerUnavailableError
from clearway.funding.service.topup_ports import LedgerRefused, LedgerUnavailable, WalletCredit, WalletOwnerUnknown
from clearway.platform.logging import get_logger

APPLIED = "APPLIED"
logger = get_logger("clearway.funding.topup_ledger")


class LedgerTopupWallets:
    """Implements `WalletLedger` on top of funding's `Ledger` client."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def ensure_wallet(self, identity_id: str, currency: str) -> str:
        try:
            balance = await self._ledger.ensure_wallet(identity_id, currency)
        except LedgerUnavailableError as error:
            raise LedgerUnavailable(str(error)) from error
        except LedgerRefusedError as error:
            # Without a ledger id the wallet lives in the general ledger, so a 404 names the identity.
            if error.status == 404:
                raise WalletOwnerUnknown(f"The ledger has no identity {identity_id}.") from error
            raise LedgerRefused(str(error)) from error
        assert balance.currency == currency, "the ledger answered another currency's wallet"
        return balance.balance_id

    async def credit_wallet(self, credit: WalletCredit) -> str:
        posting = Posting(
            reference=credit.reference,
            source=credit.source,
            destination=credit.destination_balance_id,
            amount_minor=credit.amount_minor,
            currency=credit.currency,
            # The source is the provider's collection balance: it goes negative by what was collected.
            allow_overdraft=True,
            description=credit.description,
            meta_data=dict(credit.meta_data),
        )
        try:
            transaction = await self._ledger.post(posting)
        except LedgerUnavailableError as error:
            raise LedgerUnavailable(str(error)) from error
        except LedgerRefusedError as error:
            raise LedgerRefused(str(error)) from error
        if transaction.status != APPLIED:
            raise LedgerRefused(f"the ledger did not apply {credit.reference}: {transaction.status}")
        logger.info(
            "wallet credited",
            reference=credit.reference,
            transaction_id=transaction.transaction_id,
            replayed=transaction.replayed,
        )
        return transaction.transaction_id
