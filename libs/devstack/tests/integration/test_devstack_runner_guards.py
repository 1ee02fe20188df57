"""Guards of the `make run` orchestrator that touch real sockets, files and processes."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from clearway.devstack.guards import AlreadyRunningError, data_dir_lock, record_children, stop_stale_children
from clearway.devstack.local_config import choose_port

pytestmark = pytest.mark.integration


def test_a_taken_default_port_is_replaced_by_a_free_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEARWAY_BROKER_PORT", raising=False)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        choice = choose_port("CLEARWAY_BROKER_PORT", taken)
    assert choice.port != taken
    assert choice.note is not None and "CLEARWAY_BROKER_PORT" in choice.note


def test_a_second_orchestrator_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with data_dir_lock(tmp_path), pytest.raises(AlreadyRunningError), data_dir_lock(tmp_path):
        pass
    with data_dir_lock(tmp_path):  # released on exit
        pass


def test_children_left_by_a_crashed_run_are_stopped_on_the_next_start(tmp_path: Path) -> None:
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record_children(tmp_path, [orphan.pid])
        assert stop_stale_children(tmp_path) == 1
        assert orphan.wait(timeout=10) is not None
        assert not (tmp_path / "children.pids").exists()
    finally:
        orphan.kill()
        orphan.wait()
    assert not psutil.pid_exists(orphan.pid) or psutil.Process(orphan.pid).status() == psutil.STATUS_ZOMBIE
