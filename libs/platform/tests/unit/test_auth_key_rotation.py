"""API keys rotate without a restart: a keys file re-read when it changes (issue 14 §3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from clearway.platform.auth import KEYS_FILE_CHECK_INTERVAL_S, ApiKeyEntry, Authenticator, KeysFile, hash_api_key
from clearway.platform.settings import ServiceSettings

OLD_KEY, NEW_KEY = "old-key-0123456789abcdef", "new-key-0123456789abcdef"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self) -> None:
        self.now += KEYS_FILE_CHECK_INTERVAL_S


def write_keys(path: Path, *keys: str, raw: str | None = None) -> None:
    body = (
        raw
        if raw is not None
        else json.dumps([{"name": "partner", "key_sha256": hash_api_key(key), "roles": ["operator"]} for key in keys])
    )
    path.write_text(body, encoding="utf-8")
    # A later modification time than any earlier write, even within the file system's granularity.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def authenticator(path: Path, clock: Clock) -> Authenticator:
    return Authenticator([], keys_file=KeysFile(path, clock=clock))


def test_a_key_rotates_with_both_keys_valid_in_between_and_no_restart(tmp_path: Path) -> None:
    path, clock = tmp_path / "keys.json", Clock()
    write_keys(path, OLD_KEY)
    auth = authenticator(path, clock)
    assert auth.authenticate(OLD_KEY) is not None and auth.authenticate(NEW_KEY) is None

    write_keys(path, OLD_KEY, NEW_KEY)
    clock.advance()
    assert auth.authenticate(NEW_KEY) is not None
    assert auth.authenticate(OLD_KEY) is not None  # clients not moved yet still get in

    write_keys(path, NEW_KEY)
    clock.advance()
    assert auth.authenticate(OLD_KEY) is None
    principal = auth.authenticate(NEW_KEY)
    assert principal is not None and principal.name == "partner" and principal.has_role("operator")


def test_the_file_is_looked_at_no_more_than_once_per_interval(tmp_path: Path) -> None:
    path, clock = tmp_path / "keys.json", Clock()
    write_keys(path, OLD_KEY)
    auth = authenticator(path, clock)
    write_keys(path, NEW_KEY)
    assert auth.authenticate(NEW_KEY) is None  # within the interval: the keys it holds
    clock.advance()
    assert auth.authenticate(NEW_KEY) is not None


@pytest.mark.parametrize(
    "broken", ["[{not json", '[{"name": "x", "key_sha256": "short", "roles": ["operator"]}]', None]
)
def test_a_broken_edit_keeps_the_keys_in_force(tmp_path: Path, broken: str | None) -> None:
    path, clock = tmp_path / "keys.json", Clock()
    write_keys(path, OLD_KEY)
    auth = authenticator(path, clock)
    if broken is None:
        path.unlink()
    else:
        write_keys(path, raw=broken)
    clock.advance()
    assert auth.authenticate(OLD_KEY) is not None  # neither locked out nor opened up
    assert auth.authenticate(NEW_KEY) is None


def test_a_keys_file_that_cannot_load_at_start_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="could not be loaded"):
        KeysFile(tmp_path / "missing.json")


def test_keys_from_the_file_and_from_configuration_are_both_valid(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    write_keys(path, NEW_KEY)
    configured = ApiKeyEntry(name="ops", key_sha256=hash_api_key(OLD_KEY), roles=["read_only"])
    auth = Authenticator([configured], keys_file=KeysFile(path, clock=Clock()))
    assert auth.authenticate(OLD_KEY) is not None and auth.authenticate(NEW_KEY) is not None


def test_a_service_reads_its_keys_file_from_clearway_api_keys_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.json"
    write_keys(path, NEW_KEY)
    monkeypatch.setenv("CLEARWAY_API_KEYS_FILE", str(path))
    auth = Authenticator.from_settings(ServiceSettings())
    assert auth.authenticate(NEW_KEY) is not None
