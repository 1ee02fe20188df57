"""The Clearway services as child processes: environment, start, readiness, stop.

Five own a database (migrated before they start); the console owns none: it calls the others' HTTP
APIs with the signed-in operator's key, so it gets their URLs and no `DATABASE_URL`.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from clearway.devstack.console import Console
from clearway.devstack.processes import log_tail, signal_group, spawn, terminate_all

SERVICE_NAMES: tuple[str, ...] = ("ledger", "authorization", "funding", "payout", "reconciliation", "console")
# The services with a database of their own (created and migrated before they start).
DATABASE_SERVICES: tuple[str, ...] = ("ledger", "authorization", "funding", "payout", "reconciliation")
DEFAULT_PORTS: Mapping[str, int] = {
    "ledger": 5001,
    "authorization": 5002,
    "funding": 5003,
    "payout": 5004,
    "reconciliation": 5005,
    "console": 5006,
}
# The third local principal: read-only, so a role's refusal can be seen (console, tests).
DEV_VIEWER_NAME = "dev-viewer"
LOCAL_HOST = "127.0.0.1"
_READY_POLL_INTERVAL_S = 0.2
_READY_REQUEST_TIMEOUT_S = 2.0
_GRACEFUL_SHUTDOWN_S = 5


class ServiceStartError(RuntimeError):
    """A service exited or did not become ready in time."""

    def __init__(self, service: str, message: str, log_path: Path) -> None:
        super().__init__(f"{service}: {message}; log {log_path}:\n{log_tail(log_path)}")
        self.service = service
        self.log_path = log_path


def env_prefix(service: str) -> str:
    assert service in SERVICE_NAMES, service
    return f"CLEARWAY_{service.upper()}_"


def has_database(service: str) -> bool:
    return service in DATABASE_SERVICES


def api_keys_with_viewer(configured_json: str | None, viewer_api_key: str) -> str:
    """`CLEARWAY_API_KEYS` (a JSON list of hashed keys) plus the read-only `dev-viewer`, stored hashed
    like every other key; keys configured in the environment are kept."""
    entries = json.loads(configured_json) if configured_json else []
    assert isinstance(entries, list), "CLEARWAY_API_KEYS must be a JSON list"
    entries = [entry for entry in entries if entry.get("name") != DEV_VIEWER_NAME]
    key_sha256 = hashlib.sha256(viewer_api_key.encode("utf-8")).hexdigest()
    entries.append({"name": DEV_VIEWER_NAME, "key_sha256": key_sha256, "roles": ["read_only"]})
    return json.dumps(entries)


def service_url(port: int) -> str:
    return f"http://{LOCAL_HOST}:{port}"


@dataclass(frozen=True)
class ServiceWiring:
    """Everything one service needs to find its database, the broker and the other services."""

    database_urls: Mapping[str, str]  # service with a database -> SQLAlchemy asyncpg URL
    ports: Mapping[str, int]  # every service, started or not, so peers can be configured
    kafka_bootstrap_servers: str
    api_key: str
    extra_env: Mapping[str, str]
    consumer_group_prefix: str = ""
    # The embedded stack's HS256 key for end-user tokens; every service verifies with it.
    user_token_secret: str | None = None
    # The second local principal (approver, operator) for dual approval.
    approver_api_key: str | None = None
    # A read-only principal (`dev-viewer`): what an operator without a role sees and is refused.
    viewer_api_key: str | None = None

    def env_for(self, service: str) -> dict[str, str]:
        prefix = env_prefix(service)
        env = dict(os.environ)
        env.update(self.extra_env)
        env.update(
            {
                f"{prefix}HOST": LOCAL_HOST,
                f"{prefix}PORT": str(self.ports[service]),
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
                "KAFKA_CONSUMER_GROUP_PREFIX": self.consumer_group_prefix,
                "CLEARWAY_DEV_API_KEY": self.api_key,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if service in self.database_urls:
            env[f"{prefix}DATABASE_URL"] = self.database_urls[service]
        if self.viewer_api_key:
            env["CLEARWAY_API_KEYS"] = api_keys_with_viewer(env.get("CLEARWAY_API_KEYS"), self.viewer_api_key)
        if self.user_token_secret:
            env["CLEARWAY_USER_TOKEN_SECRET"] = self.user_token_secret
        if self.approver_api_key:
            env["CLEARWAY_DEV_APPROVER_API_KEY"] = self.approver_api_key
        for peer, peer_port in self.ports.items():
            # Both spellings: a shared `CLEARWAY_LEDGER_URL` and the service-prefixed setting name.
            env[f"CLEARWAY_{peer.upper()}_URL"] = service_url(peer_port)
            if peer != service:
                env[f"{prefix}{peer.upper()}_URL"] = service_url(peer_port)
        return env


class ServiceProcess:
    """`uvicorn clearway.<name>.main:create_app --factory` on a fixed port, restartable."""

    def __init__(self, name: str, port: int, env: Mapping[str, str], log_path: Path, console: Console | None) -> None:
        assert name in SERVICE_NAMES, name
        self.name = name
        self.port = port
        self.env = dict(env)
        self.log_path = log_path
        self.console = console
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._pump: threading.Thread | None = None

    @property
    def url(self) -> str:
        return service_url(self.port)

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._process

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        assert not self.is_running(), f"{self.name} is already running"
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            f"clearway.{self.name}.main:create_app",
            "--factory",
            "--host",
            LOCAL_HOST,
            "--port",
            str(self.port),
            "--timeout-graceful-shutdown",
            str(_GRACEFUL_SHUTDOWN_S),
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        if self.console is None:
            self._process = spawn(command, env=self.env, stdout=self._log_file)
            return
        self._process = spawn(command, env=self.env, stdout=subprocess.PIPE)
        assert self._process.stdout is not None
        self._pump = self.console.tee(self.name, self._process.stdout, self._log_file)

    def check_ready(self, client: httpx.Client) -> bool:
        """One `GET /health/ready`; raises ServiceStartError when the process has exited."""
        assert self._process is not None, f"{self.name} was not started"
        if self._process.poll() is not None:
            self._flush_log()
            raise ServiceStartError(self.name, f"exited with {self._process.returncode}", self.log_path)
        try:
            response = client.get(f"{self.url}/health/ready", timeout=_READY_REQUEST_TIMEOUT_S)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def send_signal(self, signal_number: int) -> None:
        if self._process is not None:
            signal_group(self._process, signal_number)

    def reap(self) -> None:
        """Release pipes and files of a process that has exited (or been stopped)."""
        self._flush_log()
        self._process = None

    def _flush_log(self) -> None:
        if self._pump is not None:
            self._pump.join(timeout=2.0)
            self._pump = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def wait_until_ready(services: Sequence[ServiceProcess], timeout_s: float) -> None:
    """Poll every service's readiness together; raise on the first exit or at the deadline."""
    pending = list(services)
    deadline = time.monotonic() + timeout_s
    with httpx.Client() as client:
        while pending:
            pending = [service for service in pending if not service.check_ready(client)]
            if not pending:
                return
            if time.monotonic() >= deadline:
                late = pending[0]
                raise ServiceStartError(late.name, f"not ready after {timeout_s:.0f}s", late.log_path)
            time.sleep(_READY_POLL_INTERVAL_S)


def stop_services(services: Sequence[ServiceProcess], *, timeout_s: float, graceful: bool = True) -> None:
    """SIGTERM all (or SIGKILL when not graceful), bounded wait, then SIGKILL what is left."""
    processes = [service.process for service in services if service.process is not None]
    first_signal = signal.SIGTERM if graceful else signal.SIGKILL
    terminate_all(processes, timeout_s=timeout_s, first_signal=first_signal)
    for service in services:
        service.reap()
