"""`python -m clearway.devstack {run,up}`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from clearway.devstack.local_config import default_data_dir
from clearway.devstack.services import SERVICE_NAMES


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from clearway.devstack import runner

    arguments = _parser().parse_args(argv)
    data_dir: Path = arguments.data_dir or default_data_dir()
    if arguments.command == "run":
        return runner.run(
            data_dir,
            arguments.services,
            stream_logs=not arguments.quiet,
            ready_timeout_s=arguments.ready_timeout,
        )
    assert arguments.command == "up", arguments.command
    return runner.up(data_dir)
