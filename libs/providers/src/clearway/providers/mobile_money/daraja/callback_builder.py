"""Build Daraja STK callback bodies: what the sandbox sends, and what service tests post.

The inverse of `callback_parser`: the shape is Safaricom's documented `Body.stkCallback`.
"""

from __future__ import annotations

import json
from datetime import datetime

from clearway.providers.mobile_money.daraja.payloads import EAT, kenyan_msisdn, whole_shillings
from clearway.providers.mobile_money.result_codes import ResultCode

_AMOUNT_MAJOR_MAX = 10**9  # a builder for tests and simulators; M-Pesa's ceiling is checked at initiation


def build_daraja_stk_callback(
    *,
    merchant_request_id: str,
    checkout_request_id: str,
    result_code: ResultCode,
    result_desc: str | None = None,
    amount_minor: int | None = None,
    currency: str = "KES",
    mpesa_receipt: str | None = None,
    phone: str | None = None,
    transaction_date: datetime | None = None,
) -> bytes:
    """A success needs amount_minor (whole KES), mpesa_receipt, phone (E.164) and transaction_date."""
    callback: dict[str, object] = {
        "MerchantRequestID": merchant_request_id,
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": int(result_code),
        "ResultDesc": result_desc if result_desc is not None else result_code.description,
    }
    if result_code.is_success:
        assert amount_minor is not None and mpesa_receipt and phone and transaction_date, "success needs metadata"
        amount_major = whole_shillings(amount_minor, currency, amount_major_max=_AMOUNT_MAJOR_MAX)
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": amount_major},
                {"Name": "MpesaReceiptNumber", "Value": mpesa_receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(transaction_date.astimezone(EAT).strftime("%Y%m%d%H%M%S"))},
                {"Name": "PhoneNumber", "Value": int(kenyan_msisdn(phone))},
            ]
        }
    return json.dumps({"Body": {"stkCallback": callback}}).encode()
