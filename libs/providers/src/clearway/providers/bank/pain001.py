"""SEPA credit-transfer initiation files (ISO 20022 pain.001.001.03), for bank payouts.

Rendered with `sepaxml` (one payment-information block, batch booking, service level SEPA,
charges SLEV) and checked against the pain.001.001.03 XSD with `xmlschema` before it is
returned, so a file that leaves here is schema-valid. Amounts are integer euro cents, which is
what sepaxml takes. The file's ids are ours and deterministic: GrpHdr/MsgId and PmtInfId are
`message_id`, each EndToEndId is the transfer's `end_to_end_id` (the bank echoes it on returns
and statements, so reconciliation matches on it).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib.resources import files
from typing import Any

from sepaxml import SepaTransfer

from clearway.providers.bank.errors import InvalidCreditTransfer
from clearway.providers.bank.iban import normalise_bic, normalise_iban

SEPA_CURRENCY = "EUR"
PAIN001_SCHEMA = "pain.001.001.03"
ID_LENGTH_MAX = 35  # Max35Text: MsgId, PmtInfId, EndToEndId
NAME_LENGTH_MAX = 70  # longer names are cut (after transliteration to the SEPA character set)
REMITTANCE_LENGTH_MAX = 140  # refused, not cut: reconciliation matches on it
SEPA_AMOUNT_MINOR_MAX = 99_999_999_999  # EUR 999,999,999.99, the scheme's ceiling per transfer
TRANSFERS_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Debtor:
    """Our account the transfers are paid from."""

    name: str
    iban: str
    bic: str | None = None


@dataclass(frozen=True, slots=True)
class CreditTransfer:
    end_to_end_id: str
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None
    amount_minor: int
    currency: str
    remittance_information: str


class _Pain001(SepaTransfer):  # type: ignore[misc]  # sepaxml ships no type information
    """sepaxml's transfer with our own message id, creation time and payment-information id
    (sepaxml would make random ones and read the local clock)."""

    def __init__(self, config: dict[str, Any], *, message_id: str, created_at: datetime) -> None:
        self._message_id = message_id
        self._created_at = created_at
        super().__init__(config, schema=PAIN001_SCHEMA, clean=True)

    def _create_header(self) -> None:
        self.msg_id = self._message_id
        super()._create_header()
        created = self._xml.find("CstmrCdtTrfInitn/GrpHdr/CreDtTm")
        created.text = self._created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    def _finalize_batch(self) -> None:
        super()._finalize_batch()
        for node in self._xml.iter("PmtInfId"):
            node.text = self._message_id


def _identifier(value: str, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= ID_LENGTH_MAX or value != value.strip():
        raise InvalidCreditTransfer(f"{what} must be 1..{ID_LENGTH_MAX} characters without surrounding spaces")
    return value


def _name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCreditTransfer(f"{what} must not be empty")
    return value.strip()


def _payment(transfer: CreditTransfer, execution_date: date) -> dict[str, Any]:
    if transfer.currency != SEPA_CURRENCY:
        raise InvalidCreditTransfer(
            f"SEPA credit transfers are in {SEPA_CURRENCY} only; transfer {transfer.end_to_end_id[:ID_LENGTH_MAX]!r} "
            f"is in {transfer.currency[:8]}"
        )
    amount = transfer.amount_minor
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= SEPA_AMOUNT_MINOR_MAX:
        raise InvalidCreditTransfer(f"amount_minor must be 1..{SEPA_AMOUNT_MINOR_MAX} cents")
    if len(transfer.remittance_information) > REMITTANCE_LENGTH_MAX:
        raise InvalidCreditTransfer(f"remittance_information must be at most {REMITTANCE_LENGTH_MAX} characters")
    payment: dict[str, Any] = {
        "name": _name(transfer.creditor_name, "creditor_name"),
        "IBAN": normalise_iban(transfer.creditor_iban),
        "amount": amount,  # sepaxml takes integer cents
        "execution_date": execution_date,
        "description": transfer.remittance_information,
        "endtoend_id": _identifier(transfer.end_to_end_id, "end_to_end_id"),
    }
    if transfer.creditor_bic:
        payment["BIC"] = normalise_bic(transfer.creditor_bic)
    return payment


def render_pain001(
    *,
    message_id: str,
    debtor: Debtor,
    execution_date: date,
    transfers: Sequence[CreditTransfer],
    created_at: datetime | None = None,
) -> bytes:
    """One pain.001.001.03 file (UTF-8 XML) paying every transfer from `debtor` on `execution_date`.

    Raises InvalidCreditTransfer (not EUR, duplicate end-to-end ids, ...) or InvalidBankAccount
    (a bad IBAN/BIC) before anything is rendered; the result is validated against the XSD.
    """
    _identifier(message_id, "message_id")
    if not 0 < len(transfers) <= TRANSFERS_MAX:
        raise InvalidCreditTransfer(f"a file holds 1..{TRANSFERS_MAX} transfers")
    end_to_end_ids = [transfer.end_to_end_id for transfer in transfers]
    if len(set(end_to_end_ids)) != len(end_to_end_ids):
        raise InvalidCreditTransfer("end_to_end_id must be unique within a file (a repeat would pay twice)")
    payments = [_payment(transfer, execution_date) for transfer in transfers]
    config: dict[str, Any] = {
        "name": _name(debtor.name, "debtor name"),
        "IBAN": normalise_iban(debtor.iban),
        "batch": True,
        "currency": SEPA_CURRENCY,
    }
    if debtor.bic:
        config["BIC"] = normalise_bic(debtor.bic)
    document = _Pain001(config, message_id=message_id, created_at=created_at or datetime.now(UTC))
    for payment in payments:
        document.add_payment(payment)
    rendered: bytes = document.export(validate=False)
    validate_pain001(rendered)
    return rendered


@lru_cache(maxsize=1)
def _schema() -> Any:
    import xmlschema  # imported late, as sepaxml does: it patches ElementTree on import

    return xmlschema.XMLSchema(str(files("sepaxml") / "schemas" / f"{PAIN001_SCHEMA}.xsd"))


def validate_pain001(document: bytes) -> None:
    """Raise InvalidCreditTransfer unless `document` is valid pain.001.001.03."""
    errors = list(_schema().iter_errors(document.decode("utf-8")))
    if errors:
        raise InvalidCreditTransfer(f"the pain.001 file does not match its schema: {errors[0].reason}"[:500])


def control_sum(document: bytes) -> tuple[int, int]:
    """-> (number of transfers, sum in cents) as the file's group header states them (for checks)."""
    namespace = {"p": f"urn:iso:std:iso:20022:tech:xsd:{PAIN001_SCHEMA}"}
    # Our own document, rendered just before (never a file from outside): no entity expansion to fear.
    header = ET.fromstring(document).find("p:CstmrCdtTrfInitn/p:GrpHdr", namespace)  # noqa: S314
    assert header is not None, "not a pain.001 document"
    count = header.findtext("p:NbOfTxs", default="0", namespaces=namespace)
    total = header.findtext("p:CtrlSum", default="0", namespaces=namespace)
    whole, _, cents = total.partition(".")
    return int(count), int(whole) * 100 + int(cents.ljust(2, "0")[:2])
