"""The other services' HTTP APIs, called as the signed-in operator (their key on every request).

Every permission is decided by the service answering: this client only carries the operator's
key and turns a refusal into a `ServiceRefused` the pages can show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

HEALTH_TIMEOUT_S = 2.0


class ServiceRefused(Exception):
    """A service said no (4xx/5xx) or could not be reached (status 503)."""

    def __init__(self, service: str, status: int, detail: str, code: str | None = None) -> None:
        super().__init__(f"{service} answered {status}: {detail}")
        self.service = service
        self.status = status
        self.detail = detail
        self.code = code

    @property
    def is_forbidden(self) -> bool:
        return self.status == 403


@dataclass(frozen=True)
class Document:
    """A file a service renders (a CSV report, a pain.001 XML): the console passes it through."""

    content: bytes
    media_type: str
    filename: str | None  # from the service's Content-Disposition, when it names one


@dataclass(frozen=True)
class Health:
    service: str
    ready: bool
    detail: str


def _problem_detail(response: httpx.Response) -> tuple[str, str | None]:
    """The problem+json `detail` (or `title`) and `code`; plain text when the body is not JSON."""
    try:
        body = response.json()
    except ValueError:
        return (response.text[:300] or response.reason_phrase), None
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title") or response.reason_phrase
        if isinstance(detail, list):  # FastAPI's validation errors
            detail = "; ".join(str(item.get("msg", item)) for item in detail if isinstance(item, dict))
        code = body.get("code")
        return str(detail), str(code) if code else None
    return response.reason_phrase, None


def _filename(disposition: str | None) -> str | None:
    """`attachment; filename="x.csv"` -> `x.csv` (only the plain quoted form the services send)."""
    match = re.search(r'filename="([^"/\\]+)"', disposition or "")
    return match.group(1) if match else None


class ServicesApi:
    def __init__(self, urls: Mapping[str, str], client: httpx.AsyncClient) -> None:
        self._urls = dict(urls)
        self._client = client

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self._urls)

    async def get(self, service: str, path: str, api_key: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("GET", service, path, api_key, params=params)

    async def post(self, service: str, path: str, api_key: str, json: Any = None) -> Any:
        return await self._call("POST", service, path, api_key, json=json)

    async def delete(self, service: str, path: str, api_key: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("DELETE", service, path, api_key, params=params)

    async def get_document(self, service: str, path: str, api_key: str, media_type: str) -> bytes:
        """A document (a PDF statement) the service renders; the console passes it through."""
        response = await self._send("GET", service, path, api_key, headers={"Accept": media_type})
        return response.content

    async def get_file(
        self, service: str, path: str, api_key: str, params: Mapping[str, Any] | None = None
    ) -> Document:
        response = await self._send("GET", service, path, api_key, params=params)
        media_type = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        return Document(response.content, media_type, _filename(response.headers.get("content-disposition")))

    async def metrics_text(self, service: str) -> str | None:
        """The service's Prometheus exposition (`/metrics`, unauthenticated), or None when unreachable."""
        try:
            response = await self._client.get(f"{self._urls[service]}/metrics", timeout=HEALTH_TIMEOUT_S)
        except httpx.HTTPError:
            return None
        return response.text if response.status_code == 200 else None

    async def health(self, service: str) -> Health:
        try:
            response = await self._client.get(f"{self._urls[service]}/health/ready", timeout=HEALTH_TIMEOUT_S)
        except httpx.HTTPError as error:
            return Health(service, False, f"unreachable ({type(error).__name__})")
        return Health(service, response.status_code == 200, "ready" if response.status_code == 200 else "not ready")

    async def _call(
        self,
        method: str,
        service: str,
        path: str,
        api_key: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        response = await self._send(method, service, path, api_key, params=params, json=json)
        return response.json() if response.content else None

    async def _send(
        self,
        method: str,
        service: str,
        path: str,
        api_key: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        query = {name: value for name, value in (params or {}).items() if value not in (None, "")}
        try:
            response = await self._client.request(
                method,
                f"{self._urls[service]}{path}",
                params=query,
                json=json,
                headers={**(headers or {}), "X-API-Key": api_key},
            )
        except httpx.HTTPError as error:
            raise ServiceRefused(service, 503, f"{service} could not be reached ({type(error).__name__}).") from None
        if response.status_code >= 400:
            detail, code = _problem_detail(response)
            raise ServiceRefused(service, response.status_code, detail, code)
        return response
