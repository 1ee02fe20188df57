"""Cursor pagination: `?limit=&starting_after=<id>` in, `{"data": [...], "has_more": bool}` out.

Ids are ULID-based and sort by creation time, so a repository pages with
`WHERE id > :starting_after ORDER BY id LIMIT :limit + 1`; the extra row tells whether
another page exists without a COUNT.

    @router.get("/withdrawals")
    async def list_withdrawals(page: Annotated[PageParams, Query()]) -> Page[Withdrawal]:
        rows = await repository.list(after=page.starting_after, limit=page.fetch_limit)
        return Page.from_overfetch(rows, page.limit)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100
CURSOR_LENGTH_MAX = 200

T = TypeVar("T")


class PageParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)
    starting_after: str | None = Field(
        default=None, min_length=1, max_length=CURSOR_LENGTH_MAX, description="Id of the last item seen"
    )

    @property
    def fetch_limit(self) -> int:
        """Rows to ask the database for: one more than a page, to learn `has_more`."""
        return self.limit + 1


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool

    @classmethod
    def from_overfetch(cls, items: Sequence[T], limit: int) -> Page[T]:
        """Build a page from up to `limit + 1` items fetched in order."""
        assert 1 <= limit <= PAGE_LIMIT_MAX, f"page limit out of range: {limit}"
        assert len(items) <= limit + 1, "fetch at most limit + 1 items"
        return cls(data=list(items[:limit]), has_more=len(items) > limit)


def paginate(items: Sequence[T], limit: int) -> Page[T]:
    return Page[T].from_overfetch(items, limit)
