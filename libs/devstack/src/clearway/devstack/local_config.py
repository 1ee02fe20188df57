"""Where `make run` keeps its state and which ports it prefers (all overridable by environment)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from clearway.devstack.ports import pick_port
from clearway.devstack.services import DEFAULT_PORTS, SERVICE_NAMES, env_prefix

DEFAULT_POSTGRES_PORT = 5433
DEFAULT_BROKER_PORT = 9092
_WORKSPACE_MARKER = "[tool.uv.workspace]"
_SEARCH_DEPTH_MAX = 12


class ConfigError(RuntimeError):
    """The environment asks for something that cannot be done."""


def repo_root(start: Path | None = None) -> Path:
    """The uv workspace root above `start` (default: the working directory, then this file)."""
    for origin in (start or Path.cwd(), Path(__file__)):
        for candidate in [origin.resolve(), *origin.resolve().parents][:_SEARCH_DEPTH_MAX]:
            manifest = candidate / "pyproject.toml"
            if manifest.is_file() and _WORKSPACE_MARKER in manifest.read_text(encoding="utf-8"):
                return candidate
    return Path.cwd()


def default_data_dir() -> Path:
    configured = os.environ.get("CLEARWAY_DATA_DIR")
    return Path(configured) if configured else repo_root() / ".clearway"


def load_or_create_api_key(data_dir: Path) -> str:
    """`CLEARWAY_DEV_API_KEY`, else the key stored in `<data_dir>/dev-api-key` (created once)."""
    configured = os.environ.get("CLEARWAY_DEV_API_KEY")
    if configured:
        return configured
    key_path = data_dir / "dev-api-key"
    if key_path.exists():
        stored = key_path.read_text(encoding="utf-8").strip()
        if stored:
            return stored
    key = secrets.token_urlsafe(32)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.touch(mode=0o600)
    key_path.write_text(key + "\n", encoding="utf-8")
    return key


@dataclass(frozen=True)
class PortChoice:
    port: int
    note: str | None  # set when the preferred port was taken and another was picked


def choose_port(env_var: str, default: int, *, already_ours: int | None = None) -> PortChoice:
    """The port from `env_var` (must be used as is), else `default`, else a free one.

    `already_ours` is a port our own server from an earlier run still holds: reuse it.
    """
    configured = os.environ.get(env_var)
    if configured:
        if not configured.isdigit() or not 0 < int(configured) < 65_536:
            raise ConfigError(f"{env_var}={configured!r} is not a port number")
        return PortChoice(int(configured), None)
    if already_ours is not None:
        return PortChoice(already_ours, None)
    port = pick_port(default)
    note = None if port == default else f"port {default} is taken; using {port} (set {env_var} to choose)"
    return PortChoice(port, note)


def service_ports(services: Mapping[str, int] | None = None) -> tuple[dict[str, int], list[str]]:
    """Port for every service (`CLEARWAY_<SVC>_PORT`, default 5001-5005) and notes on substitutions."""
    defaults = dict(services or DEFAULT_PORTS)
    ports: dict[str, int] = {}
    notes: list[str] = []
    for service in SERVICE_NAMES:
        choice = choose_port(f"{env_prefix(service)}PORT", defaults[service])
        ports[service] = choice.port
        if choice.note:
            notes.append(f"{service}: {choice.note}")
    return ports, notes
