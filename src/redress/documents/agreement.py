"""The settlement agreement as the investor reads and keeps it: its version and SHA-256 on every page."""

from __future__ import annotations

from fpdf.enums import XPos, YPos

from redress import i18n
from redress.documents.pdf import FAMILY, MUTED, SMALL_PT, Page, page_number
from redress.i18n import _


def agreement_pdf(case_name: str, version: str, body: str, sha256: str, language: str) -> bytes:
    with i18n.use(language) as lang:
        def footer(pdf: Page) -> None:
            with i18n.use(lang):
                pdf.set_y(-22)
                pdf.set_font(FAMILY, "", SMALL_PT)
                pdf.set_text_color(*MUTED)
                pdf.cell(0, 5, _("Agreement version %(version)s", version=version), new_x=XPos.LMARGIN,
                         new_y=YPos.NEXT)
                pdf.cell(0, 5, f"SHA-256 {sha256}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.cell(0, 5, page_number(pdf), align="R")

        pdf = Page(_("Settlement agreement: %(case)s", case=case_name), lang, footer)
        pdf.set_auto_page_break(True, margin=34)      # room for the footer's three lines
        pdf.add_page()
        pdf.heading(_("Settlement agreement"))
        pdf.ln(1)
        pdf.para(case_name, size=15, bold=True, after_mm=2)
        pdf.para(_("Version %(version)s", version=version), colour=MUTED, after_mm=5)
        for paragraph in body.replace("\r\n", "\n").split("\n"):
            if paragraph.strip():
                pdf.para(paragraph, after_mm=2)
            else:
                pdf.ln(3)
        return pdf.done()
