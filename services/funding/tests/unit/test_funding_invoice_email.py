"""Invoice delivery over SMTP: the real smtplib client against a minimal SMTP server on a local socket."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest_asyncio

from clearway.funding.adapters.invoice_delivery import EventOnlyDelivery, SmtpConfig, SmtpDelivery, invoice_email
from clearway.funding.service.ports import InvoiceDocument

from .test_funding_invoices_and_totals import funding

LINES_MAX = 1_000


class TinySmtpServer:
    """Just enough RFC 5321 to accept one message per connection; keeps what it received."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.recipients: list[str] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 tiny ESMTP\r\n")
        for _ in range(LINES_MAX):
            line = await reader.readline()
            if not line:
                break
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                writer.write(b"250 tiny\r\n")
            elif command.startswith("RCPT TO:"):
                self.recipients.append(line.decode().strip()[8:].strip("<>"))
                writer.write(b"250 OK\r\n")
            elif command == "DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                self.messages.append(await reader.readuntil(b"\r\n.\r\n"))
                writer.write(b"250 queued\r\n")
            elif command == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


@pytest_asyncio.fixture
async def smtp_server() -> AsyncIterator[tuple[TinySmtpServer, int]]:
    server = TinySmtpServer()
    port = await server.start()
    yield server, port
    await server.stop()


def document() -> InvoiceDocument:
    return InvoiceDocument(
        funding=funding(), pdf=b"%PDF-1.4 fake", document_url="http://funding.test/funding/fnd_1/invoice"
    )


def test_the_email_carries_the_reference_and_the_pdf() -> None:
    message = invoice_email(document(), "invoices@clearway.test")
    assert message["To"] == "Globex Finance <ap@globex.example>"
    assert message["Subject"] == "Invoice CW-2024-000042"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and funding().payment_reference in body.get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.4 fake"


async def test_smtp_delivery_sends_through_a_real_smtp_conversation(smtp_server: tuple[TinySmtpServer, int]) -> None:
    server, port = smtp_server
    config = SmtpConfig(
        host="127.0.0.1",
        port=port,
        sender="invoices@clearway.test",
        username=None,
        password=None,
        starttls=False,
        timeout_ms=5_000,
    )
    delivery = SmtpDelivery(config)
    assert delivery.channel == "email"
    await delivery.send(document())
    assert server.recipients == ["ap@globex.example"]
    (raw,) = server.messages
    received = email.message_from_bytes(raw, _class=EmailMessage)
    assert received["Subject"] == "Invoice CW-2024-000042"


async def test_without_smtp_the_event_is_the_delivery() -> None:
    delivery = EventOnlyDelivery()
    assert delivery.channel == "event"
    await delivery.send(document())
