"""PeriodicTask: a bounded pass every interval until stopped; failures are logged, never fatal."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from clearway.devstack.testing import wait_until
from clearway.platform.periodic import PeriodicTask


async def test_the_first_pass_runs_at_once_and_the_next_ones_every_interval() -> None:
    passes: list[float] = []
    loop = asyncio.get_running_loop()

    async def run_pass() -> None:
        passes.append(loop.time())

    task = PeriodicTask("counting", 20, run_pass)
    task.start()
    await wait_until(lambda: len(passes) >= 3, "three passes ran", timeout_s=2, interval_s=0.01)
    await task.stop()
    assert not task.running
    assert task.passes_completed == len(passes) and task.passes_failed == 0
    gaps = [later - earlier for earlier, later in itertools.pairwise(passes)]
    assert all(gap >= 0.015 for gap in gaps), gaps
    stopped_at = len(passes)
    await asyncio.sleep(0.06)
    assert len(passes) == stopped_at  # nothing runs after stop()


async def test_a_failing_pass_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("a bug in one pass")  # an outage is logged differently (test below)

    task = PeriodicTask("flaky", 10, flaky)
    with caplog.at_level(logging.ERROR, logger="clearway.platform.periodic"):
        task.start()
        await wait_until(lambda: calls >= 3, "three passes were tried", timeout_s=2, interval_s=0.01)
        await task.stop()
    assert task.passes_failed == 1 and task.passes_completed >= 2
    (record,) = [r for r in caplog.records if "pass failed" in r.getMessage()]
    assert "flaky" in record.getMessage() and record.exc_info is not None


async def test_stop_lets_a_pass_in_progress_finish() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(0.05)
        finished.set()

    task = PeriodicTask("slow", 1_000, slow, stop_timeout_ms=2_000)
    task.start()
    await started.wait()
    await task.stop()
    assert finished.is_set() and task.passes_completed == 1


async def test_stop_cancels_a_pass_that_outlives_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    started = asyncio.Event()
    cancelled = False

    async def stuck() -> None:
        nonlocal cancelled
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled = True
            raise

    task = PeriodicTask("stuck", 1_000, stuck, stop_timeout_ms=20)
    task.start()
    await started.wait()
    loop = asyncio.get_running_loop()
    began = loop.time()
    with caplog.at_level(logging.WARNING, logger="clearway.platform.periodic"):
        await task.stop()
    assert cancelled and not task.running
    assert loop.time() - began < 1.0
    assert any("did not stop in time" in r.getMessage() for r in caplog.records)


async def test_stop_is_safe_before_start_and_twice() -> None:
    async def nothing() -> None:
        return None

    never_started = PeriodicTask("idle", 10, nothing)
    await never_started.stop()
    task = PeriodicTask("twice", 10, nothing)
    task.start()
    await task.stop()
    await task.stop()
    assert not task.running


async def test_start_twice_and_unbounded_intervals_are_refused() -> None:
    async def nothing() -> None:
        return None

    task = PeriodicTask("once", 10, nothing)
    task.start()
    with pytest.raises(AssertionError):
        task.start()
    await task.stop()
    with pytest.raises(AssertionError):
        PeriodicTask("zero", 0, nothing)
    with pytest.raises(AssertionError):
        PeriodicTask("", 10, nothing)


async def test_a_database_outage_is_logged_once_not_every_pass(caplog: pytest.LogCaptureFixture) -> None:
    database_up = False
    passes = 0

    async def needs_the_database() -> None:
        nonlocal passes
        passes += 1
        if not database_up:
            raise ConnectionRefusedError(111, "Connect call failed")

    caplog.set_level(logging.INFO, logger="clearway.platform.periodic")
    task = PeriodicTask("resolver", 5, needs_the_database)
    task.start()
    await wait_until(lambda: passes >= 10, "ten failing passes", timeout_s=2, interval_s=0.01)
    database_up = True
    await wait_until(lambda: task.passes_completed >= 1, "a pass after the outage", timeout_s=2, interval_s=0.01)
    await task.stop()
    messages = [record.getMessage() for record in caplog.records if record.name == "clearway.platform.periodic"]
    assert len(messages) == 2, messages
    assert messages[0].startswith("database unavailable (ConnectionRefusedError); retrying resolver every 5 ms")
    assert "back after" in messages[1]
    assert not any(record.exc_info for record in caplog.records if record.name == "clearway.platform.periodic")
