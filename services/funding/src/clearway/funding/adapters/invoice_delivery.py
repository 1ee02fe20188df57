"""Invoice delivery: email over SMTP when configured, otherwise the event alone.

smtplib is blocking, so it runs in a worker thread with a socket timeout: a slow mail server
delays one invoice, never the event loop.
"""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from clearway.funding.service.ports import InvoiceDocument
from clearway.platform.money import format_amount


class EventOnlyDelivery:
    """No mail server: `funding.invoice_sent` (with the document link) is the delivery."""

    channel = "event"

    async def send(self, document: InvoiceDocument) -> None:
        return None


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool
    timeout_ms: int


def invoice_email(document: InvoiceDocument, sender: str) -> EmailMessage:
    funding = document.funding
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"{funding.recipient.name} <{funding.recipient.email}>"
    message["Subject"] = f"Invoice {funding.invoice_number}"
    amount = format_amount(funding.total_minor, funding.currency)
    message.set_content(
        f"Hello {funding.recipient.name},\n\n"
        f"Invoice {funding.invoice_number} for {amount} is due on {funding.due_date.isoformat()}.\n"
        f"Please quote the payment reference {funding.payment_reference} exactly.\n\n"
        f"The invoice is attached and also at {document.document_url}\n"
    )
    message.add_attachment(
        document.pdf, maintype="application", subtype="pdf", filename=f"{funding.invoice_number}.pdf"
    )
    return message


class SmtpDelivery:
    channel = "email"

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, document: InvoiceDocument) -> None:
        await asyncio.to_thread(self._send_blocking, invoice_email(document, self._config.sender))

    def _send_blocking(self, message: EmailMessage) -> None:
        config = self._config
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_ms / 1000) as client:
            if config.starttls:
                client.starttls()
            if config.username and config.password:
                client.login(config.username, config.password)
            client.send_message(message)
