"""Wallet top-ups end to end: five real processes, the sandbox M-Pesa steered over HTTP.

Approved (wallet credited once), a duplicate callback (no second credit), declined (nothing
moves) and a lost callback (funding's status query settles it after its timeout:
30 s in production, 5 s on the suite's platform, `E2E_SERVICE_ENV`).
"""

from __future__ import annotations

import pytest

from clearway.devstack.stack import Platform

from .topups_scenario import TopupApi, approved_topup, declined_topup, duplicate_callback, lost_callback_topup

pytestmark = pytest.mark.e2e


def topup_api(platform: Platform) -> TopupApi:
    return TopupApi(platform.url("funding"), platform.url("ledger"), platform.api_key)


async def test_an_approved_top_up_credits_once_even_when_the_callback_comes_twice(running_platform: Platform) -> None:
    async with topup_api(running_platform) as api:
        settled = await approved_topup(api, print)
        await duplicate_callback(api, settled, print)


async def test_a_declined_top_up_moves_nothing(running_platform: Platform) -> None:
    async with topup_api(running_platform) as api:
        await declined_topup(api, print)


async def test_a_lost_callback_is_settled_by_a_status_query(running_platform: Platform) -> None:
    async with topup_api(running_platform) as api:
        await lost_callback_topup(api, print)
