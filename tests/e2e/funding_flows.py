"""Seed 000 (post-funding) from outside the platform: a client app on HTTP, a processor on Kafka.

Payables are created and approved, one funding invoice covers them, the payer's bank reports the
settled transfer (`transfer.created`, quoting the invoice's payment reference), the client links
the deposit, and the payees' wallets in the ledger hold the money. The ledger must stay balanced:
per currency, all balances add up to zero.

Shared by `test_funding_post_funding.py` (a platform the test starts, with duplicates, a
mismatch, a double link and a funding restart) and `demo.py` (`make demo` against `make run`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from clearway.devstack.testing import collect_pages, wait_until

from .walking_skeleton import POLL_INTERVAL_S, WAIT_TIMEOUT_S, Processor, Published, Report, new_event_id, new_transfer

HTTP_TIMEOUT_S = 30.0
LEDGER_PAGE_SIZE = 100
LEDGER_PAGES_MAX = 10_000
RECIPIENT = {"name": "Globex Finance", "email": "ap@globex.example"}
SEED_AMOUNTS_MINOR = (120_050, 99_999)


class FundingFlowApi:
    """Funding and ledger over HTTP with one API key, as a client application calls them."""

    def __init__(self, urls: Mapping[str, str], api_key: str) -> None:
        self.funding = httpx.AsyncClient(
            base_url=urls["funding"], headers={"X-API-Key": api_key}, timeout=HTTP_TIMEOUT_S
        )
        self.ledger = httpx.AsyncClient(base_url=urls["ledger"], headers={"X-API-Key": api_key}, timeout=HTTP_TIMEOUT_S)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.funding.aclose()
        await self.ledger.aclose()

    @staticmethod
    def expect_json(response: httpx.Response, *expected: int) -> dict[str, Any]:
        if response.status_code not in expected:
            raise AssertionError(
                f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
            )
        body: dict[str, Any] = response.json()
        return body

    async def new_payee(self, name: str) -> str:
        body = self.expect_json(
            await self.ledger.post("/identities", json={"identity_type": "individual", "first_name": name}), 201
        )
        return str(body["identity_id"])

    async def create_payable(
        self, payee_id: str, amount_minor: int, description: str, currency: str = "USD"
    ) -> dict[str, Any]:
        response = await self.funding.post(
            "/payable",
            json={
                "payee_id": payee_id,
                "amount_minor": amount_minor,
                "currency": currency,
                "description": description,
                "external_id": f"e2e-{uuid.uuid4().hex[:12]}",
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        return self.expect_json(response, 201)

    async def approve(self, payable_id: str) -> dict[str, Any]:
        return self.expect_json(await self.funding.put(f"/payable/{payable_id}/approve"), 200)

    async def payable(self, payable_id: str) -> dict[str, Any]:
        return self.expect_json(await self.funding.get(f"/payable/{payable_id}"), 200)

    async def create_funding(self, payable_ids: Sequence[str]) -> dict[str, Any]:
        response = await self.funding.post(
            "/funding",
            json={"payable_ids": list(payable_ids), "recipient": RECIPIENT},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        return self.expect_json(response, 201)

    async def get_funding(self, funding_id: str) -> dict[str, Any]:
        return self.expect_json(await self.funding.get(f"/funding/{funding_id}"), 200)

    async def link(self, funding_id: str, transfer_id: str) -> httpx.Response:
        return await self.funding.post(f"/funding/{funding_id}/link-deposit", json={"transfer_id": transfer_id})

    async def deposits_for(self, transfer_id: str) -> list[dict[str, Any]]:
        return await collect_pages(self.funding, "/deposits", keep=lambda item: item["transfer_id"] == transfer_id)

    async def wallet_balance_minor(self, identity_id: str, currency: str = "USD") -> int:
        response = await self.ledger.get(f"/balances/indicator/wallet:{identity_id}/currency/{currency}")
        return int(self.expect_json(response, 200)["balance"])

    async def internal_balance_minor(self, name: str, currency: str = "USD") -> int:
        response = await self.ledger.get(f"/balances/indicator/{name}/currency/{currency}")
        return int(self.expect_json(response, 200)["balance"])

    async def ledger_totals(self) -> dict[str, int]:
        """Sum of every balance per currency: zero when money was neither created nor lost."""
        totals: dict[str, int] = {}
        for page in range(LEDGER_PAGES_MAX):
            response = await self.ledger.get(
                "/balances", params={"limit": LEDGER_PAGE_SIZE, "offset": page * LEDGER_PAGE_SIZE}
            )
            balances = response.json()
            if response.status_code != 200 or not isinstance(balances, list):
                raise AssertionError(f"GET /balances: {response.status_code} {response.text}")
            for balance in balances:
                totals[balance["currency"]] = totals.get(balance["currency"], 0) + int(balance["balance"])
            if len(balances) < LEDGER_PAGE_SIZE:
                return totals
        raise AssertionError(f"more than {LEDGER_PAGES_MAX} pages of balances")


@dataclass(frozen=True)
class OpenInvoice:
    funding: dict[str, Any]
    payables: list[dict[str, Any]]
    payee_ids: list[str]

    @property
    def payment_reference(self) -> str:
        return str(self.funding["invoice"]["payment_reference"])

    @property
    def total_minor(self) -> int:
        return int(self.funding["total_minor"])


async def prepare_invoice(
    api: FundingFlowApi, report: Report, amounts_minor: Sequence[int] = SEED_AMOUNTS_MINOR
) -> OpenInvoice:
    """Steps 1-3: payables created and approved, one funding invoice for all of them."""
    payee_ids = [await api.new_payee(f"Creator {index + 1}") for index in range(len(amounts_minor))]
    payables = []
    for payee_id, amount_minor in zip(payee_ids, amounts_minor, strict=True):
        created = await api.create_payable(payee_id, amount_minor, f"Campaign work by {payee_id}")
        approved = await api.approve(created["id"])
        if approved["status"] != "approved":
            raise AssertionError(f"payable {created['id']} is {approved['status']} after approval")
        payables.append(approved)
    report(f"payables created and approved: {', '.join(p['id'] for p in payables)}")
    funding = await api.create_funding([p["id"] for p in payables])
    if funding["total_minor"] != sum(amounts_minor) or funding["status"] != "awaiting_funds":
        raise AssertionError(f"unexpected funding: {funding}")
    for payable in payables:
        if (await api.payable(payable["id"]))["status"] != "in_funding":
            raise AssertionError(f"payable {payable['id']} is not in_funding")
    invoice = funding["invoice"]
    report(
        f"funding {funding['id']}: invoice {invoice['number']} for {funding['total_minor']} USD minor units, "
        f"payment reference {invoice['payment_reference']}"
    )
    return OpenInvoice(funding=funding, payables=payables, payee_ids=payee_ids)


async def pay_invoice(
    processor: Processor, invoice: OpenInvoice, report: Report, *, amount_minor: int | None = None
) -> tuple[dict[str, Any], Published]:
    """The payer's bank settles a transfer quoting the reference; a processor reports it."""
    body = new_transfer(
        invoice.total_minor if amount_minor is None else amount_minor, reference=invoice.payment_reference
    )
    published = await processor.publish(body, event_id=new_event_id())
    report(f"processor published transfer.created {body['transfer_id']} for {body['amount_minor']} minor units")
    return body, published


async def wait_for_deposit(api: FundingFlowApi, transfer_id: str) -> dict[str, Any]:
    async def visible() -> bool:
        return bool(await api.deposits_for(transfer_id))

    await wait_until(
        visible, f"funding shows a deposit for {transfer_id}", timeout_s=WAIT_TIMEOUT_S, interval_s=POLL_INTERVAL_S
    )
    deposits = await api.deposits_for(transfer_id)
    if len(deposits) != 1:
        raise AssertionError(f"expected one deposit for {transfer_id}, found {len(deposits)}")
    return deposits[0]


async def link_and_expect_paid(api: FundingFlowApi, invoice: OpenInvoice, transfer_id: str, report: Report) -> None:
    """Step 4: link the deposit; every payable is paid and every payee's wallet holds its money."""
    funding_id = invoice.funding["id"]
    response = await api.link(funding_id, transfer_id)
    linked = api.expect_json(response, 200, 202)
    if linked["status"] != "paid_out":

        async def paid_out() -> bool:
            return (await api.get_funding(funding_id))["status"] == "paid_out"

        await wait_until(
            paid_out, f"funding {funding_id} is paid out", timeout_s=WAIT_TIMEOUT_S, interval_s=POLL_INTERVAL_S
        )
    for payable in invoice.payables:
        paid = await api.payable(payable["id"])
        if paid["status"] != "paid":
            raise AssertionError(f"payable {payable['id']} is {paid['status']} after the link")
    expected: dict[str, int] = {}
    for payable in invoice.payables:
        expected[payable["payee_id"]] = expected.get(payable["payee_id"], 0) + payable["amount_minor"]
    for payee_id, amount_minor in expected.items():
        balance = await api.wallet_balance_minor(payee_id)
        if balance != amount_minor:
            raise AssertionError(f"wallet:{payee_id} holds {balance}, expected {amount_minor}")
    clearing = await api.internal_balance_minor(f"@FundingClearing-{funding_id}")
    if clearing != 0:
        raise AssertionError(f"funding clearing balance of {funding_id} is {clearing}, not cleared")
    report(
        f"linked {transfer_id}: funding {funding_id} paid out, {len(expected)} payee wallet(s) credited, clearing at 0"
    )


async def expect_ledger_balanced(api: FundingFlowApi, report: Report) -> None:
    totals = await api.ledger_totals()
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise AssertionError(f"the ledger does not add up to zero: {unbalanced}")
    report(f"ledger balanced: every currency sums to zero ({', '.join(sorted(totals)) or 'no balances'})")


async def run_post_funding(processor: Processor, api: FundingFlowApi, report: Report) -> OpenInvoice:
    """Seed 000 end to end, the way `make demo` shows it."""
    invoice = await prepare_invoice(api, report)
    body, _published = await pay_invoice(processor, invoice, report)
    deposit = await wait_for_deposit(api, body["transfer_id"])
    if deposit["proposed_funding_id"] != invoice.funding["id"]:
        raise AssertionError(f"deposit {deposit['id']} was not proposed for {invoice.funding['id']}")
    report(f"deposit {deposit['id']} proposed for funding {invoice.funding['id']} (the reference matched)")
    await link_and_expect_paid(api, invoice, body["transfer_id"], report)
    await expect_ledger_balanced(api, report)
    return invoice
