"""Callback authenticity and duplicate-delivery helpers, shared by every rail.

Daraja signs nothing, so a callback proves itself by presenting a secret token that only we put
into the CallBackURL (`.../callbacks/mpesa/<token>`). Rails deliver at least once and sometimes
twice, so a handler classifies each delivery against what it already recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from enum import StrEnum

from clearway.providers.mobile_money.contract import StkCallback
from clearway.providers.mobile_money.errors import CallbackRejected

CALLBACK_TOKEN_LENGTH_MAX = 256


def verify_callback_token(expected: str, presented: str | None) -> None:
    """Raise CallbackRejected unless `presented` equals `expected` (compared in constant time)."""
    assert expected, "a callback token must be configured before callbacks can be verified"
    if not presented or len(presented) > CALLBACK_TOKEN_LENGTH_MAX:
        raise CallbackRejected("callback token missing")
    if not hmac.compare_digest(expected.encode(), presented.encode()):
        raise CallbackRejected("callback token does not match")


class CallbackDelivery(StrEnum):
    FIRST = "first"
    """Nothing recorded yet for this checkout: apply it."""
    DUPLICATE = "duplicate"
    """Same outcome delivered again: acknowledge, change nothing."""
    CONFLICTING = "conflicting"
    """A different outcome for a checkout that already has one: change nothing, alert, reconcile."""


def callback_dedupe_key(callback: StkCallback) -> str:
    """One key per STK push: use it for an inbox/unique row so a redelivery hits the constraint."""
    return f"stk-callback:{callback.checkout_request_id}"


def callback_fingerprint(callback: StkCallback) -> str:
    """A digest of the outcome (not of the text or formatting), to store beside the dedupe key.

    Phone and date are left out: rails reformat or mask them between deliveries.
    """
    outcome = [
        callback.checkout_request_id,
        int(callback.result_code),
        callback.mpesa_receipt,
        callback.amount_minor,
        callback.currency,
    ]
    canonical = json.dumps(outcome, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def classify_callback_delivery(incoming: StkCallback, recorded_fingerprint: str | None) -> CallbackDelivery:
    if recorded_fingerprint is None:
        return CallbackDelivery.FIRST
    if recorded_fingerprint == callback_fingerprint(incoming):
        return CallbackDelivery.DUPLICATE
    return CallbackDelivery.CONFLICTING
