"""Getting infrastructure ready for services: databases, migrations and topics."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from clearway.devstack.asyncio_bridge import run_sync
from clearway.devstack.databases import create_database_if_missing
from clearway.devstack.migrate import EXIT_NOT_A_SERVICE
from clearway.devstack.processes import log_tail, spawn, terminate_all
from clearway.devstack.topics import TopicToCreate, catalogue_topics, create_topics


class PreparationError(RuntimeError):
    """Databases, migrations or topics could not be prepared."""


def create_databases(postgres_server_url: str, names: Sequence[str]) -> list[str]:
    """Create the databases that are missing; returns the ones created now."""

    async def create_all() -> list[str]:
        created = await asyncio.gather(*(create_database_if_missing(postgres_server_url, n) for n in names))
        return [name for name, was_created in zip(names, created, strict=True) if was_created]

    return run_sync(create_all())


def create_catalogue_topics(kafka_bootstrap_servers: str) -> list[TopicToCreate] | None:
    """Create every catalogue topic and its `.dlq`; None when the catalogue does not exist yet."""
    topics = catalogue_topics()
    if topics is None:
        return None
    run_sync(create_topics(kafka_bootstrap_servers, topics))
    return topics


def run_migrations(
    database_urls: Mapping[str, str], log_paths: Mapping[str, Path], timeout_s: float = 120.0
) -> set[str]:
    """Migrate every service in parallel child interpreters; returns the services that do not exist yet."""
    running: dict[str, subprocess.Popen[bytes]] = {}
    log_files = {service: log_paths[service].open("ab") for service in database_urls}
    try:
        for service, database_url in database_urls.items():
            command = [sys.executable, "-m", "clearway.devstack.migrate", service, database_url]
            running[service] = spawn(command, stdout=log_files[service])
        deadline = time.monotonic() + timeout_s
        for service, process in running.items():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise PreparationError(f"{service}: migrations did not finish within {timeout_s}s") from None
    finally:
        terminate_all(list(running.values()), timeout_s=1.0)
        for log_file in log_files.values():
            log_file.close()
    skipped = {service for service, process in running.items() if process.returncode == EXIT_NOT_A_SERVICE}
    failed = {s: p.returncode for s, p in running.items() if p.returncode not in (0, EXIT_NOT_A_SERVICE)}
    if failed:
        details = "\n".join(f"--- {s} (exit {code}):\n{log_tail(log_paths[s], 25)}" for s, code in failed.items())
        raise PreparationError(f"migrations failed for {sorted(failed)}:\n{details}")
    return skipped
