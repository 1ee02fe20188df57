"""The relay process's configuration, report channel and restarts, without starting a process."""

from __future__ import annotations

import asyncio
import io
import logging
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import NoReturn

import pytest

from clearway.platform.relay import RelayConfig
from clearway.platform.relay_process import (
    RELAY_CONFIG_ENV,
    RELAY_REPORTS_FD_ENV,
    RESTART_BACKOFF,
    OutboxRelayProcess,
    ReportWriter,
    apply_report,
    child_environment,
)
from clearway.platform.settings import ServiceSettings


class RecordingObserver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def claimed(self, lag_s: float) -> None:
        self.calls.append(("claimed", lag_s))

    def published(self, counts_by_topic: Mapping[str, int]) -> None:
        self.calls.append(("published", dict(counts_by_topic)))

    def failed(self) -> None:
        self.calls.append(("failed", None))


def test_what_the_child_reports_reaches_the_services_observer_unchanged() -> None:
    pipe = io.BytesIO()
    writer = ReportWriter(pipe)
    writer.claimed(1.25)
    writer.published({"ledger.transaction.applied": 498, "ledger.balance.updated": 2})
    writer.claimed(0.0)
    writer.failed()
    observer = RecordingObserver()
    for line in pipe.getvalue().splitlines(keepends=True):
        apply_report(line, observer)
    assert observer.calls == [
        ("claimed", 1.25),
        ("published", {"ledger.transaction.applied": 498, "ledger.balance.updated": 2}),
        ("claimed", 0.0),
        ("failed", None),
    ]


@pytest.mark.parametrize(
    "line", [b"not json\n", b'{"unknown": 1}\n', b'{"published": 7}\n', b'{"claimed": "soon"}\n', b"[]\n"]
)
def test_an_unreadable_report_is_logged_and_changes_no_metric(line: bytes, caplog: pytest.LogCaptureFixture) -> None:
    observer = RecordingObserver()
    with caplog.at_level(logging.WARNING):
        apply_report(line, observer)
    assert observer.calls == []
    assert "unreadable report" in caplog.text


class BrokenPipe(io.BytesIO):
    def write(self, _data: object) -> int:
        raise BrokenPipeError


def test_a_report_to_a_service_that_is_gone_is_dropped_without_raising() -> None:
    writer = ReportWriter(BrokenPipe())
    writer.published({"t": 1})  # the relay has just marked its batch: this must not undo or stop it
    writer.failed()


def test_the_child_gets_the_relays_settings_and_no_keys() -> None:
    settings = ServiceSettings(
        service_name="ledger",
        database_url="postgresql+asyncpg://clearway:s3cret@db:5432/clearway_ledger",
        kafka_bootstrap_servers="broker:9092",
        outbox_poll_interval_ms=250,
        outbox_batch_size_max=800,
        api_keys_json='[{"name": "ops", "key_sha256": "ab12", "roles": ["admin"]}]',
        user_token_secret="token-signing-secret",
    )
    config = RelayConfig.from_settings(settings)
    assert RelayConfig.from_json(config.to_json()) == config
    assert (config.service_name, config.database_url) == ("ledger", settings.database_url)
    assert (config.kafka_bootstrap_servers, config.poll_interval_ms, config.batch_size_max) == ("broker:9092", 250, 800)
    assert "ab12" not in config.to_json() and "token-signing-secret" not in config.to_json()
    assert "s3cret" not in repr(config)


def test_the_child_environment_drops_the_services_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARWAY_LEDGER_API_KEYS", "secret-keys")
    monkeypatch.setenv("CLEARWAY_USER_TOKEN_SECRET", "secret-token")
    monkeypatch.setenv("PATH", "/usr/bin")
    config = RelayConfig.from_settings(ServiceSettings(service_name="ledger"))
    environment = child_environment(config, 7)
    assert environment["PATH"] == "/usr/bin"
    assert RelayConfig.from_json(environment[RELAY_CONFIG_ENV]) == config
    assert environment[RELAY_REPORTS_FD_ENV] == "7"
    assert not {"CLEARWAY_LEDGER_API_KEYS", "CLEARWAY_USER_TOKEN_SECRET"} & set(environment)


@pytest.mark.parametrize("error", [BlockingIOError("fork: resource temporarily unavailable"), ValueError("a pipe")])
async def test_a_child_that_cannot_be_started_is_tried_again_not_given_up(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    stop = asyncio.Event()
    attempts: list[float] = []

    async def cannot_fork(*_arguments: object, **_options: object) -> NoReturn:
        attempts.append(time.monotonic())
        if len(attempts) == 2:
            stop.set()
        raise error

    monkeypatch.setattr(asyncio, "create_subprocess_exec", cannot_fork)
    config = RelayConfig.from_settings(ServiceSettings(service_name="ledger"))
    relay_process = OutboxRelayProcess(config, RecordingObserver())
    await asyncio.wait_for(relay_process.run(stop), 5)
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= RESTART_BACKOFF.delay_ms(1) / 1000
    assert (relay_process.starts, relay_process.pid) == (0, None)


def test_the_child_refuses_to_run_without_a_pipe_from_its_service() -> None:
    """End of file on a pipe is how the service's death reaches the child: /dev/null would never end."""
    config = RelayConfig.from_settings(ServiceSettings(service_name="ledger"))
    finished = subprocess.run(
        [sys.executable, "-m", "clearway.platform.relay_process"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=child_environment(config, 1),  # fd 1 stands in for the report pipe: never written
        timeout=60,
        check=False,
    )
    assert finished.returncode != 0
    assert b"standard input must be a pipe" in finished.stderr
