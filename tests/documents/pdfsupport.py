"""Sample letters, agreements and receipts for the documents' tests, and reading a PDF's text back."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"
SHA = "3f2a9c0d5e7b8a1c4d6e9f0b2a3c5d7e9f1b3d5a7c9e0f2b4d6a8c0e2f4a6b8c"
CASE_NAME = "某某科技股份有限公司虚假陈述案"


def text_of(pdf: bytes) -> list[str]:
    """The text of each page, as a reader's copy-and-paste would give it.  (pypdf reads the two-byte codes
    of the embedded CJK font's encoding one byte at a time: the high byte, zero while a subset has fewer than
    256 glyphs, comes out as a NUL, dropped here; poppler's pdftotext reads them whole.)"""
    from pypdf import PdfReader

    return [page.extract_text().replace("\x00", "") for page in PdfReader(io.BytesIO(pdf)).pages]


def letter(language: str, **changes):
    from redress.documents import Letter

    values = {"case_id": "case-2026-01", "case_name": CASE_NAME, "investor_id": "INV000123",
              "user_name": "INV000123", "amount_fen": 1234567, "deadline": dt.date(2026, 12, 31),
              "activation_code": "K7QM2XPA9R4T", "portal_url": "https://redress.example.cn/activate",
              "hotline": "400-820-1234", "language": language}
    return Letter(**{**values, **changes})


def receipt(language: str, decision: str = "accept", **changes):
    from redress.documents import Receipt

    accepted = decision == "accept"
    values = {"case_id": "case-2026-01", "case_name": CASE_NAME, "investor_id": "INV000123",
              "decision": decision, "decided_at": "2026-12-06T03:04:05+00:00",
              "decided_on": dt.date(2026, 12, 6),
              "channel": "online", "amount_fen": 1234567, "agreement_version": "v1" if accepted else None,
              "agreement_sha256": SHA if accepted else None, "decision_id": 42, "language": language}
    return Receipt(**{**values, **changes})
