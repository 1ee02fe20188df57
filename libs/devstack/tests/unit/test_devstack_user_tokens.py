"""`make user-token`: the embedded stack's secret is made once and shared by the CLI and the services."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from clearway.devstack.cli import main, print_user_token
from clearway.devstack.local_config import USER_TOKEN_SECRET_FILE, load_or_create_user_token_secret
from clearway.devstack.services import SERVICE_NAMES, ServiceWiring
from clearway.platform.user_tokens import UserTokenVerifier

IDENTITY = "idt_devstack_0001"


@pytest.fixture(autouse=True)
def _no_configured_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLEARWAY_USER_TOKEN_SECRET", "CLEARWAY_USER_TOKEN_ISSUER", "CLEARWAY_USER_TOKEN_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)


def verifier_for(secret: str) -> UserTokenVerifier:
    return UserTokenVerifier.hs256(secret, issuer="clearway", audience="clearway-wallet")


def test_the_secret_is_generated_once_owner_only_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_or_create_user_token_secret(tmp_path)
    assert len(first) >= 32
    assert load_or_create_user_token_secret(tmp_path) == first
    assert (tmp_path / USER_TOKEN_SECRET_FILE).stat().st_mode & 0o077 == 0
    monkeypatch.setenv("CLEARWAY_USER_TOKEN_SECRET", "e" * 40)
    assert load_or_create_user_token_secret(tmp_path) == "e" * 40


def test_an_empty_secret_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / USER_TOKEN_SECRET_FILE).write_text("\n", encoding="utf-8")
    secret = load_or_create_user_token_secret(tmp_path)
    assert secret and (tmp_path / USER_TOKEN_SECRET_FILE).read_text(encoding="utf-8").strip() == secret


async def test_the_printed_token_verifies_with_the_stored_secret(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet-created"  # works before `make run` ever ran
    out, err = io.StringIO(), io.StringIO()
    assert print_user_token(data_dir, IDENTITY, out=out, err=err) == 0
    token = out.getvalue().splitlines()[-1]
    claims = await verifier_for(load_or_create_user_token_secret(data_dir)).verify(token)
    assert claims.subject == IDENTITY
    assert token not in err.getvalue()


@pytest.mark.parametrize("identity", ["", "   ", "x" * 201])
def test_a_missing_identity_is_refused_with_the_usage(tmp_path: Path, identity: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert print_user_token(tmp_path, identity, out=out, err=err) == 2
    assert out.getvalue() == ""
    assert "make user-token IDENTITY=<identity id>" in err.getvalue()


def test_the_command_prints_the_token_as_the_last_line_of_all_its_output(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "clearway.devstack", "user-token", "--identity", IDENTITY]
    finished = subprocess.run(
        [*command, "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=True,
        timeout=60,
    )
    token = finished.stdout.strip().splitlines()[-1]
    assert verifier_for(load_or_create_user_token_secret(tmp_path)).verify_now(token).subject == IDENTITY
    assert main(["user-token", "--identity", "", "--data-dir", str(tmp_path)]) == 2


def test_every_service_gets_the_secret() -> None:
    wiring = ServiceWiring(
        database_urls={s: f"postgresql+asyncpg://postgres@127.0.0.1:5433/clearway_{s}" for s in SERVICE_NAMES},
        ports={s: 5001 + index for index, s in enumerate(SERVICE_NAMES)},
        kafka_bootstrap_servers="127.0.0.1:9092",
        api_key="dev-key",
        extra_env={},
        user_token_secret="t" * 48,
    )
    assert all(wiring.env_for(service)["CLEARWAY_USER_TOKEN_SECRET"] == "t" * 48 for service in SERVICE_NAMES)
