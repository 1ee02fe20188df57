"""Funding's payables and fundings by status (the principal's workspace, as funding scopes them)."""

from __future__ import annotations

from clearway.console.views.pages import ListSource

PAYABLE_STATUSES = ("created", "approved", "unapproved", "in_funding", "funded", "paying", "paid", "cancelled")
FUNDING_STATUSES = ("awaiting_funds", "linking", "funded", "paid_out", "cancelled", "expired")


PAYABLES = ListSource("funding", "/payables", "/funding/payables")
FUNDINGS = ListSource("funding", "/fundings", "/funding/fundings")
