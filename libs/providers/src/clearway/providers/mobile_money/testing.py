"""Test kit: an in-memory Daraja server for `httpx.MockTransport` (unit tests here and in services).

It answers the token, STK push/query, B2C payment and TransactionStatus paths. Like Daraja, it
refuses a B2C payment whose OriginatorConversationID it has seen ("Duplicate OriginatorConversationID").

    fake = FakeDarajaServer()
    client = DarajaClient(settings, transport=httpx.MockTransport(fake.handler))
    fake.queue(STK_QUERY_PATH, daraja_json(503, {...}), httpx.ReadTimeout("slow"))

Queued answers (responses, or transport exceptions to raise) are used first, per path, in order;
then each path answers like a healthy Daraja.
"""

from __future__ import annotations

import json
from collections import defaultdict

import httpx

from clearway.providers.mobile_money.daraja.client import (
    B2C_PAYMENT_PATH,
    STK_PUSH_PATH,
    STK_QUERY_PATH,
    TOKEN_PATH,
    TRANSACTION_STATUS_PATH,
)

ANSWERS_QUEUED_MAX = 1_000


def daraja_json(status_code: int, body: object) -> httpx.Response:
    return httpx.Response(status_code, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


def daraja_query_answer(result_code: str, result_desc: str, checkout_request_id: str = "ws_CO_1") -> dict[str, str]:
    return {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": "22205-34066-1",
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": result_code,
        "ResultDesc": result_desc,
    }


class FakeDarajaServer:
    def __init__(self, *, expires_in_s: int = 3599) -> None:
        self.requests: list[httpx.Request] = []
        self.queued: dict[str, list[httpx.Response | Exception]] = defaultdict(list)
        self.tokens_issued = 0
        self.pushes_accepted = 0
        self.b2c_payments: dict[str, str] = {}  # OriginatorConversationID -> ConversationID
        self.expires_in_s = expires_in_s

    def queue(self, path: str, *answers: httpx.Response | Exception) -> None:
        assert len(self.queued[path]) + len(answers) <= ANSWERS_QUEUED_MAX
        self.queued[path].extend(answers)

    def requests_to(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]

    def json_bodies_to(self, path: str) -> list[dict[str, object]]:
        return [json.loads(request.content) for request in self.requests_to(path)]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.queued[request.url.path]:
            answer = self.queued[request.url.path].pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if request.url.path == TOKEN_PATH:
            self.tokens_issued += 1
            return daraja_json(
                200, {"access_token": f"token-{self.tokens_issued}", "expires_in": str(self.expires_in_s)}
            )
        if request.url.path == STK_PUSH_PATH:
            self.pushes_accepted += 1
            return daraja_json(
                200,
                {
                    "MerchantRequestID": f"29115-{self.pushes_accepted}-1",
                    "CheckoutRequestID": f"ws_CO_FAKE_{self.pushes_accepted:08d}",
                    "ResponseCode": "0",
                    "ResponseDescription": "Success. Request accepted for processing",
                    "CustomerMessage": "Success. Request accepted for processing",
                },
            )
        if request.url.path == STK_QUERY_PATH:
            checkout_request_id = str(json.loads(request.content).get("CheckoutRequestID", ""))
            return daraja_json(
                200, daraja_query_answer("0", "The service request is processed successfully.", checkout_request_id)
            )
        if request.url.path == B2C_PAYMENT_PATH:
            return self._b2c_payment(request)
        if request.url.path == TRANSACTION_STATUS_PATH:
            return daraja_json(
                200,
                {
                    "OriginatorConversationID": f"{len(self.requests)}-status-1",
                    "ConversationID": f"AG_20250101_STATUS{len(self.requests):08d}",
                    "ResponseCode": "0",
                    "ResponseDescription": "Accept the service request successfully.",
                },
            )
        return daraja_json(404, {"requestId": "", "errorCode": "404.001.01", "errorMessage": "Resource not found"})

    def _b2c_payment(self, request: httpx.Request) -> httpx.Response:
        originator_conversation_id = str(json.loads(request.content).get("OriginatorConversationID", ""))
        if originator_conversation_id in self.b2c_payments:
            return daraja_json(
                500,
                {
                    "requestId": "dup-1",
                    "errorCode": "500.002.1001",
                    "errorMessage": "Duplicate OriginatorConversationID.",
                },
            )
        conversation_id = f"AG_20250101_FAKE{len(self.b2c_payments) + 1:08d}"
        self.b2c_payments[originator_conversation_id] = conversation_id
        return daraja_json(
            200,
            {
                "ConversationID": conversation_id,
                "OriginatorConversationID": originator_conversation_id,
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            },
        )
