"""What every ledger repository shares: the asyncpg connection it runs on, and JSON for array binds.

Each repository class holds the SQL for one table or one job; `repository.py` unites them
into the two views the call sites use, all on the same connection.

Some statements are f-strings: they splice in only constants of this package (column lists,
`tenancy_sql` predicates, a validated sort column) and `$n` placeholders; every value is bound,
never formatted in. That is why their lines carry `noqa: S608`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson


class SqlRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection


def json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
