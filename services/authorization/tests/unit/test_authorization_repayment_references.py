"""Card accounts' repayment references: valid ISO 11649, fixed by the account id, read back from what a
payer types, and never one of funding's (another body prefix)."""

from __future__ import annotations

import pytest

from clearway.authorization.domain.repayment_references import id_tail_of, is_valid, normalize, repayment_reference_for

ACCOUNT_ID = "cac_01j0abcdefghjkmnpqrstvwxyz"


def test_the_reference_is_a_valid_rf_reference_fixed_by_the_account() -> None:
    reference = repayment_reference_for(ACCOUNT_ID)
    assert reference is not None
    assert reference.startswith("RF") and reference[4:6] == "CA" and len(reference) == 25
    assert is_valid(reference) and reference == repayment_reference_for(ACCOUNT_ID)
    assert reference != repayment_reference_for("cac_01j0abcdefghjkmnpqrstvwxya")


def test_iso_11649_check_digits() -> None:
    assert is_valid("RF18539007547034")  # the standard's own example
    assert not is_valid("RF19539007547034")
    assert not is_valid("RF18")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("rf18 5390 0754 7034", None),  # valid RF, but not a card account's (funding's look alike)
        (None, None),
        ("", None),
        ("not a reference", None),
    ],
)
def test_normalize_refuses_what_is_not_a_card_accounts_reference(typed: str | None, expected: str | None) -> None:
    assert normalize(typed) == expected


def test_normalize_reads_what_a_payer_types() -> None:
    reference = repayment_reference_for(ACCOUNT_ID)
    assert reference is not None
    spaced = " ".join(reference[index : index + 4] for index in range(0, len(reference), 4)).lower()
    assert normalize(spaced) == reference
    mistyped = reference[:-1] + ("A" if reference[-1] != "A" else "B")
    assert normalize(mistyped) is None


def test_the_reference_leads_back_to_the_end_of_the_account_id() -> None:
    reference = repayment_reference_for(ACCOUNT_ID)
    assert reference is not None and id_tail_of(reference) == ACCOUNT_ID[-19:]
    assert repayment_reference_for("cac_itest_1") is None  # not a ULID: a row written by hand
    assert id_tail_of("RF18539007547034") is None
