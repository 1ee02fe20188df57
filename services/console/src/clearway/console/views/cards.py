"""Authorization's card accounts: live figures, cards, authorizations with decisions and reasons,
statements (the PDF is passed through from the service)."""

from __future__ import annotations

import asyncio
from typing import Any

from clearway.console.adapters.services_api import ServicesApi
from clearway.console.views.pages import ListSource

AUTHORIZATIONS_PER_CARD = 25
STATEMENTS_SHOWN = 24


ACCOUNTS = ListSource("authorization", "/card-accounts", "/cards/accounts")


async def account(api: ServicesApi, key: str, card_account_id: str) -> dict[str, Any]:
    """The account with its live figures, its cards, their latest authorizations and its statements."""
    found, cards, statements = await asyncio.gather(
        api.get("authorization", f"/card-accounts/{card_account_id}", key),
        api.get("authorization", f"/card-accounts/{card_account_id}/cards", key),
        api.get("authorization", f"/card-accounts/{card_account_id}/statements", key, {"limit": STATEMENTS_SHOWN}),
    )
    card_rows = cards["data"]
    per_card = await asyncio.gather(
        *(
            api.get("authorization", "/authorizations", key, {"card_id": card["id"], "limit": AUTHORIZATIONS_PER_CARD})
            for card in card_rows
        )
    )
    authorizations = sorted(
        (item for answer in per_card for item in answer["data"]), key=lambda item: item["requested_at"], reverse=True
    )
    return {"account": found, "cards": card_rows, "authorizations": authorizations, "statements": statements["data"]}


async def statement_pdf(api: ServicesApi, key: str, card_account_id: str, number: int) -> bytes:
    return await api.get_document(
        "authorization", f"/card-accounts/{card_account_id}/statements/{number}", key, "application/pdf"
    )
