"""The ways to authenticate, in a service's OpenAPI document.

`clearway.platform.auth.current_principal` reads the credentials from the headers itself, so no
route declares FastAPI security schemes as dependencies (that would solve four more dependencies on
every request). This module documents them instead: on every operation whose dependencies include
`current_principal` (directly or through `require_roles`), as FastAPI would have; public operations
list none.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyHeader, HTTPBearer
from fastapi.security.base import SecurityBase

from clearway.platform.auth import current_principal

# The ways to authenticate, as /docs shows them. They are not dependencies of `current_principal`:
# FastAPI would solve four more dependencies on every request only to hand it headers it reads
# directly. Each has its own name: two schemes of one class would otherwise share one entry.
_AUTHENTICATION_SCHEMES: tuple[SecurityBase, ...] = (
    HTTPBearer(auto_error=False, scheme_name="ApiKeyBearer", description="Operator API key as a bearer token"),
    HTTPBearer(
        auto_error=False,
        scheme_name="UserToken",
        bearerFormat="JWT",
        description="End-user token (JWT; `sub` is the user's ledger identity id). Only routes that admit "
        "end users accept it, and they show the user only their own resources.",
    ),
    APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey", description="Operator API key"),
    APIKeyHeader(
        name="X-Blnk-Key", auto_error=False, scheme_name="BlnkKey", description="Operator API key (Blnk compatibility)"
    ),
)


def _authenticates(dependant: Dependant) -> bool:
    return any(
        dependency.call is current_principal or _authenticates(dependency) for dependency in dependant.dependencies
    )


def document_authentication(app: FastAPI) -> None:
    """Make the app's OpenAPI list the ways to authenticate, and name them as the security of every
    operation that authenticates (its dependencies include `current_principal` or a
    `require_roles`), as FastAPI does for security dependencies; public operations list none."""
    build_openapi = app.openapi
    requirements: list[dict[str, list[str]]] = [{scheme.scheme_name: []} for scheme in _AUTHENTICATION_SCHEMES]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build_openapi()
            authenticated = {
                (method.lower(), context.path)
                for context in iter_route_contexts(app.routes)
                if isinstance(context.original_route, APIRoute) and _authenticates(context.dependant)
                for method in context.methods or ()
            }
            for path, operations in document.get("paths", {}).items():
                for method, operation in operations.items():
                    if (method, path) in authenticated:
                        operation["security"] = requirements
            if authenticated:
                document.setdefault("components", {})["securitySchemes"] = {
                    scheme.scheme_name: jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
                    for scheme in _AUTHENTICATION_SCHEMES
                }
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
