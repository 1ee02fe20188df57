"""The funding invoice as a document: everything printed on it besides the funding itself."""

from __future__ import annotations

from dataclasses import dataclass

from clearway.funding.domain.fundings import Funding


@dataclass(frozen=True, slots=True)
class InvoiceTerms:
    """What every invoice says besides its lines: who issues it and how to pay it."""

    issuer_name: str
    bank_name: str
    account_name: str
    account_number: str
    due_days: int
    expiry_grace_days: int
    send_attempts_max: int


@dataclass(frozen=True, slots=True)
class Invoice:
    """Everything printed on the invoice."""

    funding: Funding
    terms: InvoiceTerms
    document_url: str
