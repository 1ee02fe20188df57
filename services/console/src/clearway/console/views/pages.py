"""A page of a service's cursor-paginated list, and the URL of the next one (state stays in the URL)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

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
