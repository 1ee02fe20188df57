import pytest

from clearway.platform.db import asyncpg_url, libpq_url
from clearway.platform.replay import _conditions, main


def test_replay_refuses_to_run_without_a_filter() -> None:
    with pytest.raises(SystemExit):
        main(["--database-url", "postgresql://postgres@127.0.0.1/x"])
    with pytest.raises(AssertionError):
        _conditions(since_id=None, event_id=None, topic=None)


def test_replay_filters_combine() -> None:
    assert len(_conditions(since_id=10, event_id=None, topic="payable.created")) == 3


def test_database_urls_convert_between_drivers() -> None:
    assert asyncpg_url("postgresql://u:p%40ss@h:5433/db") == "postgresql+asyncpg://u:p%40ss@h:5433/db"
    assert libpq_url("postgresql+asyncpg://u@h/db") == "postgresql://u@h/db"
