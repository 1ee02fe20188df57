"""Issue 12, defect 4: a request in flight when its process died kept its key "409 in progress"
for two minutes. The claim now names its process's owner lease (a PostgreSQL advisory lock held
by a session of that process), so a retry takes it over as soon as the process is gone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from clearway.platform.db import create_engine
from clearway.platform.idempotency import Acquired, IdempotencyStore, InProgress, idempotency_keys
from clearway.platform.owner_lease import OwnerLease
from clearway.platform.tables import platform_metadata

pytestmark = pytest.mark.integration

CLAIM = {"principal_name": "alice", "key": "pay-1", "fingerprint": "f" * 64, "method": "POST", "path": "/pay"}
TAKEOVER_WAIT_S_MAX = 10.0

# A service process in miniature: holds its lease, claims the key, then hangs mid-request.
CLAIMING_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from clearway.platform.db import create_engine
    from clearway.platform.idempotency import Acquired, IdempotencyStore
    from clearway.platform.owner_lease import OwnerLease

    async def main(url):
        lease = OwnerLease(url)
        await lease.start()
        assert lease.held
        store = IdempotencyStore(create_engine(url, pool_size=1))
        claim = {"principal_name": "alice", "key": "pay-1", "fingerprint": "f" * 64, "method": "POST", "path": "/pay"}
        outcome = await store.acquire(**claim, owner_id=lease.owner_id)
        print("claimed" if isinstance(outcome, Acquired) else "refused", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.fixture
async def database_url(make_database: Callable[[str], Awaitable[str]]) -> AsyncIterator[str]:
    url = await make_database("lease")
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as connection:
        await connection.run_sync(platform_metadata.create_all, tables=[idempotency_keys])
    await engine.dispose()
    yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def acquire_until_taken_over(store: IdempotencyStore) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < TAKEOVER_WAIT_S_MAX:
        if isinstance(await store.acquire(**CLAIM), Acquired):
            return loop.time() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"the dead owner's claim was not taken over within {TAKEOVER_WAIT_S_MAX}s")


async def test_idempotency_key_of_a_killed_process_frees_at_once(database_url: str, engine: AsyncEngine) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLAIMING_PROCESS, database_url, stdout=asyncio.subprocess.PIPE, env=dict(os.environ)
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert line.strip() == b"claimed"
        store = IdempotencyStore(engine)  # the default 120 s timeout: only the lease can free it sooner
        assert isinstance(await store.acquire(**CLAIM), InProgress), "a live owner keeps its claim"
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), timeout=10)
        waited_s = await acquire_until_taken_over(store)
        assert waited_s < TAKEOVER_WAIT_S_MAX
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_live_owner_keeps_its_claim_and_a_stopped_one_releases_it(
    database_url: str, engine: AsyncEngine
) -> None:
    lease = OwnerLease(database_url)
    await lease.start()
    try:
        assert lease.held
        store = IdempotencyStore(engine)
        assert isinstance(await store.acquire(**CLAIM, owner_id=lease.owner_id), Acquired)
        for _ in range(3):
            assert isinstance(await store.acquire(**CLAIM), InProgress)
        different_request = {**CLAIM, "fingerprint": "0" * 64}
        assert not isinstance(await store.acquire(**different_request), Acquired)
    finally:
        await lease.stop()
    assert isinstance(await store.acquire(**CLAIM), Acquired)


async def test_a_claim_without_an_owner_still_waits_for_the_timeout(engine: AsyncEngine) -> None:
    store = IdempotencyStore(engine)
    assert isinstance(await store.acquire(**CLAIM), Acquired)
    assert isinstance(await store.acquire(**CLAIM), InProgress)
