"""Child processes that never outlive the stack that started them.

Every child runs in its own session (process group), so a Ctrl-C in the terminal reaches only
the orchestrator, which then stops the children in order (services, broker, database). On
Linux a child started from the main thread also gets a parent-death signal, so even a
`kill -9` of the orchestrator leaves no orphans behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1
_TAIL_BYTES_MAX = 64 * 1024
_KILL_WAIT_S = 10.0


def _parent_death_signal_setter(death_signal: int) -> Callable[[], None] | None:
    # The signal fires when the *thread* that forked exits, so only the main thread may use it.
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl = libc.prctl

    def set_parent_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)

    return set_parent_death_signal


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdout: IO[bytes] | int = subprocess.DEVNULL,
    cwd: Path | None = None,
    run_as_user: str | None = None,
    death_signal: int = signal.SIGTERM,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session; stderr joins stdout; stdin is closed."""
    user_kwargs: dict[str, object] = {}
    if run_as_user is not None:
        import pwd

        entry = pwd.getpwnam(run_as_user)
        user_kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    # The argv is the devstack's own (a service's python -m command), never user input.
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]  # noqa: S603
        list(argv),
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_parent_death_signal_setter(death_signal),
        **user_kwargs,
    )


def signal_group(process: subprocess.Popen[bytes], signal_number: int) -> None:
    """Send a signal to the process's whole group; a group that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal_number)


def terminate(process: subprocess.Popen[bytes], *, timeout_s: float, first_signal: int = signal.SIGTERM) -> int:
    """Ask the process group to stop, wait at most `timeout_s`, then kill it. Returns the exit code."""
    terminate_all([process], timeout_s=timeout_s, first_signal=first_signal)
    assert process.returncode is not None
    return process.returncode


def terminate_all(
    processes: Sequence[subprocess.Popen[bytes]], *, timeout_s: float, first_signal: int = signal.SIGTERM
) -> None:
    """Signal every process first, then wait for them together, so stopping N costs one timeout."""
    assert timeout_s >= 0, timeout_s
    for process in processes:
        if process.poll() is None:
            signal_group(process, first_signal)
    deadline = time.monotonic() + timeout_s
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.poll() is None:
            signal_group(process, signal.SIGKILL)
            process.wait(timeout=_KILL_WAIT_S)


def log_tail(path: Path, lines_max: int = 40) -> str:
    """The last lines of a log file, for error messages."""
    if not path.exists():
        return f"(no log at {path})"
    with path.open("rb") as log:
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - _TAIL_BYTES_MAX))
        text = log.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines_max:])
