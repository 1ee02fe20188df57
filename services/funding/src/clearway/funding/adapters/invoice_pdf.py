"""The funding invoice as a PDF, laid out with fpdf2."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from clearway.funding.domain.fundings import FundingKind
from clearway.funding.domain.invoices import Invoice
from clearway.platform.money import format_amount
from clearway.platform.pdf_text import core_font_text

PAGE_FORMAT = "A4"
LINE_HEIGHT_MM = 6
DESCRIPTION_LENGTH_MAX = 80


def render_invoice_pdf(invoice: Invoice) -> bytes:
    funding, terms = invoice.funding, invoice.terms
    pdf = FPDF(format=PAGE_FORMAT)
    pdf.set_title(f"Invoice {funding.invoice_number}")
    pdf.set_author(core_font_text(terms.issuer_name))
    pdf.set_creation_date(funding.created_at)
    pdf.add_page()

    def line(text: str, *, size: int = 10, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.cell(0, LINE_HEIGHT_MM, core_font_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(terms.issuer_name, size=16, bold=True)
    line(f"Invoice {funding.invoice_number}", size=14, bold=True)
    line(f"Issued: {funding.created_at.date().isoformat()}    Due: {funding.due_date.isoformat()}")
    line(f"Bill to: {funding.recipient.name} <{funding.recipient.email}>")
    line(f"Funding: {funding.id}    Workspace: {funding.workspace_id}")
    pdf.ln(LINE_HEIGHT_MM)

    pdf.set_font("Helvetica", "", 10)
    with pdf.table(col_widths=(100, 45, 45), text_align=("LEFT", "LEFT", "RIGHT")) as table:
        header = table.row()
        for title in ("Description", "Payable" if funding.kind is FundingKind.PAYABLES else "", "Amount"):
            header.cell(title)
        for invoice_line in funding.lines:
            row = table.row()
            row.cell(core_font_text(invoice_line.description[:DESCRIPTION_LENGTH_MAX]))
            row.cell(invoice_line.payable_id or "")
            row.cell(format_amount(invoice_line.amount_minor, funding.currency))
        total = table.row()
        total.cell("Total")
        total.cell("")
        total.cell(format_amount(funding.total_minor, funding.currency))
    pdf.ln(LINE_HEIGHT_MM)

    line("Payment instructions", size=12, bold=True)
    line(f"Pay exactly {format_amount(funding.total_minor, funding.currency)} by {funding.due_date.isoformat()} to:")
    line(f"Bank: {terms.bank_name}")
    line(f"Account name: {terms.account_name}")
    line(f"Account number: {terms.account_number}")
    line(f"Payment reference (quote it exactly): {funding.payment_reference}", bold=True)
    pdf.ln(LINE_HEIGHT_MM)
    line(f"This document: {invoice.document_url}", size=8)
    return bytes(pdf.output())
