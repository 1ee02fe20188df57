"""A page of a service's cursor-paginated list, and the URL of the next one (state stays in the URL).

Every list page is the same three steps: ask the service for one page with the page's filters and
cursor, remember the filters in the next page's URL, render. `list_page` does the first two for a
`ListSource`; a route renders what it returns (`entrypoints/web.render_list`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from clearway.console.adapters.services_api import ServicesApi

PAGE_SIZE = 25


@dataclass(frozen=True)
class ListPage:
    rows: list[dict[str, Any]]
    has_more: bool
    next_url: str | None
    first_url: str | None  # set when this is not the first page

    @classmethod
    def of(
        cls, answer: Mapping[str, Any], path: str, filters: Mapping[str, str | None], cursor: str | None
    ) -> ListPage:
        rows = list(answer.get("data", []))
        has_more = bool(answer.get("has_more"))
        kept = {name: value for name, value in filters.items() if value not in (None, "")}
        next_url = f"{path}?{urlencode({**kept, 'starting_after': rows[-1]['id']})}" if has_more and rows else None
        first_url = f"{path}?{urlencode(kept)}" if cursor else None
        return cls(rows=rows, has_more=has_more, next_url=next_url, first_url=first_url)


@dataclass(frozen=True)
class ListSource:
    """A service's cursor-paginated list (`api_path`) and the console page that shows it (`page_path`).
    `page_params` are kept in the page's URLs but not sent to the service (which service it is)."""

    service: str
    api_path: str
    page_path: str
    page_params: tuple[tuple[str, str], ...] = ()


async def list_page(
    api: ServicesApi, key: str, source: ListSource, filters: Mapping[str, str | None], cursor: str | None
) -> ListPage:
    """One page of `source` with `filters` (an empty one is left out, from the call and the URLs)."""
    answer = await api.get(
        source.service, source.api_path, key, {**filters, "starting_after": cursor, "limit": PAGE_SIZE}
    )
    return ListPage.of(answer, source.page_path, {**dict(source.page_params), **filters}, cursor)
