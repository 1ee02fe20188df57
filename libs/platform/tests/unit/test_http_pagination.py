from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Query
from pydantic import BaseModel, ValidationError

from clearway.platform.http import create_http_app
from clearway.platform.pagination import Page, PageParams, paginate
from clearway.platform.settings import ServiceSettings


class Item(BaseModel):
    id: str


ITEMS = [Item(id=f"itm_{number:03d}") for number in range(7)]

router = APIRouter()


@router.get("/items")
async def list_items(page: Annotated[PageParams, Query()]) -> Page[Item]:
    after = [item for item in ITEMS if page.starting_after is None or item.id > page.starting_after]
    return Page.from_overfetch(after[: page.fetch_limit], page.limit)


def test_page_params_bounds() -> None:
    assert PageParams().limit == 20
    assert PageParams(limit=100).fetch_limit == 101
    for limit in (0, 101):
        with pytest.raises(ValidationError):
            PageParams(limit=limit)


def test_page_from_overfetch_reports_has_more() -> None:
    assert Page.from_overfetch(ITEMS[:3], 2) == Page(data=ITEMS[:2], has_more=True)
    assert Page.from_overfetch(ITEMS[:2], 2) == Page(data=ITEMS[:2], has_more=False)
    assert paginate([], 5).model_dump() == {"data": [], "has_more": False}


async def test_cursor_pages_over_http() -> None:
    app = create_http_app(settings=ServiceSettings(), title="t", version="0", routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        seen: list[str] = []
        cursor: str | None = None
        for _page in range(10):
            params: dict[str, str | int] = {"limit": 3}
            if cursor:
                params["starting_after"] = cursor
            body = (await client.get("/items", params=params)).json()
            seen.extend(item["id"] for item in body["data"])
            if not body["has_more"]:
                break
            cursor = body["data"][-1]["id"]
        assert seen == [item.id for item in ITEMS]
        refused = await client.get("/items", params={"limit": 500})
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "query.limit"
