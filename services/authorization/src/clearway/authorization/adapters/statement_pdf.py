"""A card statement as a PDF a cardholder recognises, laid out with fpdf2 (as funding's invoice is).

Header (account, cards, period, statement date, due date), the account summary (opening balance,
payments, new transactions; then billed + carried + fees + interest = total due, and the minimum
payment), the cycle's transactions with their fees, and the rates that apply.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from clearway.authorization.domain.statements import StatementDocument
from clearway.platform.money import format_amount
from clearway.platform.pdf_text import core_font_text

PAGE_FORMAT = "A4"
LINE_HEIGHT_MM = 6
MERCHANT_LENGTH_MAX = 48
BPS_PER_PERCENT = 100


def _percent(bps: int) -> str:
    return f"{bps / BPS_PER_PERCENT:.2f}%"


def render_statement_pdf(document: StatementDocument) -> bytes:
    statement, terms = document.statement, document.terms
    currency = statement.currency
    pdf = FPDF(format=PAGE_FORMAT)
    pdf.set_title(f"Card statement {statement.number}")
    pdf.set_author("Clearway Card")
    pdf.set_creation_date(statement.closed_at)
    pdf.add_page()

    def line(text: str, *, size: int = 10, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.cell(0, LINE_HEIGHT_MM, core_font_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def two_columns(rows: list[tuple[str, str]], *, bold_last: int = 0) -> None:
        with pdf.table(col_widths=(120, 70), text_align=("LEFT", "RIGHT"), first_row_as_headings=False) as table:
            for index, (label, value) in enumerate(rows):
                bold = index >= len(rows) - bold_last
                pdf.set_font("Helvetica", "B" if bold else "", 10)
                row = table.row()
                row.cell(core_font_text(label))
                row.cell(core_font_text(value))
        pdf.set_font("Helvetica", "", 10)

    endings = ", ".join(sorted(set(document.card_last_fours.values()))) or "-"
    line("Clearway Card", size=16, bold=True)
    line(f"Statement {statement.number}", size=14, bold=True)
    line(f"Account: {statement.card_account_id}    Cards ending: {endings}")
    line(f"Statement period: {statement.period_start.isoformat()} to {statement.period_end.isoformat()}")
    line(
        f"Statement date: {statement.closed_at.date().isoformat()}    Payment due date: {statement.due_date.isoformat()}"
    )
    line(f"Credit limit: {format_amount(terms.credit_limit_minor, currency)}    Status: {statement.status}")
    pdf.ln(LINE_HEIGHT_MM / 2)

    line("Account summary", size=12, bold=True)
    two_columns(
        [
            ("Opening balance (previous statement total)", format_amount(document.opening_balance_minor, currency)),
            ("Payments received this period", format_amount(document.payments_minor, currency)),
            ("New transactions this period", format_amount(document.purchases_minor, currency)),
            ("Outstanding principal at close", format_amount(statement.principal_minor, currency)),
        ]
    )
    pdf.ln(LINE_HEIGHT_MM / 2)
    two_columns(
        [
            ("Principal billed on this statement", format_amount(statement.billed_minor, currency)),
            ("Carried from earlier statements", format_amount(statement.carried_minor, currency)),
            ("Fees", format_amount(statement.fees_minor, currency)),
            ("Interest", format_amount(statement.interest_minor, currency)),
            ("Total due (closing balance)", format_amount(statement.total_due_minor, currency)),
            ("Minimum payment due", format_amount(statement.minimum_due_minor, currency)),
        ],
        bold_last=2,
    )
    pdf.ln(LINE_HEIGHT_MM / 2)

    line("Transactions", size=12, bold=True)
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(col_widths=(24, 86, 20, 34, 26), text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT")) as table:
        header = table.row()
        for title in ("Date", "Merchant", "Card", "Amount", "Fee"):
            header.cell(title)
        for item in statement.lines:
            row = table.row()
            row.cell(item.cleared_at.date().isoformat())
            row.cell(core_font_text(f"{item.merchant_name[:MERCHANT_LENGTH_MAX]} (MCC {item.merchant_category_code})"))
            row.cell(document.card_last_fours.get(item.card_id, "----"))
            row.cell(format_amount(item.amount_minor, currency))
            row.cell(format_amount(item.fee_minor, currency))
        total = table.row()
        total.cell("Total")
        total.cell(f"{len(statement.lines)} transactions")
        total.cell("")
        total.cell(format_amount(document.purchases_minor, currency))
        total.cell(format_amount(document.line_fees_minor, currency))
    pdf.ln(LINE_HEIGHT_MM / 2)

    line("Rates and fees", size=12, bold=True)
    line(f"Interest on pending transactions: {_percent(terms.pending_interest_rate_bps)} a year")
    line(f"Interest on overdue principal: {_percent(terms.overdue_interest_rate_bps)} a year")
    line(f"Transaction markup fee: {_percent(terms.fee_markup_bps)} of each transaction")
    pdf.ln(LINE_HEIGHT_MM / 2)
    line(
        f"Pay at least {format_amount(statement.minimum_due_minor, currency)} by {statement.due_date.isoformat()}; "
        f"pay {format_amount(statement.total_due_minor, currency)} to clear the statement.",
        bold=True,
    )
    line("Principal unpaid after the due date becomes overdue and accrues overdue interest.", size=8)
    return bytes(pdf.output())
