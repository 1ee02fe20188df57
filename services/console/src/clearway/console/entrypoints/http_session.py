"""Sign-in with an operator API key, and sign-out.

Sign-in CSRF uses a double-submit cookie (there is no session yet to hold a token); every later
form carries the session's own token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clearway.console.entrypoints.web import SESSION_COOKIE, CheckedSession, redirect, render, sessions_of
from clearway.platform.auth import API_KEY_LENGTH_MAX, Authenticator

SIGN_IN_CSRF_COOKIE = "clearway_console_sign_in"
router = APIRouter(include_in_schema=False)


def _authenticator(request: Request) -> Authenticator:
    authenticator = request.app.state.authenticator
    assert isinstance(authenticator, Authenticator)
    return authenticator


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )


def _sign_in_page(request: Request, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", None, status_code=status_code, sign_in_token=token, error=error)
    _set_cookie(request, response, SIGN_IN_CSRF_COOKIE, token)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request) -> Response:
    if sessions_of(request).get(request.cookies.get(SESSION_COOKIE)) is not None:
        return redirect("/")
    return _sign_in_page(request)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    api_key: Annotated[str, Form(max_length=API_KEY_LENGTH_MAX)] = "",
    sign_in_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    cookie = request.cookies.get(SIGN_IN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sign_in_token.encode()):
        return _sign_in_page(request, "The sign-in form expired; please try again.", status_code=403)
    # The key is checked against the platform's key configuration (the same the services load);
    # end-user tokens are not operator keys and are refused here.
    principal = _authenticator(request).authenticate(api_key.strip())
    if principal is None:
        return _sign_in_page(request, "That is not an operator API key this platform knows.", status_code=401)
    session = sessions_of(request).create(api_key=api_key.strip(), name=principal.name, roles=principal.roles)
    response: RedirectResponse = redirect("/")
    _set_cookie(request, response, SESSION_COOKIE, session.id)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, session: CheckedSession) -> Response:
    sessions_of(request).drop(session.id)
    response = redirect("/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
