"""Clearway devstack: embedded PostgreSQL and broker, `make run`, end-to-end platform, test fixtures.

Entry points: `python -m clearway.devstack {run,up}`, `clearway.devstack.stack.start_platform`,
`clearway.devstack.pytest_plugin`. See libs/devstack/README.md.
"""
