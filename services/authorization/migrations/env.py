from clearway.platform.migrations import run_alembic_env

run_alembic_env()
