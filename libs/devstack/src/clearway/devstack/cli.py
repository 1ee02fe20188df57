"""`python -m clearway.devstack {run,up,user-token}`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from clearway.devstack.local_config import default_data_dir, embedded_user_token, load_or_create_user_token_secret
from clearway.devstack.services import SERVICE_NAMES
from clearway.platform.user_tokens import SUBJECT_LENGTH_MAX

USER_TOKEN_USAGE = "make user-token IDENTITY=<identity id>"  # noqa: S105 (a usage line, not a secret)


def _services(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SERVICE_NAMES))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(SERVICE_NAMES)} (got {value!r})")
    return [name for name in SERVICE_NAMES if name in names]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m clearway.devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    data_dir_help = "state directory (default: $CLEARWAY_DATA_DIR or <repo>/.clearway)"

    run = commands.add_parser("run", help="infrastructure, migrations, topics and the services (make run)")
    run.add_argument("--data-dir", type=Path, default=None, help=data_dir_help)
    run.add_argument("--services", type=_services, default=list(SERVICE_NAMES), help="comma-separated subset")
    run.add_argument("--quiet", action="store_true", help="do not stream service logs to the console")
    run.add_argument("--ready-timeout", type=float, default=60.0, help="seconds to wait for /health/ready")

    up = commands.add_parser("up", help="infrastructure, databases and topics only (make dev)")
    up.add_argument("--data-dir", type=Path, default=None, help=data_dir_help)

    token = commands.add_parser("user-token", help="print a one-hour end-user token for the embedded stack")
    token.add_argument("--identity", default="", help="the user's ledger identity id (the token's `sub`)")
    token.add_argument("--data-dir", type=Path, default=None, help=data_dir_help)
    return parser


def print_user_token(data_dir: Path, identity_id: str, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Sign a token with the stack's secret (created if `make run` has not yet) and print it as the
    last line of stdout; the note before it goes to stderr, so `$(make user-token ...)` is the token."""
    out, err = out or sys.stdout, err or sys.stderr
    identity = identity_id.strip()
    if not identity or len(identity) > SUBJECT_LENGTH_MAX:
        print(f"user-token: IDENTITY must be a ledger identity id: {USER_TOKEN_USAGE}", file=err)
        return 2
    secret = load_or_create_user_token_secret(data_dir)
    token = embedded_user_token(identity, secret=secret, env=os.environ)
    print(f"# end-user token for {identity}, valid one hour: Authorization: Bearer <token>", file=err, flush=True)
    print(token, file=out, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    data_dir: Path = arguments.data_dir or default_data_dir()
    if arguments.command == "user-token":
        return print_user_token(data_dir, arguments.identity)
    from clearway.devstack import runner  # PostgreSQL, broker, processes: only to start things

    if arguments.command == "run":
        return runner.run(
            data_dir,
            arguments.services,
            stream_logs=not arguments.quiet,
            ready_timeout_s=arguments.ready_timeout,
        )
    assert arguments.command == "up", arguments.command
    return runner.up(data_dir)
