"""One table for a chaos run (faults injected, invariants checked, counts) and its JSON summary."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.chaos.config import ChaosConfig
from tests.chaos.faults import FaultRecord
from tests.chaos.invariants import Check


@dataclass(frozen=True)
class Summary:
    config: ChaosConfig
    duration_s: float
    faults: list[FaultRecord]
    checks: list[Check]
    requests: dict[str, int]
    acknowledged: dict[str, int]
    answers: dict[str, int]

    @property
    def lost(self) -> int:
        """Acknowledged requests whose effect is missing or doubled."""
        return sum(c.lost for c in self.checks)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k != "config"},
            "config": asdict(self.config),
            "ok": self.ok,
            "lost": self.lost,
            "machine": {"cpus": os.cpu_count(), "system": platform.platform()},
        }


def table(summary: Summary) -> str:
    config = summary.config
    lines = [
        f"chaos run, seed {config.seed}: {summary.duration_s:.0f} s, {len(summary.faults)} faults, "
        f"ready bound {config.ready_bound_s:g} s",
        "",
        f"{'fault':<28} {'at (s)':>8} {'transfers before':>17} {'ready again (s)':>16}",
    ]
    lines += [f"{f.what:<28} {f.at_s:>8.1f} {f.transfers_before:>17} {f.ready_again_s:>16.1f}" for f in summary.faults]
    lines += ["", f"{'invariant':<76} {'result':<6} detail"]
    lines += [f"{c.name:<76} {'ok' if c.ok else 'FAIL':<6} {c.detail}" for c in summary.checks]
    lines += ["", f"{'requests':<30} {'sent':>8} {'acknowledged':>13}"]
    lines += [
        f"{kind:<30} {summary.requests.get(kind, 0):>8} {summary.acknowledged.get(kind, 0):>13}"
        for kind in sorted(summary.requests)
    ]
    total_sent, total_acked = sum(summary.requests.values()), sum(summary.acknowledged.values())
    lines += [f"{'total':<30} {total_sent:>8} {total_acked:>13}", "", f"lost or doubled: {summary.lost}"]
    return "\n".join(lines)


def write_json(summary: Summary, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary.as_json(), indent=2) + "\n")
