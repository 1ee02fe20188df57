"""Blnk's free identity fields are bounded like `meta_data` (found by `make fuzz`: a 65-bit integer in
an identity's extra fields was a 500 from PostgreSQL's jsonb; now a 400 before anything is stored)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clearway.ledger.entrypoints.schemas import IdentityCreate


def test_an_identity_field_beyond_64_bits_is_refused_before_it_reaches_postgresql() -> None:
    with pytest.raises(ValidationError, match="64 bits"):
        IdentityCreate.model_validate({"first_name": "Ada", "customer_number": 2**70})
    with pytest.raises(ValidationError, match="64 bits"):
        IdentityCreate.model_validate({"address": {"lines": [1, 2, -(2**64)]}})


def test_ordinary_identity_fields_are_kept_as_they_come() -> None:
    body = {"identity_type": "individual", "first_name": "Ada", "phone_number": "+254700000000", "age": 2**62}
    identity = IdentityCreate.model_validate(body)
    assert identity.model_extra == {"first_name": "Ada", "phone_number": "+254700000000", "age": 2**62}
