"""What every page route shares: the templates, the signed-in session, CSRF, flashes, redirects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from clearway.console.adapters.services_api import ServicesApi
from clearway.console.formatting import age, money, time_element
from clearway.console.permissions import Action, may
from clearway.console.sessions import Session, SessionStore
from clearway.console.views.pages import ListSource, list_page

SESSION_COOKIE = "clearway_console_session"
CSRF_HEADER = "x-csrf-token"
TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
TEMPLATES.env.filters["money"] = money
TEMPLATES.env.filters["when"] = time_element
TEMPLATES.env.filters["age"] = age
TEMPLATES.env.globals["Action"] = Action


class SignInRequired(Exception):
    """No session (or an expired one): the app answers with a redirect to the sign-in page."""


class CsrfRefused(Exception):
    """A form POST without this session's token: answered 403, nothing is called."""


def sessions_of(request: Request) -> SessionStore:
    store = request.app.state.sessions
    assert isinstance(store, SessionStore)
    return store


def api_of(request: Request) -> ServicesApi:
    api = request.app.state.services_api
    assert isinstance(api, ServicesApi)
    return api


def current_session(request: Request) -> Session:
    session = sessions_of(request).get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInRequired
    return session


async def checked_session(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> Session:
    """For POSTs: the session, and the CSRF token from the form (or htmx's header) must be its own."""
    session = current_session(request)
    if not session.csrf_matches(csrf_token or request.headers.get(CSRF_HEADER)):
        raise CsrfRefused
    return session


SessionDep = Annotated[Session, Depends(current_session)]
CheckedSession = Annotated[Session, Depends(checked_session)]
Api = Annotated[ServicesApi, Depends(api_of)]
# The query parameters every list page takes: a status filter and the services' cursor.
StatusFilter = Annotated[str | None, Query(max_length=40)]
Cursor = Annotated[str | None, Query(max_length=200)]


def render(
    request: Request, template: str, session: Session | None, status_code: int = 200, **values: Any
) -> HTMLResponse:
    flashes = session.take_flashes() if session is not None else []
    context = {
        "session": session,
        "flashes": flashes,
        "may": (lambda action: may(session.roles, action)) if session is not None else (lambda _action: False),
        **values,
    }
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    # 303: the browser (and htmx) follows with a GET, so a reload never re-submits the form.
    return RedirectResponse(url, status_code=303)


async def render_list(
    request: Request,
    template: str,
    session: Session,
    api: ServicesApi,
    source: ListSource,
    filters: dict[str, str | None],
    cursor: str | None,
    **values: Any,
) -> HTMLResponse:
    """A list page: one page of `source` with `filters` (kept in the pager's URLs) as `page`."""
    page = await list_page(api, session.api_key, source, filters, cursor)
    return render(request, template, session, page=page, **values)
