"""Ledger settings (`CLEARWAY_LEDGER_*`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_LEDGER_", extra="ignore")

    service_name: str = "ledger"
    port: int = 5001
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway_ledger"
    # Group commit: how many workers drain the posting queue, and how much each takes per transaction.
    # One by default: while its batch commits, the next requests queue up and go as one larger batch,
    # where a second worker would take them in small batches that lock the same balances and wait for
    # the first's commit anyway (docs/ledger-performance.md: at 8 in flight, 1 worker 753-823/s uniform
    # and 664-883/s one hot account, against 681-691/s and 797-840/s with 2, and 9 % less CPU a transfer).
    pipeline_workers: int = Field(default=1, ge=1, le=32)
    pipeline_batch_size_max: int = Field(default=1000, ge=1, le=10_000)
    # Batches of plain transfers go through the fast lane (service/posting/fast_lane.py): posted on
    # balances held in memory and written in one self-committing statement at the versions read.
    fast_lane: bool = True
    # How often expired holds are voided and due scheduled transactions applied.
    sweeper_interval_ms: int = Field(default=1000, ge=50, le=3_600_000)
    sweeper_batch_size_max: int = Field(default=500, ge=1, le=10_000)
