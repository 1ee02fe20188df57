"""The JSON body guard: the NUL character (`make fuzz` found it reaching PostgreSQL as a 500 on four
routes) and oversized bodies are refused as problem+json before a route runs; anything else reaches
the route unchanged."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request

from clearway.platform.body_guard import RequestBodyGuardMiddleware, carries_lone_surrogate, carries_nul
from clearway.platform.json_documents import bounded_document


@pytest.mark.parametrize(
    ("body", "nul"),
    [
        (b'{"name": "a\\u0000b"}', True),
        (b'{"name": "a\\U0000b"}', True),
        (b'{"name": "\\u0000"}', True),
        (b'{"name": "a\\\\\\u0000"}', True),  # an escaped backslash, then the escape
        (b'{"name": "a\x00b"}', True),
        (b'{"name": "a\\\\u0000"}', False),  # an escaped backslash, then the text "u0000"
        (b'{"name": "\\u00e9t\\u00e9"}', False),
        (b'{"amount": 10000}', False),
    ],
)
def test_the_nul_character_is_found_raw_or_escaped_but_not_in_other_text(body: bytes, nul: bool) -> None:
    assert carries_nul(body) is nul


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, str]:
        return {"body": (await request.body()).decode()}

    app.add_middleware(RequestBodyGuardMiddleware, bytes_max=64)
    return app


async def test_nul_in_a_json_body_is_a_400_problem_and_other_bodies_pass_unchanged() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        refused = await client.post(
            "/echo", content=b'{"ik": "x\\u0000"}', headers={"content-type": "application/json"}
        )
        assert refused.status_code == 400
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "NUL_CHARACTER_NOT_ALLOWED"
        passed = await client.post("/echo", json={"ik": "caf\u00e9"})
        assert passed.status_code == 200 and passed.json()["body"] == '{"ik":"caf\u00e9"}'
        statement = await client.post("/echo", content=b"a\x00b", headers={"content-type": "text/csv"})
        assert statement.status_code == 200  # not JSON: the route bounds and parses its own files
        too_large = await client.post("/echo", json={"ik": "x" * 100})
        assert too_large.status_code == 413 and too_large.json()["code"] == "REQUEST_TOO_LARGE"


async def test_a_nul_in_a_query_parameter_is_a_400_problem_before_any_route() -> None:
    """Regression (found by `make fuzz`): a list's `starting_after` cursor with `%00` reached
    PostgreSQL and failed there with a 500."""
    app = _app()

    @app.get("/items")
    async def items(starting_after: str = "") -> dict[str, str]:
        return {"after": starting_after}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        refused = await client.get("/items", params={"starting_after": "a\x00b"})
        assert refused.status_code == 400 and refused.json()["code"] == "NUL_CHARACTER_NOT_ALLOWED"
        assert (await client.get("/items", params={"starting_after": "caf\u00e9"})).json() == {"after": "caf\u00e9"}


@pytest.mark.parametrize(
    ("body", "lone"),
    [
        (b'{"n": "\\ud83d\\ude00"}', False),  # a pair: one character
        (b'{"n": "\\ud83d"}', True),
        (b'{"n": "\\ude00x"}', True),
        (b'{"n": "\\ud83dx\\ude00"}', True),
    ],
)
def test_lone_surrogate_escapes_are_found_and_pairs_are_not(body: bytes, lone: bool) -> None:
    assert carries_lone_surrogate(body) is lone


@pytest.mark.parametrize(
    ("document", "accepted"),
    [
        ({"type": "card:primary", "n": [1, 2.5, None, True]}, True),
        ({"big": 11161103754368468910080}, False),  # found by `make fuzz`: not a 64-bit integer
        ({"deep": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}, False),
        ({"long": "x" * 20_000}, False),
    ],
)
def test_free_form_documents_are_bounded(document: dict[str, object], accepted: bool) -> None:
    if accepted:
        assert bounded_document(document) == document
    else:
        with pytest.raises(ValueError):
            bounded_document(document)
