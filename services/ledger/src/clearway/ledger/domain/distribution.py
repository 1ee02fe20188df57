"""Split one amount across several balances (Blnk `sources` / `destinations`).

A distribution is a fixed amount (same units as the transaction's `amount`), a percentage
(`"10%"`) or `"left"` (whatever remains). Unlike Blnk, which silently moves only what the
distributions add up to, the legs here must account for the whole amount: a split that
leaves money unassigned is refused, because a transfer that moves less than it says is a
reconciliation break waiting to happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from clearway.ledger.domain.amounts import scale_exact
from clearway.ledger.domain.errors import DistributionMismatch, InvalidRequest

LEGS_MAX = 100


@dataclass(frozen=True)
class Distribution:
    identifier: str
    distribution: str


@dataclass(frozen=True)
class Leg:
    identifier: str
    amount_minor: int


def split_amount(total_minor: int, distributions: list[Distribution], currency_precision: int) -> list[Leg]:
    if not distributions:
        raise InvalidRequest("a split needs at least one distribution")
    if len(distributions) > LEGS_MAX:
        raise InvalidRequest(f"a split takes at most {LEGS_MAX} distributions")
    left_index: int | None = None
    amounts: list[int] = [0] * len(distributions)
    for index, item in enumerate(distributions):
        text = item.distribution.strip()
        if text == "left":
            if left_index is not None:
                raise InvalidRequest("only one distribution may be 'left'")
            left_index = index
            continue
        try:
            if text.endswith("%"):
                percentage = Decimal(text[:-1])
                if not 0 < percentage <= 100:
                    raise InvalidRequest(f"percentage out of range: {text}")
                amounts[index] = int(total_minor * percentage / 100)
            else:
                amounts[index] = scale_exact(Decimal(text), currency_precision, "distribution")
        except InvalidOperation as error:
            raise InvalidRequest(f"invalid distribution {text!r}") from error
        if amounts[index] <= 0:
            raise InvalidRequest(f"distribution for {item.identifier} must be positive")
    assigned = sum(amounts)
    if left_index is not None:
        amounts[left_index] = total_minor - assigned
        if amounts[left_index] <= 0:
            raise DistributionMismatch(
                "nothing is left for the 'left' distribution",
                total_minor=total_minor,
                assigned_minor=assigned,
            )
    elif assigned != total_minor:
        raise DistributionMismatch(
            f"distributions add up to {assigned} but the transaction amount is {total_minor} (minor units)",
            total_minor=total_minor,
            assigned_minor=assigned,
        )
    legs = [Leg(item.identifier, amount) for item, amount in zip(distributions, amounts, strict=True)]
    assert sum(leg.amount_minor for leg in legs) == total_minor
    return legs
