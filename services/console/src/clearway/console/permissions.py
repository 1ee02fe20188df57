"""Which actions the console offers to which roles.

This mirrors the services' own rules only to avoid offering buttons that would be refused; the
services decide (a page never trusts this for safety). Admin holds every role, as in
`clearway.platform.auth.Principal.has_role`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from clearway.platform.auth import ADMIN, APPROVER, OPERATOR, SERVICE


class Action(StrEnum):
    REQUEST_SETTLEMENT = "request_settlement"  # payout: the first person of dual approval
    DECIDE_SETTLEMENT = "decide_settlement"  # payout: approve or reject (the second person)
    MATCH = "match"  # reconciliation: manual match and unmatch
    RESOLVE_BREAK = "resolve_break"  # reconciliation
    ISSUE_PAIN001 = "issue_pain001"  # payout: issuing a batch's file closes the batch
    LINK_DEPOSIT = "link_deposit"  # funding: claim a deposit for a funding


ROLES_FOR: dict[Action, frozenset[str]] = {
    Action.REQUEST_SETTLEMENT: frozenset({OPERATOR}),
    Action.DECIDE_SETTLEMENT: frozenset({APPROVER}),
    Action.MATCH: frozenset({OPERATOR, SERVICE}),
    Action.RESOLVE_BREAK: frozenset({OPERATOR, SERVICE}),
    Action.ISSUE_PAIN001: frozenset({OPERATOR}),
    Action.LINK_DEPOSIT: frozenset({OPERATOR, APPROVER, SERVICE}),
}


def may(roles: Iterable[str], action: Action) -> bool:
    held = frozenset(roles)
    return ADMIN in held or bool(held & ROLES_FOR[action])
