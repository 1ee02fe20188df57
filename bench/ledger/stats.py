"""Latency percentiles and a scenario's result row."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


def percentile(sorted_values: list[float], fraction: float) -> float:
    assert sorted_values and 0 <= fraction <= 1
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


@dataclass(frozen=True)
class ScenarioResult:
    path: str  # http_single | http_bulk | kafka
    load: str  # uniform_50 | hot_1
    transfers: int
    seconds: float
    transfers_per_second: float
    latency_ms_p50: float
    latency_ms_p99: float
    latency_ms_max: float
    balances_checked: bool
    notes: str = ""

    @classmethod
    def from_latencies(
        cls,
        *,
        path: str,
        load: str,
        transfers: int,
        seconds: float,
        latencies_ms: list[float],
        checked: bool,
        notes: str = "",
    ) -> ScenarioResult:
        ordered = sorted(latencies_ms)
        return cls(
            path=path,
            load=load,
            transfers=transfers,
            seconds=round(seconds, 3),
            transfers_per_second=round(transfers / seconds, 1),
            latency_ms_p50=round(percentile(ordered, 0.50), 2),
            latency_ms_p99=round(percentile(ordered, 0.99), 2),
            latency_ms_max=round(ordered[-1], 2),
            balances_checked=checked,
            notes=notes,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
