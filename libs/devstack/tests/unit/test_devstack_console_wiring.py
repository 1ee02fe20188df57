"""The console is a service without a database: it gets every peer's URL and the key
configuration, never a DATABASE_URL; the read-only dev key reaches every service hashed."""

from __future__ import annotations

import hashlib
import json

import pytest

from clearway.devstack.services import (
    DATABASE_SERVICES,
    DEFAULT_PORTS,
    SERVICE_NAMES,
    ServiceWiring,
    api_keys_with_viewer,
    has_database,
)


def _wiring() -> ServiceWiring:
    return ServiceWiring(
        database_urls={s: f"postgresql+asyncpg://postgres@127.0.0.1:5433/clearway_{s}" for s in DATABASE_SERVICES},
        ports=dict(DEFAULT_PORTS),
        kafka_bootstrap_servers="127.0.0.1:9092",
        api_key="dev-key",
        extra_env={},
        viewer_api_key="viewer-key",
    )


def test_the_console_runs_beside_the_services_without_a_database() -> None:
    assert "console" in SERVICE_NAMES and not has_database("console")
    assert set(DATABASE_SERVICES) == set(SERVICE_NAMES) - {"console"}
    env = _wiring().env_for("console")
    assert "CLEARWAY_CONSOLE_DATABASE_URL" not in env
    assert env["CLEARWAY_CONSOLE_PORT"] == "5006"
    assert env["CLEARWAY_PAYOUT_URL"] == "http://127.0.0.1:5004"
    assert env["CLEARWAY_DEV_API_KEY"] == "dev-key"
    assert _wiring().env_for("payout")["CLEARWAY_PAYOUT_DATABASE_URL"].endswith("/clearway_payout")


def test_the_viewer_key_is_added_hashed_and_configured_keys_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = [{"name": "ops-1", "key_sha256": "a" * 64, "roles": ["operator"]}]
    monkeypatch.setenv("CLEARWAY_API_KEYS", json.dumps(configured))
    entries = json.loads(_wiring().env_for("ledger")["CLEARWAY_API_KEYS"])
    assert entries[0] == configured[0]
    viewer = entries[1]
    assert viewer == {
        "name": "dev-viewer",
        "key_sha256": hashlib.sha256(b"viewer-key").hexdigest(),
        "roles": ["read_only"],
    }
    assert "viewer-key" not in json.dumps(entries)
    # Applied twice (a restart with the env already carrying it): still one viewer entry.
    assert len(json.loads(api_keys_with_viewer(json.dumps(entries), "viewer-key"))) == 2
