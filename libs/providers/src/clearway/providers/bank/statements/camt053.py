"""ISO 20022 camt.053 bank-to-customer statements, version .001.02 and every later one.

The XML is read with `xmlschema`'s `XMLResource`, defused (a document that declares entities is refused:
no entity expansion, no external references) and with every URL and file access blocked. The file is
not validated against the ISO XSD: banks' files often stray from it in fields we never read, and the
elements read here have kept their names and places from .001.02 to .001.13. What we read is checked
instead, and an error names the element (`Stmt[1]/Ntry[3]/Amt: ...`).

- Account: `Stmt/Acct/Id/IBAN`, else `Acct/Id/Othr/Id`. Statement id: `Stmt/Id` (the message's
  `GrpHdr/MsgId` when the file holds several statements of the account, which are joined).
- Balances: opening `OPBD` (else `PRCD`, "previously closed booked", which some banks send instead),
  closing `CLBD`; signed by `CdtDbtInd` (`DBIT` negative).
- Entries (`Ntry`): booked ones only (`Sts` `BOOK`, or no status); `PDNG`/`INFO`/`FUTR` entries are not
  bookings and are skipped, as are zero-amount entries. `CdtDbtInd` `CRDT` is inbound, `DBIT` outbound
  (a reversal, `RvslInd` true, is booked with the direction the money really moved, so it maps the same).
  Booking day `BookgDt` (`Dt` or the date of `DtTm`), else `ValDt`.
- An entry with several `TxDtls` (a batch) gives one line per `TxDtls` when each states its amount
  (`TxDtls/Amt`, .001.03+, or `AmtDtls/TxAmt/Amt`) in the entry's currency and they add up to the
  entry; otherwise the entry is one line. Bank id of a batched line: its own `Refs/AcctSvcrRef` or
  `Refs/TxId`, else the entry's reference and `/<n>` (n from 1 in file order).
- Bank id of any other line: `Ntry/AcctSvcrRef`, `TxDtls/Refs/AcctSvcrRef`, `TxDtls/Refs/TxId`,
  `Ntry/NtryRef`, in that order; without one, the content hash (`model`).
- Reference: `Refs/EndToEndId` (not `NOTPROVIDED`), else `RmtInf/Strd/CdtrRefInf/Ref`, else `RmtInf/Ustrd`.
  Description: `RmtInf/Ustrd` (when it is not the reference), else `AddtlTxInf`, else `AddtlNtryInf`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final
from xml.etree.ElementTree import Element

from xmlschema import XMLResource, XMLResourceError
from xmlschema.exceptions import XMLResourceForbidden

from clearway.providers.bank.statements.model import (
    Direction,
    LineDraft,
    Statement,
    StatementBalance,
    StatementFormat,
    StatementInvalid,
    StatementPart,
    check_line_count,
    clean_reference,
    clean_text,
    currency_code,
    decimal_to_minor,
    join_parts,
)

CAMT053_VERSION_MIN: Final = 2
_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})")
_DIRECTIONS: Final[dict[str, Direction]] = {"CRDT": "inbound", "DBIT": "outbound"}
_BOOKED_STATUSES = frozenset({"BOOK"})
_OPENING_CODES = ("OPBD", "PRCD")
_CLOSING_CODES = ("CLBD",)


@dataclass(frozen=True, slots=True)
class _Camt:
    """Finds by paths written without namespace prefixes (`"Acct/Id/IBAN"`) in one camt.053 namespace."""

    namespace: str

    def find(self, element: Element, path: str) -> Element | None:
        return element.find(_qualified(self.namespace, path))

    def findall(self, element: Element, path: str) -> list[Element]:
        return element.findall(_qualified(self.namespace, path))

    def text(self, element: Element, path: str) -> str | None:
        found = self.find(element, path)
        return clean_text(found.text) if found is not None else None


@lru_cache(maxsize=256)
def _qualified(namespace: str, path: str) -> str:
    return "/".join(f"{{{namespace}}}{step}" for step in path.split("/"))


def parse_camt053(body: bytes) -> Statement:
    root = _load(body)
    match = _NAMESPACE.fullmatch(root.tag[1:].partition("}")[0]) if root.tag.startswith("{") else None
    if match is None or root.tag.partition("}")[2] != "Document":
        raise StatementInvalid(
            f"not a camt.053 document: the root element is {root.tag[:120]!r}, expected Document in the namespace "
            "urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN"
        )
    if int(match.group(1)) < CAMT053_VERSION_MIN:
        raise StatementInvalid(f"camt.053.001.{match.group(1)} is not supported: .001.02 or later")
    camt = _Camt(match.group(0))
    message = camt.find(root, "BkToCstmrStmt")
    if message is None:
        raise StatementInvalid("Document: no BkToCstmrStmt element")
    statements = camt.findall(message, "Stmt")
    if not statements:
        raise StatementInvalid("BkToCstmrStmt: no Stmt element")
    check_line_count(sum(len(camt.findall(statement, "Ntry")) for statement in statements))
    parts = [_statement(camt, statement, f"Stmt[{index}]") for index, statement in enumerate(statements, start=1)]
    statement_id = parts[0].statement_id if len(parts) == 1 else camt.text(message, "GrpHdr/MsgId")
    return join_parts(StatementFormat.CAMT053, parts, statement_id=statement_id)


def _load(body: bytes) -> Element:
    try:
        resource = XMLResource(io.BytesIO(body), allow="none", defuse="always")
    except XMLResourceForbidden as error:
        raise StatementInvalid(f"XML that declares entities is refused ({str(error)[:120]})") from error
    except XMLResourceError as error:
        raise StatementInvalid(f"not well-formed XML: {str(error)[:200]}") from error
    root = resource.root
    if not isinstance(root, Element):  # pragma: no cover - only lxml trees are other types, and we pass bytes
        raise StatementInvalid("not well-formed XML")
    return root


def _statement(camt: _Camt, statement: Element, where: str) -> StatementPart:
    account_id = camt.text(statement, "Acct/Id/IBAN") or camt.text(statement, "Acct/Id/Othr/Id")
    balances = {
        code: _balance(camt, element, f"{where}/Bal[{index}]", code)
        for index, element in enumerate(camt.findall(statement, "Bal"), start=1)
        if (code := _balance_code(camt, element)) in _OPENING_CODES + _CLOSING_CODES
    }
    lines: list[LineDraft] = []
    for index, entry in enumerate(camt.findall(statement, "Ntry"), start=1):
        lines.extend(_entry(camt, entry, f"{where}/Ntry[{index}]"))
    return StatementPart(
        account_id=account_id,
        statement_id=camt.text(statement, "Id"),
        opening_balance=next((balances[code] for code in _OPENING_CODES if code in balances), None),
        closing_balance=next((balances[code] for code in _CLOSING_CODES if code in balances), None),
        lines=tuple(lines),
    )


def _balance_code(camt: _Camt, balance: Element) -> str | None:
    code = camt.text(balance, "Tp/CdOrPrtry/Cd") or camt.text(balance, "Tp/CdOrPrtry/Prtry")
    return code.upper() if code else None


def _balance(camt: _Camt, balance: Element, where: str, code: str | None) -> StatementBalance:
    currency, amount_minor = _amount(camt, balance, "Amt", f"{where} ({code})")
    direction = _direction(camt, balance, f"{where} ({code})")
    on = _date(camt, balance, "Dt", f"{where} ({code})/Dt")
    if on is None:
        raise StatementInvalid(f"{where} ({code})/Dt: missing")
    return StatementBalance(amount_minor if direction == "inbound" else -amount_minor, currency, on)


def _entry(camt: _Camt, entry: Element, where: str) -> Iterator[LineDraft]:
    status = camt.text(entry, "Sts/Cd") or camt.text(entry, "Sts")
    if status is not None and status.upper() not in _BOOKED_STATUSES:
        return
    currency, amount_minor = _amount(camt, entry, "Amt", where)
    direction = _direction(camt, entry, where)
    booked_on = _date(camt, entry, "BookgDt", f"{where}/BookgDt") or _date(camt, entry, "ValDt", f"{where}/ValDt")
    if booked_on is None:
        raise StatementInvalid(f"{where}: no booking date (BookgDt) or value date (ValDt)")
    fallback_id = _first_reference(camt.text(entry, "AcctSvcrRef"), camt.text(entry, "NtryRef"))
    entry_info = camt.text(entry, "AddtlNtryInf")
    details = camt.findall(entry, "NtryDtls/TxDtls")
    batch = _split_batch(camt, details, currency, direction, amount_minor, where) if len(details) > 1 else None
    if batch is None:
        if amount_minor == 0:
            return
        detail = details[0] if len(details) == 1 else None
        reference, description = _texts(camt, detail, entry_info)
        bank_id = _first_reference(
            camt.text(entry, "AcctSvcrRef"),
            camt.text(detail, "Refs/AcctSvcrRef") if detail is not None else None,
            camt.text(detail, "Refs/TxId") if detail is not None else None,
            camt.text(entry, "NtryRef"),
        )
        yield LineDraft(booked_on, direction, amount_minor, currency, reference, description, bank_id)
        return
    for number, (detail, line_direction, line_amount) in enumerate(batch, start=1):
        if line_amount == 0:
            continue
        reference, description = _texts(camt, detail, entry_info)
        own_id = _first_reference(camt.text(detail, "Refs/AcctSvcrRef"), camt.text(detail, "Refs/TxId"))
        bank_id = own_id or (f"{fallback_id}/{number}" if fallback_id else None)
        yield LineDraft(booked_on, line_direction, line_amount, currency, reference, description, bank_id)


def _split_batch(
    camt: _Camt, details: list[Element], currency: str, direction: Direction, amount_minor: int, where: str
) -> list[tuple[Element, Direction, int]] | None:
    """One (TxDtls, direction, amount) per transaction of a batch, or None when the amounts do not say."""
    split = []
    for index, detail in enumerate(details, start=1):
        path = "Amt" if camt.find(detail, "Amt") is not None else "AmtDtls/TxAmt/Amt"
        if camt.find(detail, path) is None:
            return None
        detail_currency, detail_amount = _amount(camt, detail, path, f"{where}/NtryDtls/TxDtls[{index}]")
        if detail_currency != currency:
            return None
        has_own = camt.find(detail, "CdtDbtInd") is not None
        detail_direction = _direction(camt, detail, f"{where}/NtryDtls/TxDtls[{index}]") if has_own else direction
        split.append((detail, detail_direction, detail_amount))
    signed = sum(amount if line_direction == "inbound" else -amount for _, line_direction, amount in split)
    return split if signed == (amount_minor if direction == "inbound" else -amount_minor) else None


def _texts(camt: _Camt, detail: Element | None, entry_info: str | None) -> tuple[str | None, str | None]:
    if detail is None:
        return None, entry_info
    unstructured = clean_text(" ".join(node.text or "" for node in camt.findall(detail, "RmtInf/Ustrd")))
    reference = _first_reference(
        camt.text(detail, "Refs/EndToEndId"), camt.text(detail, "RmtInf/Strd/CdtrRefInf/Ref"), unstructured
    )
    description = (unstructured if unstructured != reference else None) or camt.text(detail, "AddtlTxInf") or entry_info
    return reference, description


def _first_reference(*candidates: str | None) -> str | None:
    return next((found for candidate in candidates if (found := clean_reference(candidate))), None)


def _amount(camt: _Camt, element: Element, path: str, where: str) -> tuple[str, int]:
    found = camt.find(element, path)
    if found is None:
        raise StatementInvalid(f"{where}/{path}: missing")
    currency = currency_code(found.get("Ccy"), f"{where}/{path}@Ccy")
    return currency, decimal_to_minor(found.text, currency, f"{where}/{path}")


def _direction(camt: _Camt, element: Element, where: str) -> Direction:
    indicator = camt.text(element, "CdtDbtInd")
    direction = _DIRECTIONS.get(indicator or "")
    if direction is None:
        raise StatementInvalid(f"{where}/CdtDbtInd: {str(indicator)[:20]!r} must be CRDT or DBIT")
    return direction


def _date(camt: _Camt, element: Element, path: str, where: str) -> date | None:
    """`<path>/Dt` or the date part of `<path>/DtTm`; None when the element is absent."""
    raw = camt.text(element, f"{path}/Dt") or camt.text(element, f"{path}/DtTm")
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as error:
        raise StatementInvalid(f"{where}: {raw[:40]!r} is not an ISO date") from error
