"""`make demo`: the walking skeleton against a platform that is already running (`make run`).

    python -m tests.e2e.demo

Publishes `transfer.created` as a processor would, shows the deposit on funding and the
external transaction on reconciliation, then publishes the same event again and a processor
retry under a new event id, and shows that each service still holds exactly one record.
Then seed 000's post-funding flow: payables, a funding invoice, its deposit, link, payees paid.

Where things are: `CLEARWAY_<SERVICE>_URL` (default `http://127.0.0.1:5001`..`5005`),
`KAFKA_BOOTSTRAP_SERVERS` (default `127.0.0.1:9092`), and the API key from
`CLEARWAY_DEV_API_KEY` or the `dev-api-key` file `make run` writes under `.clearway/`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable

import httpx
from aiokafka.errors import KafkaError

from clearway.devstack.local_config import (
    APPROVER_KEY_FILE,
    DEFAULT_BROKER_PORT,
    USER_TOKEN_SECRET_FILE,
    default_data_dir,
    embedded_user_token,
)
from clearway.devstack.scenarios.seed_charge_card import run_seed_002
from clearway.devstack.services import DEFAULT_PORTS, service_url

from .card_scenario import run_card
from .funding_flows import FundingFlowApi, run_post_funding
from .reconciliation_scenario import run_reconciliation
from .topups_scenario import TopupApi, run_topup_flows
from .walking_skeleton import (
    SERVICES,
    PlatformApi,
    Processor,
    expect_all_ready,
    publish_and_observe,
    republish_and_expect_no_change,
)
from .withdrawals_scenario import WithdrawalApi, withdrawal_paid_out

API_KEY_FILE = "dev-api-key"


class DemoSetupError(RuntimeError):
    """The demo cannot find the running platform's address or key."""


def service_urls() -> dict[str, str]:
    return {
        service: os.environ.get(f"CLEARWAY_{service.upper()}_URL") or service_url(DEFAULT_PORTS[service])
        for service in SERVICES
    }


def _stored(env_var: str, file_name: str, what: str) -> str:
    """A credential `make run` made; read only, so the demo never invents one the services do not know."""
    configured = os.environ.get(env_var)
    if configured:
        return configured
    path = default_data_dir() / file_name
    if path.is_file():
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            return stored
    raise DemoSetupError(f"no {what}: set {env_var} or start the platform with `make run` ({path})")


def api_key() -> str:
    return _stored("CLEARWAY_DEV_API_KEY", API_KEY_FILE, "API key")


def approver_key() -> str:
    """The second principal `make run` configures (`dev-approver`), for dual approval."""
    return _stored("CLEARWAY_DEV_APPROVER_API_KEY", APPROVER_KEY_FILE, "approver key")


def user_token(identity_id: str) -> str:
    """An end-user token signed with `make run`'s secret, as `make user-token` prints it."""
    secret = _stored("CLEARWAY_USER_TOKEN_SECRET", USER_TOKEN_SECRET_FILE, "user token secret")
    return embedded_user_token(identity_id, secret=secret, env=os.environ)


def say(message: str) -> None:
    print(f"  {message}", flush=True)


async def run_demo() -> None:
    urls = service_urls()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or f"127.0.0.1:{DEFAULT_BROKER_PORT}"
    print(f"Clearway demo: broker {bootstrap}; " + ", ".join(f"{name} {url}" for name, url in urls.items()))
    await run_demo_flows(
        urls,
        bootstrap,
        api_key(),
        say,
        approver=approver_key(),
        mint_token=user_token,
        group_prefix=os.environ.get("KAFKA_CONSUMER_GROUP_PREFIX", ""),
    )
    print(f"done: one deposit and one external transaction; see {urls['funding']}/deposits?linked=false")


async def run_demo_flows(
    urls: dict[str, str],
    bootstrap: str,
    key: str,
    report: Callable[[str], None],
    *,
    approver: str,
    mint_token: Callable[[str], str],
    group_prefix: str = "",
) -> None:
    """Every demo step against the platform at `urls`; the e2e suite runs it before and after a restart."""
    async with PlatformApi(urls, key) as api, Processor(bootstrap) as processor:
        print("1. every service is ready")
        await expect_all_ready(api, report)
        print("2. a processor reports a settled transfer (transfer.created)")
        body, first, recorded = await publish_and_observe(processor, api, report, amount_minor=125_000)
        print("3. the same event again, and a processor retry with a new event id")
        await republish_and_expect_no_change(
            processor, api, bootstrap, body, first, recorded, report, group_prefix=group_prefix
        )
        print("4. post-funding (seed 000): payables, one invoice, its deposit linked, payees paid")
        async with FundingFlowApi(urls, key) as funding_api:
            await run_post_funding(processor, funding_api, report)
    print("5. topups: approved, a duplicate callback, declined, and a lost callback (status query)")
    async with TopupApi(urls["funding"], urls["ledger"], key) as topups:
        await run_topup_flows(topups, report)
    print("6. money out (seed 001): top up, withdraw, a second principal approves, the sandbox M-Pesa pays")
    async with WithdrawalApi(urls, key, approver, mint_token) as withdrawals:
        await withdrawal_paid_out(withdrawals, report)
    print("7. a charge card on the ledger (seed 002): holds, over-limit rejection, fees, clearing, repayment")
    async with httpx.AsyncClient(base_url=urls["ledger"], headers={"X-Blnk-Key": key}, timeout=30) as ledger:
        balances = await run_seed_002(ledger)
        report(f"card ledger balances settled as the seed describes: {', '.join(sorted(balances))}")
    print("8. reconciliation (seed 003): expectations, the bank's statement, matched and posted; nothing left over")
    async with (
        httpx.AsyncClient(base_url=urls["ledger"], headers={"X-API-Key": key}, timeout=30) as ledger,
        httpx.AsyncClient(base_url=urls["reconciliation"], headers={"X-API-Key": key}, timeout=30) as recon,
    ):
        await run_reconciliation(ledger, recon, report)
    print(
        "9. a charge card through authorization (seed 002): account, approved and declined, cleared lower, fee re-posted"
    )
    async with (
        httpx.AsyncClient(base_url=urls["ledger"], headers={"X-API-Key": key}, timeout=30) as ledger,
        httpx.AsyncClient(base_url=urls["authorization"], headers={"X-API-Key": key}, timeout=30) as card_service,
    ):
        await run_card(card_service, ledger, report)


def main() -> int:
    try:
        asyncio.run(run_demo())
    except (AssertionError, DemoSetupError) as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    except (OSError, httpx.HTTPError, KafkaError) as error:  # nothing listening where the platform should be
        print(f"demo failed: cannot reach the platform ({error!r}); is `make run` running?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
