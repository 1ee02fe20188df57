"""A service's outbox refuses a topic the contracts catalogue does not list it as producing."""

from __future__ import annotations

import re

import pytest

from clearway.platform.publishing import (
    TopicNotProducedError,
    published_topics,
    require_produced_by,
    require_source_produces,
)


def test_a_service_may_publish_what_the_catalogue_says_it_produces() -> None:
    assert "payable.paid" in published_topics("funding")
    require_produced_by("funding", "payable.paid")
    require_source_produces("clearway.ledger", "ledger.transaction.applied")


def test_a_topic_the_service_does_not_produce_is_refused() -> None:
    with pytest.raises(
        TopicNotProducedError, match=re.escape("funding does not produce 'ledger.transaction.requested'")
    ):
        require_produced_by("funding", "ledger.transaction.requested")
    with pytest.raises(TopicNotProducedError):
        require_source_produces("clearway.funding", "ledger.transaction.applied")


def test_sources_that_are_not_a_service_are_not_checked() -> None:
    require_source_produces("urn:clearway:e2e", "anything.at.all")
    require_source_produces("clearway.tools", "anything.at.all")
