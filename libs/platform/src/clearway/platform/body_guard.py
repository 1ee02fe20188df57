"""What every service refuses in a request (its URL, its JSON body) before a route sees it.

- The NUL character in the path or the query string (`%00`), for any method: no route can look it up
  in PostgreSQL (found by `make fuzz` in a list's cursor).

- The NUL character (U+0000, raw or as the JSON escape `\\u0000`): PostgreSQL cannot store it in
  text, so it would surface as a 500 deep in a repository (found by `make fuzz` on four routes).
- A lone UTF-16 surrogate escape (`\\ud800` without its pair): not a character; it cannot be
  encoded to UTF-8 for the database or a log line (found by `make fuzz` in the ledger's meta_data).
- A body past `JSON_BODY_BYTES_MAX`: the API's JSON documents are small; an endless one is refused
  before it is parsed.

Other bodies (a statement file, a provider's callback) are left to their routes, which bound and
parse them themselves.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from clearway.platform.asgi_bodies import read_body, replaying_receive, send_problem
from clearway.platform.idempotency.store import MUTATING_METHODS

JSON_BODY_BYTES_MAX = 8 * 1024 * 1024
# `\u0000` preceded by an even number of backslashes: the escape itself, not an escaped backslash
# followed by the text "u0000".
_ESCAPED_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000", re.IGNORECASE)


# A high surrogate escape not followed by a low one, or a low one not preceded by a high one.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


# Both escapes start with a backslash and `u` (`U` too for the case-blind NUL pattern): a body without
# one (most bodies, and every bulk posting) skips the regular expressions, which cost a visible share
# of a 1,000-transfer bulk request's CPU (issue 13's profile).
def carries_nul(body: bytes) -> bool:
    if b"\x00" in body:
        return True
    return (b"\\u" in body or b"\\U" in body) and _ESCAPED_NUL.search(body) is not None


def carries_lone_surrogate(body: bytes) -> bool:
    return b"\\u" in body and _LONE_SURROGATE.search(body) is not None


def url_carries_nul(scope: Scope) -> bool:
    """A NUL in the path or the query (`%00`): no route can store or look it up (a query parameter
    reached PostgreSQL and failed there with a 500; found by `make fuzz`)."""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"\x00" in query or b"%00" in query


def _is_json(headers: Headers) -> bool:
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class RequestBodyGuardMiddleware:
    def __init__(self, app: ASGIApp, *, bytes_max: int = JSON_BODY_BYTES_MAX) -> None:
        self.app = app
        self.bytes_max = bytes_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and url_carries_nul(scope):
            detail = "Text in the request cannot contain the NUL character (U+0000)."
            await send_problem(scope, receive, send, 400, "NUL_CHARACTER_NOT_ALLOWED", detail)
            return
        if scope["type"] != "http" or scope["method"] not in MUTATING_METHODS or not _is_json(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, self.bytes_max)
        if body is None:
            await send_problem(scope, receive, send, 413, "REQUEST_TOO_LARGE", "The request body is too large.")
            return
        if carries_nul(body):
            detail = "Text in the request cannot contain the NUL character (U+0000)."
            await send_problem(scope, receive, send, 400, "NUL_CHARACTER_NOT_ALLOWED", detail)
            return
        if carries_lone_surrogate(body):
            detail = "Text in the request carries a lone UTF-16 surrogate escape, which is not a character."
            await send_problem(scope, receive, send, 400, "INVALID_UNICODE", detail)
            return
        await self.app(scope, replaying_receive(body, receive), send)
