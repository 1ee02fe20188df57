"""The tenancy filters every read shares: one SQL predicate per kind of row, bound to a workspace.

Each takes the positional parameter that carries the reader's workspace id; NULL (the platform)
makes the predicate true, so platform reads are unchanged. Visibility follows ownership:
a ledger is its workspace's; a balance (account, monitor) its ledger's; a transaction is visible
to every workspace whose balance it moves (its resolved legs name balance ids, for every status,
REJECTED and SCHEDULED included), the same rule as `domain.tenancy.sees_any`.
"""

from __future__ import annotations


def ledger_visible(parameter: int, alias: str = "ledgers") -> str:
    return f"(${parameter}::text IS NULL OR {alias}.workspace_id = ${parameter}::text)"


def identity_visible(parameter: int, alias: str = "identities") -> str:
    return f"(${parameter}::text IS NULL OR {alias}.workspace_id = ${parameter}::text)"


def balance_visible(parameter: int, alias: str = "balances") -> str:
    return (
        f"(${parameter}::text IS NULL OR EXISTS (SELECT 1 FROM ledgers tl WHERE tl.ledger_id = {alias}.ledger_id"  # noqa: S608
        f" AND tl.workspace_id = ${parameter}::text))"
    )


def transaction_visible(parameter: int, alias: str = "transactions") -> str:
    return (
        f"(${parameter}::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements("  # noqa: S608
        f"COALESCE({alias}.sources, '[]'::jsonb) || COALESCE({alias}.destinations, '[]'::jsonb)) AS leg"
        " JOIN balances tb ON tb.balance_id = leg->>'balance_id'"
        f" JOIN ledgers tl ON tl.ledger_id = tb.ledger_id WHERE tl.workspace_id = ${parameter}::text))"
    )
