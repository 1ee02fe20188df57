"""The ledger movements funding asks for, each under a reference derived from funding's own ids.

A retry, a redelivery or a restart re-sends the same reference, which the ledger answers as a
replay: money moves once in effect however often a step runs.

    deposit:  @Cash-<account_id>        -> @FundingClearing-<funding_id>   (cash side may overdraw)
    payable:  @FundingClearing-<fid>    -> wallet:<payee_id>               (clearing must cover it)
    prefund:  @FundingClearing-<fid>    -> wallet:<workspace identity>
    pay from balance: hold wallet:<workspace identity> -> wallet:<payee_id>, then commit it
    top-up:   @MobileMoney-<provider>-<currency> -> wallet:<owner>     (collection side may overdraw)
"""

from __future__ import annotations

from clearway.funding.domain.fundings import Funding
from clearway.funding.domain.payables import Payable
from clearway.funding.domain.topups import Topup
from clearway.platform.ledger.values import Posting

CASH_PREFIX = "@Cash-"
CLEARING_PREFIX = "@FundingClearing-"
COLLECTION_PREFIX = "@MobileMoney-"


def cash_balance(account_id: str) -> str:
    return f"{CASH_PREFIX}{account_id}"


def clearing_balance(funding_id: str) -> str:
    return f"{CLEARING_PREFIX}{funding_id}"


def collection_balance(provider: str, currency: str) -> str:
    """The internal balance money collected through a mobile-money `provider` comes from (it goes negative)."""
    return f"{COLLECTION_PREFIX}{provider}-{currency}"


def deposit_reference(funding_id: str, transfer_id: str) -> str:
    return f"funding:{funding_id}:deposit:{transfer_id}"


def payable_reference(funding_id: str, payable_id: str) -> str:
    return f"funding:{funding_id}:payable:{payable_id}"


def workspace_credit_reference(funding_id: str) -> str:
    return f"funding:{funding_id}:workspace"


def hold_reference(payable_id: str, attempt: int) -> str:
    """Per attempt: a REJECTED hold uses its reference up, and a later deposit must be able to try again."""
    assert attempt >= 1
    return f"funding:payable:{payable_id}:hold:{attempt}"


def commit_reference(payable_id: str, attempt: int) -> str:
    assert attempt >= 1
    return f"funding:payable:{payable_id}:commit:{attempt}"


def void_reference(payable_id: str, attempt: int) -> str:
    assert attempt >= 1
    return f"funding:payable:{payable_id}:void:{attempt}"


def deposit_posting(funding: Funding) -> Posting:
    """Cash arrived on a platform account and sits in the funding's clearing balance."""
    assert funding.deposit is not None, "only a linked funding has a deposit to post"
    return Posting(
        reference=deposit_reference(funding.id, funding.deposit.transfer_id),
        source=cash_balance(funding.deposit.account_id),
        destination=clearing_balance(funding.id),
        amount_minor=funding.total_minor,
        currency=funding.currency,
        # The cash side mirrors a bank account the ledger does not otherwise fund.
        allow_overdraft=True,
        description=f"Deposit for invoice {funding.invoice_number}",
        meta_data={
            "funding_id": funding.id,
            "transfer_id": funding.deposit.transfer_id,
            "processor": funding.deposit.processor,
        },
    )


def payable_posting(funding: Funding, payable: Payable, payee_wallet_balance_id: str) -> Posting:
    assert payable.funding_id == funding.id, "a payable is paid by its own funding"
    return Posting(
        reference=payable_reference(funding.id, payable.id),
        source=clearing_balance(funding.id),
        destination=payee_wallet_balance_id,
        amount_minor=payable.amount_minor,
        currency=payable.currency,
        allow_overdraft=False,
        description=f"Payable {payable.id} ({funding.invoice_number})",
        meta_data={"funding_id": funding.id, "payable_id": payable.id, "payee_id": payable.payee_id},
    )


def workspace_credit_posting(funding: Funding, workspace_wallet_balance_id: str) -> Posting:
    return Posting(
        reference=workspace_credit_reference(funding.id),
        source=clearing_balance(funding.id),
        destination=workspace_wallet_balance_id,
        amount_minor=funding.total_minor,
        currency=funding.currency,
        allow_overdraft=False,
        description=f"Pre-funding {funding.invoice_number}",
        meta_data={"funding_id": funding.id, "workspace_id": funding.workspace_id},
    )


def hold_posting(payable: Payable, workspace_wallet_balance_id: str, payee_wallet_balance_id: str) -> Posting:
    return Posting(
        reference=hold_reference(payable.id, payable.pay_attempts),
        source=workspace_wallet_balance_id,
        destination=payee_wallet_balance_id,
        amount_minor=payable.amount_minor,
        currency=payable.currency,
        allow_overdraft=False,
        description=f"Payable {payable.id} from the workspace balance",
        meta_data={"payable_id": payable.id, "payee_id": payable.payee_id, "workspace_id": payable.workspace_id},
        inflight=True,
    )


def topup_credit_posting(topup: Topup) -> Posting:
    """Money the provider collected lands in the wallet, once per top-up (its reference is fixed)."""
    return Posting(
        reference=topup.ledger_reference_for_credit(),
        source=collection_balance(topup.provider, topup.currency),
        destination=topup.wallet_balance_id,
        amount_minor=topup.amount_minor,
        currency=topup.currency,
        # The collection side mirrors the provider's account: it goes negative by what was collected.
        allow_overdraft=True,
        description=f"Mobile money top-up {topup.id}",
        meta_data={
            "topup_id": topup.id,
            "provider": topup.provider,
            "checkout_request_id": topup.checkout_request_id or "",
        },
    )
