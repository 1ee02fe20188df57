"""Where `make run` keeps its state and which ports it prefers (all overridable by environment)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from clearway.devstack.ports import pick_port
from clearway.devstack.services import DEFAULT_PORTS, SERVICE_NAMES, env_prefix
from clearway.platform.settings import DEFAULT_USER_TOKEN_AUDIENCE, DEFAULT_USER_TOKEN_ISSUER
from clearway.platform.user_tokens import USER_TOKEN_TTL_S, issue_user_token

DEFAULT_POSTGRES_PORT = 5433
DEFAULT_BROKER_PORT = 9092
USER_TOKEN_SECRET_FILE = "user-token-secret"  # noqa: S105 (a file name)
APPROVER_KEY_FILE = "dev-approver-key"
VIEWER_KEY_FILE = "dev-viewer-key"
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
    return _load_or_create_secret("CLEARWAY_DEV_API_KEY", data_dir / "dev-api-key", secrets.token_urlsafe(32))


def load_or_create_approver_key(data_dir: Path) -> str:
    """`CLEARWAY_DEV_APPROVER_API_KEY`, else `<data_dir>/dev-approver-key` (created once): the second
    principal (`dev-approver`, roles approver and operator) that dual approval needs locally."""
    return _load_or_create_secret(
        "CLEARWAY_DEV_APPROVER_API_KEY", data_dir / APPROVER_KEY_FILE, secrets.token_urlsafe(32)
    )


def load_or_create_viewer_key(data_dir: Path) -> str:
    """`CLEARWAY_DEV_VIEWER_API_KEY`, else `<data_dir>/dev-viewer-key` (created once): a read-only
    principal (`dev-viewer`), so the console can be seen refusing what a role may not do."""
    return _load_or_create_secret("CLEARWAY_DEV_VIEWER_API_KEY", data_dir / VIEWER_KEY_FILE, secrets.token_urlsafe(32))


def load_or_create_user_token_secret(data_dir: Path) -> str:
    """`CLEARWAY_USER_TOKEN_SECRET`, else `<data_dir>/user-token-secret` (created once).

    `make run` passes it to every service and `make user-token` signs with it, whichever runs first.
    """
    return _load_or_create_secret(
        "CLEARWAY_USER_TOKEN_SECRET", data_dir / USER_TOKEN_SECRET_FILE, secrets.token_urlsafe(48)
    )


def embedded_user_token(identity_id: str, *, secret: str, env: Mapping[str, str], ttl_s: int = USER_TOKEN_TTL_S) -> str:
    """A token the services started with `env` accept: their issuer and audience (defaults when unset)."""
    return issue_user_token(
        identity_id,
        secret=secret,
        issuer=env.get("CLEARWAY_USER_TOKEN_ISSUER") or DEFAULT_USER_TOKEN_ISSUER,
        audience=env.get("CLEARWAY_USER_TOKEN_AUDIENCE") or DEFAULT_USER_TOKEN_AUDIENCE,
        ttl_s=ttl_s,
    )


def _load_or_create_secret(env_var: str, path: Path, new_value: str) -> str:
    configured = os.environ.get(env_var)
    if configured:
        return configured
    stored = _read_secret(path)
    if stored:
        return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Exclusive and owner-only: two commands starting at once must end up with one secret.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path) or _overwrite_secret(path, new_value)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(new_value + "\n")
    return new_value


def _read_secret(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


def _overwrite_secret(path: Path, value: str) -> str:
    """An empty file (an interrupted write, or made by hand) is replaced, still owner-only."""
    path.chmod(0o600)
    path.write_text(value + "\n", encoding="utf-8")
    return value


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
    """Port for every service (`CLEARWAY_<SVC>_PORT`, default 5001-5006) and notes on substitutions."""
    defaults = dict(services or DEFAULT_PORTS)
    ports: dict[str, int] = {}
    notes: list[str] = []
    for service in SERVICE_NAMES:
        choice = choose_port(f"{env_prefix(service)}PORT", defaults[service])
        ports[service] = choice.port
        if choice.note:
            notes.append(f"{service}: {choice.note}")
    return ports, notes
