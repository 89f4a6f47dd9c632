"""The notice letter: one A4 page per investor, posted with the activation code that opens the portal."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from fpdf.enums import XPos, YPos

from redress import i18n
from redress.documents.pdf import ACCENT, BODY_PT, FAMILY, MUTED, WARNING, Page
from redress.i18n import _


@dataclass(frozen=True)
class Letter:
    case_id: str
    case_name: str
    investor_id: str
    user_name: str               # what the investor types as user name (their investor id)
    amount_fen: int
    deadline: dt.date
    activation_code: str
    portal_url: str
    hotline: str | None
    language: str


def grouped(code: str) -> str:
    """The code in groups of four, easier to read and type: ``K7QM2XPA9R`` -> ``K7QM 2XPA 9R``."""
    plain = re.sub(r"[\s-]", "", code)
    return " ".join(plain[i:i + 4] for i in range(0, len(plain), 4))


def _letter(pdf: Page, letter: Letter) -> None:
    pdf.add_page()
    pdf.set_auto_page_break(False)    # one sheet per investor, whatever the length of the case's name
    pdf.set_font(FAMILY, "", 10)
    pdf.set_text_color(*MUTED)
    pdf.cell(pdf.epw / 2, 5, _("Investor notice"))
    who = _("Case %(case)s · investor %(investor)s", case=letter.case_id, investor=letter.investor_id)
    pdf.cell(0, 5, who, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.heading(_("Your offer of advance compensation"))
    pdf.ln(1)
    pdf.para(letter.case_name, size=15, bold=True, after_mm=4)
    pdf.para(_("Advance compensation means that a fund set up by those responsible for the false statements "
               "pays harmed investors first, and then recovers the money from the others responsible."))
    pdf.boxed([(_("Amount offered to you"), BODY_PT, False),
               (_("%(amount)s yuan", amount=i18n.money(letter.amount_fen)), 22, True),
               (_("Please decide by %(date)s. If you do nothing, the offer lapses.",
                  date=i18n.date(letter.deadline)), BODY_PT, False)])
    pdf.heading(_("How to sign in the first time"), size=15)
    pdf.ln(1)
    pdf.para(_("1. Open the portal on your phone or computer:"), after_mm=0.5)
    pdf.set_x(pdf.l_margin + 6)
    pdf.set_font(FAMILY, "B", 15)
    pdf.set_text_color(*ACCENT)
    pdf.cell(0, 8, letter.portal_url, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)
    steps = (
        _("2. Enter the activation code below and one of your securities account numbers."),
        _("3. Choose a password of your own. Then read the offer and decide. Next time you sign in with your "
          "user name %(user)s and that password.", user=letter.user_name),
    )
    for step in steps:
        pdf.para(step, after_mm=1.5)
    pdf.ln(2)
    pdf.boxed([(_("Your activation code"), BODY_PT, False),
               (grouped(letter.activation_code), 28, True),
               (_("The spaces only make the code easier to read; you need not type them. "
                  "The code works once."), 11, False)], align="C")
    if letter.hotline:
        pdf.para(_("Questions? Call our hotline %(phone)s.", phone=letter.hotline), bold=True, colour=ACCENT)
    else:
        pdf.para(_("Questions? The portal has help pages for this case."), bold=True, colour=ACCENT)
    pdf.boxed([(_("Beware of fraud"), 15, True),
               (_("The fund never asks you to pay any money, and never asks for your bank card password "
                  "or your portal password. Nobody from the fund will ask you for this code by telephone."),
                BODY_PT, False)], fill=(253, 240, 238), border_colour=WARNING, text_colour=WARNING)


def letters_pdf(letters: list[Letter]) -> bytes:
    """One page per letter, each in its letter's language."""
    if not letters:
        raise ValueError("no letters to print: give at least one Letter")
    with i18n.use(letters[0].language) as language:
        title = _("Notices of advance compensation: %(case)s", case=letters[0].case_name)
        pdf = Page(title, language)
    for letter in letters:
        with i18n.use(letter.language):
            _letter(pdf, letter)
    return pdf.done()
