"""Guards that keep one orchestrator per data directory and clean up after a crashed one."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import psutil

_STALE_STOP_TIMEOUT_S = 5.0


class AlreadyRunningError(RuntimeError):
    """Another `make run` / `make dev` holds this data directory."""


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """One orchestrator per data directory: a second `make run` fails fast instead of fighting."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_file: IO[str] = (data_dir / "run.lock").open("a+")
    try:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            raise AlreadyRunningError(
                f"another Clearway stack (pid {lock_file.read().strip() or '?'}) is using {data_dir}"
            ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        yield
    finally:
        lock_file.close()


def pid_file(data_dir: Path) -> Path:
    return data_dir / "children.pids"


def record_children(data_dir: Path, pids: Sequence[int]) -> None:
    """Remember our children (pid + start time) so a run after a hard crash can clean them up."""
    lines = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            lines.append(f"{pid} {psutil.Process(pid).create_time()}")
    pid_file(data_dir).write_text("\n".join(lines) + "\n", encoding="utf-8")


def stop_stale_children(data_dir: Path) -> int:
    """Stop children an earlier, crashed run left behind (same pid *and* start time). Returns the count."""
    path = pid_file(data_dir)
    if not path.exists():
        return 0
    stale: list[psutil.Process] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            continue
        with contextlib.suppress(psutil.Error, ValueError):
            process = psutil.Process(int(parts[0]))
            if abs(process.create_time() - float(parts[1])) < 0.01:
                stale.append(process)
    for process in stale:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(stale, timeout=_STALE_STOP_TIMEOUT_S)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    path.unlink(missing_ok=True)
    return len(stale)
