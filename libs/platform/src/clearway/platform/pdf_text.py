"""Text for PDFs laid out with fpdf2's built-in fonts (funding's invoice, authorization's statement)."""

from __future__ import annotations


def core_font_text(text: str) -> str:
    """The built-in PDF fonts cover Latin-1 only; anything else prints as `?` rather than failing."""
    return text.encode("latin-1", errors="replace").decode("latin-1")
