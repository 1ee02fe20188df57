"""Walking skeleton, end to end: all five services as processes, a processor on Kafka, clients on HTTP.

A processor publishes `transfer.created`; funding records it exactly once (visible on
`GET /deposits`), including after a redelivery of the same event, a processor retry under a
new event id, and a restart of funding with a transfer published while it was down.
"""

from __future__ import annotations

import asyncio

import pytest

from clearway.devstack.stack import Platform

from .walking_skeleton import (
    CONSUMER_GROUPS,
    SERVICES,
    PlatformApi,
    Processor,
    expect_all_ready,
    expect_recorded_once,
    new_event_id,
    new_transfer,
    publish_and_observe,
    republish_and_expect_no_change,
    wait_until_consumed,
)

pytestmark = pytest.mark.e2e


async def test_a_settled_transfer_is_recorded_exactly_once(running_platform: Platform) -> None:
    report = print  # visible with `pytest -s`; the assertions carry the verdict
    urls = {service: running_platform.url(service) for service in SERVICES}
    bootstrap = running_platform.kafka_bootstrap_servers
    async with PlatformApi(urls, running_platform.api_key) as api, Processor(bootstrap) as processor:
        await expect_all_ready(api, report)

        first_body, first, recorded = await publish_and_observe(processor, api, report, amount_minor=125_000)
        await republish_and_expect_no_change(
            processor,
            api,
            bootstrap,
            first_body,
            first,
            recorded,
            report,
            group_prefix=running_platform.consumer_group_prefix,
        )

        # Blocking process control runs off the event loop, so the producer stays serviced.
        await asyncio.to_thread(running_platform.stop_service, "funding")
        report("funding stopped")
        second_body = new_transfer(4_200)
        while_down = [
            await processor.publish(second_body, event_id=new_event_id()),
            await processor.publish(first_body, event_id=first.event_id),
        ]
        report(f"published {second_body['transfer_id']} and a redelivery of {first.transfer_id} while funding was down")
        await asyncio.to_thread(running_platform.start_service, "funding")
        report("funding restarted")

        await wait_until_consumed(
            bootstrap, running_platform.consumer_group_prefix + CONSUMER_GROUPS["funding"], while_down
        )
        await expect_recorded_once(api, second_body, report)
        assert await expect_recorded_once(api, first_body, report, wait=False) == recorded
