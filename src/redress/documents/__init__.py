"""The investor's documents as PDF: notice letters, the settlement agreement and the receipt of a decision.

Each is written in its reader's language, in large type, with a Chinese font embedded (``fonts``); the same
input gives the same bytes.
"""

from __future__ import annotations

from redress.documents.agreement import agreement_pdf
from redress.documents.fonts import FontMissing, cjk_font
from redress.documents.letters import Letter, letters_pdf
from redress.documents.receipt import Receipt, receipt_pdf

__all__ = ["FontMissing", "Letter", "Receipt", "agreement_pdf", "cjk_font", "letters_pdf", "receipt_pdf"]
