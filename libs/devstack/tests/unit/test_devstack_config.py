"""Pure configuration logic of the local stack: wiring, ports, keys, URLs, CLI parsing."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from clearway.devstack.cli import _services
from clearway.devstack.databases import with_database
from clearway.devstack.local_config import ConfigError, choose_port, load_or_create_api_key
from clearway.devstack.services import SERVICE_NAMES, ServiceWiring
from clearway.devstack.topics import catalogue_topics
from clearway.platform.db import libpq_url


def _wiring() -> ServiceWiring:
    return ServiceWiring(
        database_urls={s: f"postgresql+asyncpg://postgres@127.0.0.1:5433/clearway_{s}" for s in SERVICE_NAMES},
        ports={s: 5001 + index for index, s in enumerate(SERVICE_NAMES)},
        kafka_bootstrap_servers="127.0.0.1:9092",
        api_key="dev-key",
        extra_env={"CLEARWAY_FUNDING_LOG_JSON": "false"},
    )


def test_service_environment_points_at_its_database_the_broker_and_every_peer() -> None:
    env = _wiring().env_for("funding")

    assert env["CLEARWAY_FUNDING_DATABASE_URL"].endswith("/clearway_funding")
    assert env["CLEARWAY_FUNDING_PORT"] == "5003"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    assert env["CLEARWAY_DEV_API_KEY"] == "dev-key"
    assert env["CLEARWAY_LEDGER_URL"] == "http://127.0.0.1:5001"
    assert env["CLEARWAY_FUNDING_LEDGER_URL"] == "http://127.0.0.1:5001"
    assert env["CLEARWAY_FUNDING_URL"] == "http://127.0.0.1:5003"
    assert "CLEARWAY_FUNDING_FUNDING_URL" not in env
    assert env["CLEARWAY_FUNDING_LOG_JSON"] == "false"


def test_an_explicit_port_is_used_as_given_and_must_be_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARWAY_BROKER_PORT", "19299")
    assert choose_port("CLEARWAY_BROKER_PORT", 9092).port == 19299
    monkeypatch.setenv("CLEARWAY_BROKER_PORT", "ninety")
    with pytest.raises(ConfigError):
        choose_port("CLEARWAY_BROKER_PORT", 9092)


def test_a_port_our_own_earlier_server_holds_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEARWAY_EMBEDDED_PG_PORT", raising=False)
    choice = choose_port("CLEARWAY_EMBEDDED_PG_PORT", 5433, already_ours=15499)
    assert (choice.port, choice.note) == (15499, None)


def test_the_dev_api_key_is_generated_once_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLEARWAY_DEV_API_KEY", raising=False)
    first = load_or_create_api_key(tmp_path)
    assert len(first) >= 32
    assert load_or_create_api_key(tmp_path) == first
    assert (tmp_path / "dev-api-key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("CLEARWAY_DEV_API_KEY", "from-env")
    assert load_or_create_api_key(tmp_path) == "from-env"


def test_database_urls_switch_database_and_driver() -> None:
    server = "postgresql://postgres@127.0.0.1:5433/postgres"
    assert with_database(server, "clearway_ledger", driver="asyncpg") == (
        "postgresql+asyncpg://postgres@127.0.0.1:5433/clearway_ledger"
    )
    assert libpq_url("postgresql+asyncpg://u:p@h:1/db?ssl=require") == "postgresql://u:p@h:1/db?ssl=require"


def test_services_option_accepts_a_subset_in_canonical_order_and_rejects_unknown_names() -> None:
    assert _services("payout,ledger") == ["ledger", "payout"]
    with pytest.raises(argparse.ArgumentTypeError):
        _services("ledger,billing")


def test_every_catalogue_topic_gets_a_dead_letter_twin_with_the_same_partitions() -> None:
    topics = catalogue_topics()
    if topics is None:
        pytest.skip("clearway.contracts.catalogue does not exist yet")
    by_name = {topic.name: topic.partitions for topic in topics}
    originals = [name for name in by_name if not name.endswith(".dlq")]
    assert originals
    for name in originals:
        assert by_name[f"{name}.dlq"] == by_name[name]
