"""How the console answers what goes wrong: as pages, never as JSON problems."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clearway.console.adapters.services_api import ServiceRefused
from clearway.console.entrypoints.web import SESSION_COOKIE, CsrfRefused, SignInRequired, render, sessions_of


async def _sign_in_required(request: Request, _error: Exception) -> Response:
    if request.headers.get("hx-request"):
        # htmx would swap the sign-in page into the current one; ask it to navigate instead.
        return Response(status_code=204, headers={"HX-Redirect": "/sign-in"})
    return RedirectResponse("/sign-in", status_code=303)


async def _csrf_refused(request: Request, _error: Exception) -> HTMLResponse:
    session = sessions_of(request).get(request.cookies.get(SESSION_COOKIE))
    return render(
        request,
        "error.html",
        session,
        status_code=403,
        title="Form expired",
        message="This form was not issued to your session (or it expired). Reload the page and try again.",
    )


async def _service_refused(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, ServiceRefused)
    session = sessions_of(request).get(request.cookies.get(SESSION_COOKIE))
    title = "Not allowed" if error.is_forbidden else f"{error.service} answered {error.status}"
    message = (
        f"{error.service} refused: {error.detail} Your roles do not allow this page."
        if error.is_forbidden
        else error.detail
    )
    status = error.status if error.status in (403, 404) else 502
    return render(request, "error.html", session, status_code=status, title=title, message=message)


def install_console_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(ServiceRefused, _service_refused)
