"""The funding invoice as a document, and its delivery to the designated recipient.

Delivery runs after the funding has committed. It is at-least-once: a crash between sending
the email and recording it sends the invoice again on recovery, which beats never sending it.
`funding.invoice_sent` (with the document's link) is written whether or not SMTP is configured.
"""

from __future__ import annotations

import asyncio
import logging

from clearway.funding.domain.fundings import Funding, FundingStatus
from clearway.funding.domain.invoices import Invoice
from clearway.funding.service import event_builders
from clearway.funding.service.context import FundingContext
from clearway.funding.service.ports import InvoiceDocument

logger = logging.getLogger(__name__)


def invoice_for(context: FundingContext, funding: Funding) -> Invoice:
    return Invoice(funding=funding, terms=context.terms, document_url=context.invoice_url(funding.id))


async def render_pdf(context: FundingContext, funding: Funding) -> bytes:
    # Layout is CPU work: off the event loop so requests keep flowing.
    return await asyncio.to_thread(context.render_invoice, invoice_for(context, funding))


async def deliver_invoice(context: FundingContext, funding_id: str) -> bool:
    """Send the invoice if it is still unsent and still payable; True if it went out now."""
    async with context.unit_of_work() as uow:
        funding = await uow.fundings.get(funding_id)
    if funding is None or funding.invoice_sent_at is not None or funding.status is not FundingStatus.AWAITING_FUNDS:
        return False
    if funding.invoice_send_attempts >= context.terms.send_attempts_max:
        return False
    document_url = context.invoice_url(funding.id)
    try:
        pdf = await render_pdf(context, funding)
        await context.delivery.send(InvoiceDocument(funding=funding, pdf=pdf, document_url=document_url))
    except Exception:
        logger.exception("sending invoice %s for funding %s failed", funding.invoice_number, funding.id)
        async with context.unit_of_work() as uow:
            current = await uow.fundings.get(funding_id, for_update=True)
            if current is not None and current.invoice_sent_at is None:
                await uow.fundings.save(current.record_invoice_send_failed())
                await uow.commit()
        return False
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await uow.fundings.get(funding_id, for_update=True)
        if current is None or current.invoice_sent_at is not None:
            return False
        sent = current.record_invoice_sent(now)
        await uow.fundings.save(sent)
        await uow.events.add(
            event_builders.funding_invoice_sent(sent, now, document_url=document_url, channel=context.delivery.channel)
        )
        await uow.commit()
    logger.info("invoice %s sent to %s (%s)", funding.invoice_number, funding.recipient.email, context.delivery.channel)
    return True
