"""Reading a request body once in pure ASGI middleware, and handing it on to the app unchanged.

Shared by the middlewares that must see the body before the route does (Idempotency-Key, the
request-body guard); both answer their refusals as problem+json.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from clearway.platform.errors import problem_body, problem_response, status_title


async def read_body(receive: Receive, bytes_max: int) -> bytes | None:
    """The whole body, or None once it passes `bytes_max` (the rest is not read)."""
    chunks: list[bytes] = []
    received_bytes = 0
    while True:  # bounded by bytes_max: each iteration consumes part of a finite body
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        received_bytes += len(chunk)
        if received_bytes > bytes_max:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying_receive(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, then defers to the real one."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def send_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    body = problem_body(status=status, code=code, title=status_title(status), detail=detail, instance=scope["path"])
    await problem_response(body, status=status, headers=headers)(scope, receive, send)
