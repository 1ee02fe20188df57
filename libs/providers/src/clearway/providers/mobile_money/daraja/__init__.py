"""Safaricom M-Pesa Daraja: settings, request builders, response/callback parsing, the clients."""

from clearway.providers.mobile_money.daraja.b2c_callbacks import (
    build_daraja_b2c_result,
    build_daraja_b2c_reversal_result,
    build_daraja_b2c_status_result,
    build_daraja_b2c_timeout,
    parse_daraja_b2c_result,
    parse_daraja_b2c_timeout,
)
from clearway.providers.mobile_money.daraja.callback_builder import build_daraja_stk_callback
from clearway.providers.mobile_money.daraja.callback_parser import parse_daraja_stk_callback
from clearway.providers.mobile_money.daraja.client import DarajaClient
from clearway.providers.mobile_money.daraja.settings import DarajaSettings

# What a callback endpoint answers Daraja once the callback is recorded (any 200 will do).
DARAJA_CALLBACK_ACK: dict[str, object] = {"ResultCode": 0, "ResultDesc": "Accepted"}

__all__ = [
    "DARAJA_CALLBACK_ACK",
    "DarajaClient",
    "DarajaSettings",
    "build_daraja_b2c_result",
    "build_daraja_b2c_reversal_result",
    "build_daraja_b2c_status_result",
    "build_daraja_b2c_timeout",
    "build_daraja_stk_callback",
    "parse_daraja_b2c_result",
    "parse_daraja_b2c_timeout",
    "parse_daraja_stk_callback",
]
