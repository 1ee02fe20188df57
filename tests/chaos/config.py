"""What one chaos run does: its workload sizes, the faults to inject, and how long recovery may take.

Two sizes: `CI` is the end-to-end suite's fault test (five faults on a broker of its own, a minute
or two); `FULL` is `make chaos` (every service killed, PostgreSQL and the broker
restarted, under the whole workload: ledger transfers by HTTP and Kafka, processor deposits,
top-ups, post-fundings, withdrawals and card authorizations).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

SERVICES: tuple[str, ...] = ("ledger", "authorization", "funding", "payout", "reconciliation")
KILLS: tuple[str, ...] = tuple(f"kill -9 {service}" for service in SERVICES)
POSTGRES_RESTART = "restart PostgreSQL"
BROKER_RESTART = "restart broker"
# A service frozen past its consumer groups' session timeout (6 s by default), then let run on.
PAUSE_PREFIX = "pause "
PAUSE_S = 15.0
PAUSES: tuple[str, ...] = (f"{PAUSE_PREFIX}ledger", f"{PAUSE_PREFIX}funding")


@dataclass(frozen=True)
class ChaosConfig:
    seed: int
    # The workload runs until the last fault has recovered, and at least this long in requests.
    transfers: int
    transfers_in_flight: int
    deposits: int
    topups: int
    balances: int
    faults: tuple[str, ...]
    # Seeded pause before each fault, drawn from this range: the "random moments".
    fault_gap_s: tuple[float, float]
    # Card authorizations (every other one over Kafka, some HTTP ones reversed), end users'
    # withdrawals (approved or rejected), post-fundings, ledger transfers as Kafka commands.
    authorizations: int = 0
    withdrawals: int = 0
    fundings: int = 0
    kafka_transfers: int = 0
    # Each transfer worker's pause between transfers, each deposit's and top-up's after the last.
    transfer_pause_s: float = 0.02
    deposit_pause_s: float = 0.15
    topup_pause_s: float = 2.0
    authorization_pause_s: float = 0.1
    withdrawal_pause_s: float = 1.0
    funding_pause_s: float = 1.0
    command_pause_s: float = 0.05
    # Every service answers /health/ready 200 within this long after a fault (the stated bound).
    ready_bound_s: float = 60.0
    # An acknowledged request may be retried this long across outages before the run fails.
    retry_deadline_s: float = 180.0
    # Time for asynchronous effects (Kafka consumers, top-up callbacks) to land after the load.
    settle_bound_s: float = 120.0

    def scaled(self, seed: int, scale: float) -> ChaosConfig:
        """The same faults with `scale` times the minimum workload and the pauses between faults."""

        def size(count: int) -> int:
            return max(1, round(count * scale)) if count else 0

        low, high = self.fault_gap_s
        return dataclasses.replace(
            self,
            seed=seed,
            transfers=size(self.transfers),
            deposits=size(self.deposits),
            topups=size(self.topups),
            authorizations=size(self.authorizations),
            withdrawals=size(self.withdrawals),
            fundings=size(self.fundings),
            kafka_transfers=size(self.kafka_transfers),
            fault_gap_s=(low * scale, high * scale),
        )


# The e2e fault test (its own PostgreSQL and broker; no broker restart): every kind of request of
# the workload, a few of each, through a kill -9 of each service that takes requests and a
# PostgreSQL restart. The workload runs through every fault whatever its counts, so it is the
# request rate, not the counts, that sizes the run: a lighter one (3 HTTP transfer workers, a Kafka
# command every 0.1 s) still sends hundreds of each (about 900 transfers and 350 commands against
# 2,000 and 800 at 6 workers and 0.02/0.05 s) and leaves CI's 2 cores to the restarts and the
# settling the run waits for.
CI = ChaosConfig(
    seed=12,
    transfers=120,
    transfers_in_flight=3,
    deposits=12,
    topups=0,
    balances=4,
    faults=("kill -9 ledger", "kill -9 funding", "kill -9 authorization", "kill -9 payout", POSTGRES_RESTART),
    fault_gap_s=(0.5, 2.0),
    authorizations=16,
    # A few withdrawals, so the payout kill strikes payouts in flight (the restarted process sends
    # again a payout its rail no longer knows: service/recovery.py).
    withdrawals=3,
    fundings=2,
    kafka_transfers=60,
    transfer_pause_s=0.05,
    command_pause_s=0.1,
    deposit_pause_s=0.25,
    authorization_pause_s=0.2,
)

# Every service killed twice, PostgreSQL and the broker restarted twice, the ledger (its command
# consumer) and funding (its event consumers) frozen past their session timeout, under the whole workload.
FULL = ChaosConfig(
    seed=1,
    transfers=2000,
    transfers_in_flight=8,
    deposits=200,
    topups=40,
    balances=8,
    faults=(*KILLS, *KILLS, POSTGRES_RESTART, BROKER_RESTART, POSTGRES_RESTART, BROKER_RESTART, *PAUSES),
    fault_gap_s=(2.0, 12.0),
    authorizations=400,
    withdrawals=30,
    fundings=20,
    kafka_transfers=1000,
    transfer_pause_s=0.05,
    deposit_pause_s=0.3,
    topup_pause_s=1.5,
)
