"""The outbox relay in a process of its own, started and watched by the service whose outbox it publishes.

Why: one Python process uses one core, so a relay in the service's process takes its time from the
service's own work. In a child process it runs on another core, where there is one to spare (on the
2-core bench machine there is not, and it measured neutral: docs/ledger-performance.md). Nothing else
changes: the child runs the same `OutboxRelay` on the same database, and the relay's advisory lock
still lets one relay publish at a time. `ServiceSettings.outbox_relay_process` turns it on.

The service and its child are tied three ways:
- Configuration (`RelayConfig`) travels in one environment variable (`RELAY_CONFIG_ENV`), never on the command
  line, which every user can read (`ps`): the database URL may hold a password.
- The child's standard input is a pipe from the service. End of file (the service stopping it, or
  dying, even by SIGKILL) stops the child after the batch in hand, so a relay never outlives its service.
- What the relay observes (lag, published counts, failures) comes back as JSON lines on a pipe of
  its own (`RELAY_REPORTS_FD_ENV`), and the service applies it to its own metrics: its `/metrics`
  reads the same whichever process publishes. Standard output stays the logs', as in the service.

The service restarts a child that exits while it still runs, with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import stat
import sys
import time
from collections.abc import Callable, Mapping
from typing import IO

from clearway.platform.db import create_engine
from clearway.platform.logging import configure_logging
from clearway.platform.relay import RelayConfig, RelayObserver
from clearway.platform.retry import BackoffPolicy

# By name: run as `python -m`, this module is `__main__`.
logger = logging.getLogger("clearway.platform.relay_process")

RELAY_CONFIG_ENV = "CLEARWAY_OUTBOX_RELAY_CONFIG"
RELAY_REPORTS_FD_ENV = "CLEARWAY_OUTBOX_RELAY_REPORTS_FD"
# The child publishes one batch at a time: one connection claims, a second records a failure.
RELAY_POOL_SIZE = 2
# Stopping waits for the batch in hand (a broker acknowledgement, one update) before killing the child.
STOP_TIMEOUT_S = 10.0
# A child that ran this long before exiting starts again at the first back-off step.
HEALTHY_RUN_S = 60.0
RESTART_BACKOFF = BackoffPolicy(attempts_max=None, initial_ms=500, maximum_ms=30_000)


class ReportWriter:
    """The child's observer: each observation as one JSON line on the report pipe."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream: IO[bytes] | None = stream

    def claimed(self, lag_s: float) -> None:
        self._write({"claimed": lag_s})

    def published(self, counts_by_topic: Mapping[str, int]) -> None:
        self._write({"published": dict(counts_by_topic)})

    def failed(self) -> None:
        self._write({"failed": 1})

    def _write(self, report: dict[str, object]) -> None:
        if self._stream is None:
            return
        try:
            # A line is far below the pipe's atomic write size; the service reads as fast as we write.
            self._stream.write(json.dumps(report).encode() + b"\n")
        except BrokenPipeError:
            # The service is gone: standard input's end of file is stopping us; publishing the batch
            # in hand and marking it matter more than a report nobody reads.
            self._stream = None


def apply_report(line: bytes, observer: RelayObserver) -> None:
    """Replay one line of the child's reports on the service's observer; a malformed line is logged and skipped."""
    try:
        report = json.loads(line)
        if "claimed" in report:
            observer.claimed(float(report["claimed"]))
        elif "published" in report:
            observer.published({str(topic): int(count) for topic, count in report["published"].items()})
        elif "failed" in report:
            observer.failed()
        else:
            raise ValueError("no known field")
    except Exception:  # whatever the line holds, the service's relay loop goes on
        logger.warning(
            "outbox relay process sent an unreadable report", extra={"report": line[:200].decode(errors="replace")}
        )


class OutboxRelayProcess:
    """The service's side: starts the child, applies its reports, restarts it, and stops it."""

    def __init__(self, config: RelayConfig, observer: RelayObserver) -> None:
        self._config = config
        self._observer = observer
        self.starts = 0  # children started so far: tests and logs tell a restart from the first start
        self.pid: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Keep one child running until `stop` is set, then stop it."""
        failures = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                exit_code: int | None = await self._run_child(stop)
            except Exception:  # no process could be started (out of memory, of processes), or its pipe failed
                # Never end the loop: a service whose outbox is not published looks healthy and is not.
                logger.exception("outbox relay process failed", extra={"service": self._config.service_name})
                exit_code = None
            if stop.is_set():
                return
            failures = 1 if time.monotonic() - started >= HEALTHY_RUN_S else failures + 1
            delay_ms = RESTART_BACKOFF.delay_ms(failures)
            logger.error(
                "outbox relay process exited; restarting",
                extra={"service": self._config.service_name, "exit_code": exit_code, "restart_in_ms": delay_ms},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay_ms / 1000)

    async def _run_child(self, stop: asyncio.Event) -> int:
        reports_read, reports_write = os.pipe()
        try:
            # The argv is fixed (this module); the configuration goes in the environment. A session of
            # its own: a signal to the service's process group (Ctrl-C, the devstack's stop) must not
            # stop the child while the service still drains; the service stops it by closing its stdin.
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "clearway.platform.relay_process",
                stdin=asyncio.subprocess.PIPE,
                env=child_environment(self._config, reports_write),
                pass_fds=(reports_write,),
                start_new_session=True,
            )
        except BaseException:
            os.close(reports_read)
            raise
        finally:
            os.close(reports_write)  # the child holds its own copy: end of file when it exits
        self.starts += 1
        self.pid = child.pid
        logger.info("outbox relay process started", extra={"service": self._config.service_name, "pid": child.pid})
        reader = asyncio.create_task(self._apply_reports(reports_read))
        stopping = asyncio.create_task(stop.wait())
        exited = asyncio.create_task(child.wait())
        try:
            # Its reports end when it exits (or closes the pipe): either way, wait for the exit or a stop.
            await asyncio.wait([reader, stopping], return_when=asyncio.FIRST_COMPLETED)
            await asyncio.wait([exited, stopping], return_when=asyncio.FIRST_COMPLETED)
            if not exited.done():
                assert child.stdin is not None
                child.stdin.close()  # end of file: the child finishes its batch and exits
                try:
                    await asyncio.wait_for(asyncio.shield(exited), STOP_TIMEOUT_S)
                except TimeoutError:
                    logger.warning("outbox relay process did not stop in time; killing it")
                    with contextlib.suppress(ProcessLookupError):  # it may have exited just now
                        child.kill()
            return await exited
        finally:
            stopping.cancel()
            if child.returncode is None:  # cancelled or late: never leave the child behind
                with contextlib.suppress(ProcessLookupError):
                    child.kill()
                await child.wait()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            self.pid = None

    async def _apply_reports(self, reports_read: int) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        # The transport owns the descriptor from here and closes it at end of file.
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(reports_read, "rb", buffering=0)
        )
        try:
            while line := await reader.readline():
                apply_report(line, self._observer)
        finally:
            transport.close()


def child_environment(config: RelayConfig, reports_write: int) -> dict[str, str]:
    """The service's environment without its own settings (keys, secrets: `CLEARWAY_*`), plus the
    child's: it needs the interpreter's (PATH, virtualenv, locale) and nothing of the service's."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("CLEARWAY_")}
    return {**inherited, RELAY_CONFIG_ENV: config.to_json(), RELAY_REPORTS_FD_ENV: str(reports_write)}


async def serve(config: RelayConfig, reports: IO[bytes]) -> None:
    """The child: run the relay until standard input ends or SIGTERM/SIGINT arrives."""
    # End of file on standard input is how the service's death reaches us: it must be a pipe.
    stdin_mode = os.fstat(0).st_mode
    if not (stat.S_ISFIFO(stdin_mode) or stat.S_ISSOCK(stdin_mode)):
        raise SystemExit("clearway.platform.relay_process: standard input must be a pipe from its service")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stop.set)
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    watch_parent = asyncio.create_task(_set_at_end_of_file(stdin, stop))
    engine = create_engine(config.database_url, pool_size=RELAY_POOL_SIZE)
    publisher = config.publisher()
    try:
        await publisher.start()
        relay = config.relay(engine, publisher, ReportWriter(reports))
        logger.info("outbox relay process publishing", extra={"service": config.service_name})
        await relay.run(stop)
    finally:
        watch_parent.cancel()
        await publisher.stop()
        await engine.dispose()


async def _set_at_end_of_file(stream: asyncio.StreamReader, event: asyncio.Event) -> None:
    while await stream.read(4096):
        pass
    event.set()


def main() -> None:
    config = RelayConfig.from_json(os.environ[RELAY_CONFIG_ENV])
    configure_logging(config.service_name, config.log_level, config.log_json)
    with (
        # Unbuffered: a write to a service that is gone fails at once, not again when the file closes.
        os.fdopen(int(os.environ[RELAY_REPORTS_FD_ENV]), "wb", buffering=0) as reports,
        asyncio.Runner(loop_factory=_event_loop_factory()) as runner,
    ):
        runner.run(serve(config, reports))


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed, as uvicorn picks for the service: its socket writes cost a
    fraction of asyncio's, and handing batches to the broker is most of what this process does."""
    try:
        import uvloop
    except ImportError:  # not built for this platform (Windows): the standard loop
        return None
    return uvloop.new_event_loop


if __name__ == "__main__":
    main()
