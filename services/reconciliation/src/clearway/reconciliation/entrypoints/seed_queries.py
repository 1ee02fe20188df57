"""Seed 003's four FRAGMENT queries, exactly as the seed writes them (a test holds them against the
seed's text). `POST /graphql` answers each verbatim: clients written against FRAGMENT's reconciliation
guide send them unchanged. Kept in the package so the unit tests and the end-to-end test over the
running platform send the very same text."""

SEED_LEDGER_IK = "ledger_123"


UNRECONCILED_PAYMENTS = """query UnreconciledPayments {
ledgerAccount(
ledgerAccount: {
path: "assets/operating"
ledger: { ik: "ledger_123" }
}
) {
unreconciledTxs {
nodes {
id
description
amount
externalId
}
}
}
}"""

PENDING_PAYMENTS = """query PendingPayments {
ledger(ledger: { ik: "ledger_123" }) {
ledgerAccounts(
filter: {
clearingStatus: { equalTo: pending }
}
) {
nodes {
path
clearingStatus
ownBalance
}
}
}
}"""

PENDING_BULK_RECEIVABLES = """query PendingBulkReceivables {
ledger(ledger: { ik: "ledger_123" }) {
ledgerAccounts(
filter: {
clearingStatus: { equalTo: pending }
path: { matches: "liabilities/bulk_receivables" }
}
) {
nodes {
path
clearingStatus
ownBalance
}
}
}
}"""

PENDING_WITHDRAWALS = """query PendingWithdrawals {
ledger(ledger: { ik: "ledger_123" }) {
ledgerAccounts(
filter: {
clearingStatus: { equalTo: pending }
path: { matches: "liabilities/pending_withdrawals:*" }
}
) {
nodes {
path
clearingStatus
ownBalance
}
}
}
}"""

SEED_QUERIES = (UNRECONCILED_PAYMENTS, PENDING_PAYMENTS, PENDING_BULK_RECEIVABLES, PENDING_WITHDRAWALS)
