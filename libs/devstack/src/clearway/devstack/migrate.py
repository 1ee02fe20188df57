"""Run one service's migrations in a fresh interpreter: `python -m clearway.devstack.migrate SERVICE URL`.

A separate process keeps the service's imports, event loop and engine out of the
orchestrator (or the pytest session). Exit codes: 0 migrated or nothing to migrate,
3 the service has no `main.create_app` yet (callers skip it), anything else a failure.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys

EXIT_NOT_A_SERVICE = 3


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m clearway.devstack.migrate SERVICE DATABASE_URL", file=sys.stderr)
        return 2
    service, database_url = argv
    module_name = f"clearway.{service}.main"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name in (module_name, f"clearway.{service}"):
            print(f"{module_name} does not exist: skipping {service}", file=sys.stderr)
            return EXIT_NOT_A_SERVICE
        raise
    if not callable(getattr(module, "create_app", None)):
        print(f"{module_name} has no create_app: skipping {service}", file=sys.stderr)
        return EXIT_NOT_A_SERVICE
    run_migrations = getattr(module, "run_migrations", None)
    if run_migrations is None:
        print(f"{module_name} has no run_migrations: nothing to migrate", file=sys.stderr)
        return 0
    outcome = run_migrations(database_url)
    if inspect.isawaitable(outcome):
        asyncio.run(_wait_for(outcome))
    print(f"{service}: migrations applied", file=sys.stderr)
    return 0


async def _wait_for(awaitable: object) -> None:
    await awaitable  # type: ignore[misc]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
