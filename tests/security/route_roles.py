"""Who may call what: the reviewed authorization matrix of every route of every service (issue 14 §3).

`test_route_authorization_matrix.py` enumerates each app's real routes and fails when a route is
missing here or this file names a route that no longer exists, so a new route cannot ship without
a rule. Then it calls every route as every principal and checks the answer:

- a principal named in the route's set must get past authorization (anything but 401/403: a
  dummy id's 404 or an invalid body's 400 is fine, this is not a business-logic test);
- any other principal is refused: 401 without (or with an unknown) credential, 403 when
  authenticated with the wrong role. End users hold the `user` role only; admin holds every role.

Principals: admin, operator, approver, processor, service, read_only (one API key each), user (an
end-user token), none (no credential). Keys are per route, "METHOD /path/template" as the app
declares it ("WS" for a WebSocket route).

Derived from the code (`require_roles(...)` of each route's dependencies), then reviewed against the
services' READMEs. Changing a set here is a security decision: say why in the commit.
"""

from __future__ import annotations

ADMIN = "admin"
OPERATOR = "operator"
APPROVER = "approver"
PROCESSOR = "processor"
SERVICE = "service"
READ_ONLY = "read_only"
USER = "user"
NONE = "none"
PRINCIPALS = (ADMIN, OPERATOR, APPROVER, PROCESSOR, SERVICE, READ_ONLY, USER, NONE)


def allow(*principals: str) -> frozenset[str]:
    """Admin holds every role, so it is allowed wherever any key role is."""
    assert set(principals) <= set(PRINCIPALS), principals
    return frozenset({ADMIN, *principals})


# No credential needed: probes, metrics, the API documents.
PUBLIC = frozenset(PRINCIPALS)
# The credential is the secret token in the path (a provider's callback): with a wrong token every
# principal, admin included, is refused (401, or 404 for a route that hides itself); an API key or a
# user token never stands in for it.
PATH_TOKEN_ROUTES: set[tuple[str, str]] = set()


def path_token(service: str, route: str) -> frozenset[str]:
    PATH_TOKEN_ROUTES.add((service, route))
    return frozenset()


NOBODY = frozenset[str]()
ADMIN_ONLY = allow()
# Every key role may look (the usual "readers"); not end users.
READERS = allow(OPERATOR, APPROVER, PROCESSOR, SERVICE, READ_ONLY)

# The platform's own routes, the same in every service (clearway.platform.http.create_http_app).
PLATFORM_ROUTES = {
    "GET /health/live": PUBLIC,
    "GET /health/ready": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /asyncapi.json": PUBLIC,
    "GET /openapi.json": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /docs/oauth2-redirect": PUBLIC,
    "GET /redoc": PUBLIC,
}

# The sandbox mobile-money rail's control API (funding and payout, sandbox provider only): operators.
SANDBOX_CONTROL = allow(OPERATOR)
SANDBOX_ROUTES = {
    "POST /sandbox/mobile-money/scenarios": SANDBOX_CONTROL,
    "DELETE /sandbox/mobile-money/scenarios": SANDBOX_CONTROL,
    "GET /sandbox/mobile-money/requests": SANDBOX_CONTROL,
    "POST /sandbox/mobile-money/requests/{checkout_request_id}/redeliver": SANDBOX_CONTROL,
    "POST /sandbox/mobile-money/requests/{request_id}/reverse": SANDBOX_CONTROL,
    "POST /sandbox/mobile-money/deliveries": SANDBOX_CONTROL,
}

# A consuming service's dead letters (clearway.platform.dead_letters, mounted by all five): operators
# and read-only principals look (the console's overview and dead-letters page); nobody writes.
DEAD_LETTER_READERS = allow(OPERATOR, READ_ONLY)
DEAD_LETTER_ROUTES = {
    "GET /admin/dead-letters": DEAD_LETTER_READERS,
    "GET /admin/dead-letters/count": DEAD_LETTER_READERS,
    "GET /admin/dead-letters/{dead_letter_id}": DEAD_LETTER_READERS,
}

# --- ledger ------------------------------------------------------------------------------------
# Moving money (and creating ledgers, identities, balances): operator, service. Reading: those and
# processor, approver, read_only. No end users (their wallet is read through payout). A processor
# key used to be a writer, so it could POST /transactions from `@World-<CUR>` into any balance (mint
# money) past authorization's card controls: found by this matrix, fixed in dependencies.py.
LEDGER_WRITERS = allow(OPERATOR, SERVICE)
LEDGER_READERS = allow(OPERATOR, PROCESSOR, SERVICE, APPROVER, READ_ONLY)

LEDGER = {
    **PLATFORM_ROUTES,
    **DEAD_LETTER_ROUTES,
    "POST /ledgers": LEDGER_WRITERS,
    "GET /ledgers": LEDGER_READERS,
    "GET /ledgers/{ledger_id}": LEDGER_READERS,
    "POST /identities": LEDGER_WRITERS,
    "GET /identities": LEDGER_READERS,
    "GET /identities/{identity_id}": LEDGER_READERS,
    "POST /balances": LEDGER_WRITERS,
    "GET /balances": LEDGER_READERS,
    "GET /balances/indicator/{indicator}/currency/{currency}": LEDGER_READERS,
    "GET /balances/{balance_id}": LEDGER_READERS,
    "GET /balances/{balance_id}/at": LEDGER_READERS,
    "POST /balance-monitors": LEDGER_WRITERS,
    "GET /balance-monitors/{monitor_id}": LEDGER_READERS,
    "POST /transactions": LEDGER_WRITERS,
    "PUT /transactions/inflight/{transaction_id}": LEDGER_WRITERS,
    "POST /refund-transaction/{transaction_id}": LEDGER_WRITERS,
    "POST /transactions/refund-transaction/{transaction_id}": LEDGER_WRITERS,
    "POST /transactions/bulk": LEDGER_WRITERS,
    "GET /transactions/{transaction_id}": LEDGER_READERS,
    "GET /transactions/reference/{reference}": LEDGER_READERS,
    "GET /transactions": LEDGER_READERS,
    "POST /search/transactions": LEDGER_READERS,  # a read with a query body
    "PUT /ledgers/{ledger_id}/schema": LEDGER_WRITERS,
    "GET /ledgers/{ledger_id}/schema": LEDGER_READERS,
    "GET /schemas/shipped": LEDGER_READERS,
    "POST /ledgers/{ledger_id}/schema/shipped/{key}": LEDGER_WRITERS,
    "POST /ledgers/{ledger_id}/entries": LEDGER_WRITERS,
    "POST /ledgers/{ledger_id}/reconcile": LEDGER_WRITERS,
    "POST /ledgers/{ledger_id}/entries/{ik}/reverse": LEDGER_WRITERS,
    "GET /ledgers/{ledger_id}/entries/{ik}": LEDGER_READERS,
    "GET /ledgers/{ledger_id}/accounts": LEDGER_READERS,
}

# --- authorization -----------------------------------------------------------------------------
# README "Routes": processors and services authorize, reverse and clear; operators and services
# open accounts and manage cards; operators run the jobs; readers read; an end user's token
# authorizes nothing here.
CARD_ACCOUNT_MANAGERS = allow(OPERATOR, SERVICE)
AUTHORIZERS = allow(PROCESSOR, SERVICE)
JOB_RUNNERS = allow(OPERATOR)

AUTHORIZATION = {
    **PLATFORM_ROUTES,
    **DEAD_LETTER_ROUTES,
    "POST /card-accounts": CARD_ACCOUNT_MANAGERS,
    "GET /card-accounts": READERS,
    "GET /card-accounts/{card_account_id}": READERS,
    "POST /card-accounts/{card_account_id}/cards": CARD_ACCOUNT_MANAGERS,
    "GET /card-accounts/{card_account_id}/cards": READERS,
    "GET /cards/{card_id}": READERS,
    "PATCH /cards/{card_id}": CARD_ACCOUNT_MANAGERS,
    "POST /authorizations": AUTHORIZERS,
    "POST /authorizations/{authorization_id}/reversals": AUTHORIZERS,
    "GET /authorizations": READERS,
    "GET /authorizations/{authorization_id}": READERS,
    "POST /clearings": AUTHORIZERS,
    "GET /clearings": READERS,
    "GET /clearings/{clearing_id}": READERS,
    "POST /card-accounts/{card_account_id}/repayments": CARD_ACCOUNT_MANAGERS,
    "GET /card-accounts/{card_account_id}/repayments": READERS,
    "GET /card-accounts/{card_account_id}/statements": READERS,
    "GET /card-accounts/{card_account_id}/statements/{number}": READERS,
    "POST /admin/jobs/expire-authorizations": JOB_RUNNERS,
    "POST /admin/jobs/accrue-interest": JOB_RUNNERS,
    "POST /admin/jobs/close-cycles": JOB_RUNNERS,
    "POST /admin/jobs/mark-overdue": JOB_RUNNERS,
}

# --- funding -----------------------------------------------------------------------------------
# Readers look; operators, approvers and services change payables and fundings; approving is the
# approver's duty alone; the workspace's settings are the operator's; top-ups are started by the
# wallet app's backend (service), an operator, or the wallet's owner (user, scoped to their own).
# REVIEW (reported): approvers are writers too, so one approver key can create a payable and approve it
# (no check that the approver is not the creator, unlike payout's approvals).
FUNDING_WRITERS = allow(OPERATOR, APPROVER, SERVICE)
FUNDING_APPROVERS = allow(APPROVER)
TOPUP_STARTERS = allow(OPERATOR, SERVICE, USER)
TOPUP_READERS = allow(OPERATOR, APPROVER, PROCESSOR, SERVICE, READ_ONLY, USER)

FUNDING = {
    **PLATFORM_ROUTES,
    **DEAD_LETTER_ROUTES,
    **SANDBOX_ROUTES,
    "GET /deposits": READERS,
    "GET /deposits/{deposit_id}": READERS,
    "POST /payable": FUNDING_WRITERS,
    "GET /payable/{payable_id}": READERS,
    "GET /payables": READERS,
    "PUT /payable/{payable_id}": FUNDING_WRITERS,
    "PUT /payable/{payable_id}/approve": FUNDING_APPROVERS,
    "POST /payable/{payable_id}/approve": FUNDING_APPROVERS,
    "PUT /payable/{payable_id}/unapprove": FUNDING_APPROVERS,
    "POST /payable/{payable_id}/unapprove": FUNDING_APPROVERS,
    "PUT /payable/{payable_id}/cancel": FUNDING_WRITERS,
    "POST /payable/{payable_id}/cancel": FUNDING_WRITERS,
    "POST /funding": FUNDING_WRITERS,
    "GET /fundings": READERS,
    "GET /funding/{funding_id}": READERS,
    "GET /funding/{funding_id}/invoice": READERS,
    "POST /funding/{funding_id}/link-deposit": FUNDING_WRITERS,
    "POST /funding/{funding_id}/cancel": FUNDING_WRITERS,
    "GET /workspace": READERS,
    "PATCH /workspace": allow(OPERATOR),
    "POST /api/v1/payments/top-ups": TOPUP_STARTERS,
    "GET /api/v1/payments/top-ups/{topup_id}": TOPUP_READERS,
    "POST /api/v1/payments/top-ups/callbacks/{provider}/{callback_token}": path_token(
        "funding", "POST /api/v1/payments/top-ups/callbacks/{provider}/{callback_token}"
    ),
}

# --- payout ------------------------------------------------------------------------------------
# README "Who calls": end users on /api/v1/payments/... for their own wallet (another user's is
# 404); operators for a user by naming them; /api/v1/admin/payments/... by role; the rail's
# callbacks by the token in their path.
# End users see their own only (another's is 404: admitted, then not found). Processors used to read
# every user's withdrawal methods, withdrawals and wallet: found by this matrix, fixed.
PAYOUT_READERS = allow(USER, OPERATOR, APPROVER, SERVICE, READ_ONLY)
PAYOUT_OPERATOR_READERS = allow(OPERATOR, APPROVER, SERVICE, READ_ONLY)
MOVERS = allow(USER, OPERATOR)  # may ask for money to move out of a wallet
SETTLEMENT_REQUESTERS = allow(OPERATOR)
DECIDERS = allow(APPROVER)

PAYOUT = {
    **PLATFORM_ROUTES,
    **DEAD_LETTER_ROUTES,
    **SANDBOX_ROUTES,
    "POST /api/v1/payments/withdrawal-methods": MOVERS,
    "GET /api/v1/payments/withdrawal-methods": PAYOUT_READERS,
    "GET /api/v1/payments/withdrawal-methods/{method_id}": PAYOUT_READERS,
    "DELETE /api/v1/payments/withdrawal-methods/{method_id}": MOVERS,
    "POST /api/v1/payments/withdrawals": MOVERS,
    "GET /api/v1/payments/withdrawals": PAYOUT_READERS,
    "GET /api/v1/payments/withdrawals/{withdrawal_id}": PAYOUT_READERS,
    "GET /api/v1/payments/wallet": PAYOUT_READERS,
    "POST /api/v1/admin/payments/withdrawals/{withdrawal_id}/mock-settlement-requests": SETTLEMENT_REQUESTERS,
    "POST /api/v1/admin/payments/withdrawals/{withdrawal_id}/settlement-requests": SETTLEMENT_REQUESTERS,
    "POST /api/v1/admin/payments/approval-requests/{approval_id}/mock-settlement-approvals": DECIDERS,
    "POST /api/v1/admin/payments/approval-requests/{approval_id}/approvals": DECIDERS,
    "POST /api/v1/admin/payments/approval-requests/{approval_id}/rejections": DECIDERS,
    "GET /api/v1/admin/payments/approval-requests": PAYOUT_OPERATOR_READERS,
    "GET /api/v1/admin/payments/approval-requests/{approval_id}": PAYOUT_OPERATOR_READERS,
    "GET /api/v1/admin/payments/settings": ADMIN_ONLY,
    "PUT /api/v1/admin/payments/settings": ADMIN_ONLY,
    "GET /api/v1/admin/payments/payout-batches": PAYOUT_OPERATOR_READERS,
    "GET /api/v1/admin/payments/payout-batches/{batch_id}": PAYOUT_OPERATOR_READERS,
    "GET /api/v1/admin/payments/payout-batches/{batch_id}/pain001": allow(OPERATOR),
    "POST /api/v1/admin/payments/payout-batches/{batch_id}/settlement": allow(OPERATOR),
    "POST /api/v1/payments/payouts/callbacks/{provider}/{callback_token}/result": path_token(
        "payout", "POST /api/v1/payments/payouts/callbacks/{provider}/{callback_token}/result"
    ),
    "POST /api/v1/payments/payouts/callbacks/{provider}/{callback_token}/timeout": path_token(
        "payout", "POST /api/v1/payments/payouts/callbacks/{provider}/{callback_token}/timeout"
    ),
}

# --- reconciliation ----------------------------------------------------------------------------
# Readers look (REST and GraphQL); operators and services change links, expectations,
# statements, matches, resolutions and run matching and checks.
RECONCILIATION_WRITERS = allow(OPERATOR, SERVICE)

RECONCILIATION = {
    **PLATFORM_ROUTES,
    **DEAD_LETTER_ROUTES,
    "POST /links": RECONCILIATION_WRITERS,
    "GET /links": READERS,
    "GET /links/{link_id}": READERS,
    "POST /links/{link_id}/statements": RECONCILIATION_WRITERS,
    "GET /external-transactions": READERS,
    "GET /external-transactions/{transaction_id}": READERS,
    "GET /unreconciled": READERS,
    "POST /expectations": RECONCILIATION_WRITERS,
    "GET /expectations": READERS,
    "GET /expectations/{expectation_id}": READERS,
    "POST /expectations/{expectation_id}/cancellation": RECONCILIATION_WRITERS,
    "POST /matching/runs": RECONCILIATION_WRITERS,
    "POST /matches": RECONCILIATION_WRITERS,
    "GET /matches": READERS,
    "GET /matches/{match_id}": READERS,
    "DELETE /matches/{match_id}": RECONCILIATION_WRITERS,
    "POST /batches": RECONCILIATION_WRITERS,
    "GET /batches": READERS,
    "GET /batches/{batch_id}": READERS,
    "POST /links/{link_id}/card-settlements": RECONCILIATION_WRITERS,
    "GET /links/{link_id}/card-settlements/{settlement_id}": READERS,
    "POST /links/{link_id}/card-clearings": RECONCILIATION_WRITERS,
    "GET /links/{link_id}/card-clearings/{clearing_id}": READERS,
    "GET /breaks": READERS,
    "GET /breaks/{break_id}": READERS,
    "POST /breaks/{break_id}/resolution": RECONCILIATION_WRITERS,
    "POST /checks/runs": RECONCILIATION_WRITERS,
    "GET /clearing-accounts": READERS,
    "GET /links/{link_id}/reports/daily": READERS,
    "GET /graphql": READERS,
    "POST /graphql": READERS,
    # No `WS /graphql`: queries only, so the router drops strawberry's WebSocket route (it failed
    # closed with a TypeError in current_principal for every principal).
}

ROUTE_ROLES: dict[str, dict[str, frozenset[str]]] = {
    "ledger": LEDGER,
    "authorization": AUTHORIZATION,
    "funding": FUNDING,
    "payout": PAYOUT,
    "reconciliation": RECONCILIATION,
}

# Server errors the matrix tolerates from an admitted principal, each a defect this test found (not an
# authorization one). The test fails once the route stops answering 5xx: remove the entry with the fix.
KNOWN_SERVER_ERRORS: dict[tuple[str, str], str] = {}
