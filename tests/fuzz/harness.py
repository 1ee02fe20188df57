"""Schemathesis against one service's OpenAPI, in-process: the cases are generated from the
document the app itself serves, sent through `httpx.ASGITransport` on the test's event loop (the
app's engine and consumers live there), and every response is checked.

Checks: no 5xx (`not_a_server_error`), the status, content type and body are the documented ones
(`status_code_conformance`, `content_type_conformance`, `response_schema_conformance`), and every
4xx/5xx is `application/problem+json` with a machine `code` (ours, below).

Schemathesis's own ASGI transport runs the app through Starlette's TestClient on an event loop
of its own, where the app's database pool (bound to the test's loop) cannot be used; hence the
cases are generated with `operation.as_strategy()` (Schemathesis 4.x API) in a thread and sent
through `LoopBridge`, and `case.validate_response` runs the checks on what came back.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)


def _import_all_of_schemathesis() -> None:
    """Schemathesis imports parts of itself on first use, and the cases are generated in a worker
    thread; pytest rewrites those modules (Schemathesis is a pytest plugin) with `ast.parse`, which on
    CPython 3.11.7 can fail there with "SystemError: AST constructor recursion depth mismatch" (seen
    in CI). Importing every module now, in the main thread at collection, leaves nothing to import later."""
    for module in pkgutil.walk_packages(schemathesis.__path__, f"{schemathesis.__name__}."):
        with contextlib.suppress(ImportError):  # optional integrations (allure) are not installed
            importlib.import_module(module.name)


_import_all_of_schemathesis()

PROBLEM_CONTENT_TYPE = "application/problem+json"
NOT_PROBLEM_JSON = "Error is not application/problem+json with a code"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
# Credentials come from the harness; generated ones (the OpenAPI declares the schemes) would
# replace the admin key, since `Authorization: Bearer` is read first.
AUTH_HEADERS = ("authorization", "x-api-key", "x-blnk-key")
EXAMPLES_KEPT_MAX = 3
BODY_SHOWN_MAX = 300

FuzzCase = Case[Any]
Operation = APIOperation[Any, Any, Any, Any]
Send = Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]
RunOnLoop = Callable[[Coroutine[Any, Any, httpx.Response]], httpx.Response]


@dataclasses.dataclass
class ServiceReport:
    """What one service's run did: operations fuzzed, requests sent, failures by kind."""

    service: str
    operations: int = 0
    requests: int = 0
    unsendable: int = 0
    excluded: list[str] = dataclasses.field(default_factory=list)
    failures: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    examples: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def record(self, kind: str, operation: str, detail: str) -> None:
        self.failures[kind] += 1
        shown = self.examples.setdefault(f"{kind} @ {operation}", [])
        if len(shown) < EXAMPLES_KEPT_MAX:
            shown.append(detail)

    def as_json(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "requests": self.requests,
            "unsendable_cases": self.unsendable,
            "failures": sum(self.failures.values()),
            "failures_by_kind": dict(sorted(self.failures.items())),
            "excluded": self.excluded,
            "examples": self.examples,
        }


def problem_json_failure(response: httpx.Response) -> str | None:
    """Why an error response is not a problem document with a `code`, or None when it is one."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    if content_type != PROBLEM_CONTENT_TYPE:
        return f"content-type {content_type!r}"
    try:
        body = response.json()
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict) or not isinstance(body.get("code"), str) or not body["code"]:
        return "no `code`"
    return None


def _as_httpx_request(case: FuzzCase, base_url: str, api_key: str) -> httpx.Request:
    """The case exactly as Schemathesis would put it on the wire (its requests serialisation),
    re-addressed to httpx with the harness's credentials."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        cookies=kwargs.get("cookies"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
        files=kwargs.get("files"),
    ).prepare()
    headers = {
        name: value if isinstance(value, str) else value.decode("latin-1")
        for name, value in prepared.headers.items()
        if name.lower() not in AUTH_HEADERS
    }
    headers["X-API-Key"] = api_key
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    if body is not None and not isinstance(body, bytes):
        raise TypeError(f"a streamed body cannot be replayed: {type(body)}")
    return httpx.Request(str(prepared.method), str(prepared.url), headers=headers, content=body)


def fuzz_service(
    service: str,
    openapi: dict[str, Any],
    *,
    send: Send,
    run_on_loop: RunOnLoop,
    api_key: str,
    examples: int,
    seed: int,
    excluded: Callable[[str, str], bool],
    base_url: str = "http://fuzz",
) -> ServiceReport:
    """Every operation of `openapi` not `excluded(method, path)`, `examples` positive and
    `examples` negative cases each, derandomised by `seed`. Runs synchronously: call it in a
    thread while the app's loop runs (`run_on_loop` sends a request there)."""
    assert examples > 0, examples
    report = ServiceReport(service)
    schema = schemathesis.openapi.from_dict(openapi)
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise AssertionError(f"{service}'s OpenAPI cannot be read: {result.err()}")
        operation = result.ok()
        if excluded(operation.method.upper(), operation.path):
            report.excluded.append(operation.label)
            continue
        report.operations += 1
        for mode in MODES:
            _fuzz_operation(report, operation, mode, send, run_on_loop, api_key, examples, seed, base_url)
    return report


def _fuzz_operation(
    report: ServiceReport,
    operation: Operation,
    mode: schemathesis.GenerationMode,
    send: Send,
    run_on_loop: RunOnLoop,
    api_key: str,
    examples: int,
    seed: int,
    base_url: str,
) -> None:
    def exercise(case: FuzzCase) -> None:
        try:
            request = _as_httpx_request(case, base_url, api_key)
        except (ValueError, TypeError, UnicodeError, requests.RequestException):
            # Negative cases may be unsendable at all (a header that is not latin-1, a body that
            # does not serialise): no server ever sees those, so they count apart.
            report.unsendable += 1
            return
        response = run_on_loop(send(request))
        report.requests += 1
        shown = f"{request.method} {request.url} -> {response.status_code} {response.text[:BODY_SHOWN_MAX]}"
        if request.content:
            shown += f"\n  body: {request.content[:BODY_SHOWN_MAX]!r}"
        if (why := problem_json_failure(response)) is not None:
            report.record(NOT_PROBLEM_JSON, operation.label, f"{why}: {shown}")
        try:
            case.validate_response(response, checks=list(CHECKS))
        except FailureGroup as group:
            for failure in group.exceptions:
                report.record(failure.title, operation.label, shown)
        except Failure as failure:
            report.record(failure.title, operation.label, shown)

    @settings(
        max_examples=examples,
        # seed 0 (`make test`): Hypothesis derives every case from the test itself, so CI is
        # deterministic; another seed (`make fuzz FUZZ_SEED=...`) searches elsewhere.
        derandomize=seed == 0,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: FuzzCase) -> None:
        exercise(case)

    if seed:
        run = hypothesis_seed(seed)(run)
    try:
        run()
    except Unsatisfiable:
        # No invalid request exists for an operation without inputs (GET /health/live).
        assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label


def failures_summary(reports: Sequence[ServiceReport]) -> str:
    lines = []
    for report in reports:
        for where, shown in sorted(report.examples.items()):
            lines.append(f"[{report.service}] {where}")
            lines += [f"    {line}" for line in shown]
    return "\n".join(lines)
