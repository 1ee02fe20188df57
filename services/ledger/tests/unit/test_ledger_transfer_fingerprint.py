"""A transfer's fingerprint (what a replay with the same reference is compared by) must not change:
fingerprints are stored. The one-source, one-destination shape is written directly instead of
through the JSON encoder; it must give the encoder's exact text for any such request."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from clearway.ledger.domain.distribution import Distribution
from clearway.ledger.domain.transactions import TransferRequest

texts = st.text(max_size=40)  # any code point: the encoder escapes non-ASCII and control characters


def encoder_fingerprint(request: TransferRequest) -> str:
    """The fingerprint as every stored one was made: the standard encoder with sorted keys."""
    document = {
        "currency": request.currency,
        "amount_minor": request.amount_minor,
        "source": request.source,
        "destination": request.destination,
        "sources": [(item.identifier, item.distribution) for item in request.sources],
        "destinations": [(item.identifier, item.distribution) for item in request.destinations],
        "debit_legs": [(leg.identifier, leg.amount_minor) for leg in request.debit_legs],
        "credit_legs": [(leg.identifier, leg.amount_minor) for leg in request.credit_legs],
        "allow_overdraft": request.allow_overdraft,
        "overdraft_limit_minor": request.overdraft_limit_minor,
        "inflight": request.inflight,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


@given(
    reference=texts,
    currency=texts,
    amount_minor=st.integers(min_value=-(10**30), max_value=10**30),
    source=st.none() | texts,
    destination=st.none() | texts,
    allow_overdraft=st.booleans(),
    overdraft_limit_minor=st.none() | st.integers(min_value=-(10**20), max_value=10**20),
    inflight=st.booleans(),
)
def test_a_one_to_one_fingerprint_is_the_encoders(
    reference: str,
    currency: str,
    amount_minor: int,
    source: str | None,
    destination: str | None,
    allow_overdraft: bool,
    overdraft_limit_minor: int | None,
    inflight: bool,
) -> None:
    request = TransferRequest(
        reference=reference,
        currency=currency,
        amount_minor=amount_minor,
        currency_precision=100,
        source=source,
        destination=destination,
        allow_overdraft=allow_overdraft,
        overdraft_limit_minor=overdraft_limit_minor,
        inflight=inflight,
    )
    assert request.fingerprint() == encoder_fingerprint(request)


def test_a_split_transfer_still_goes_through_the_encoder() -> None:
    request = TransferRequest(
        reference="split-1",
        currency="USD",
        amount_minor=1_000,
        currency_precision=100,
        source="bln_a",
        destinations=(Distribution("bln_b", "60%"), Distribution("bln_c", "left")),
    )
    assert request.fingerprint() == encoder_fingerprint(request)


def test_a_known_fingerprint_is_unchanged() -> None:
    # Pinned from the encoder: stored fingerprints of existing transactions must still match.
    request = TransferRequest(
        reference="pinned",
        currency="USD",
        amount_minor=1234,
        currency_precision=100,
        source="@World",
        destination="bln_é",
    )
    document = (
        '{"allow_overdraft": false, "amount_minor": 1234, "credit_legs": [], "currency": "USD", "debit_legs": [], '
        '"destination": "bln_\\u00e9", "destinations": [], "inflight": false, "overdraft_limit_minor": null, '
        '"source": "@World", "sources": []}'
    )
    assert request.fingerprint() == hashlib.sha256(document.encode()).hexdigest()


def test_values_of_other_types_go_through_the_encoder() -> None:
    # The direct text is for what build_transfer_request makes; a bool amount or a flag that is not a
    # bool would print differently there, so such a request takes the encoder's path.
    odd = TransferRequest(
        reference="odd", currency="USD", amount_minor=True, currency_precision=100, source="a", destination="b"
    )
    flag = TransferRequest(
        reference="flag",
        currency="USD",
        amount_minor=5,
        currency_precision=100,
        source="a",
        destination="b",
        inflight=1,  # type: ignore[arg-type]
    )
    assert odd.fingerprint() == encoder_fingerprint(odd)
    assert flag.fingerprint() == encoder_fingerprint(flag)
