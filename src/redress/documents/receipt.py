"""The receipt of an investor's decision: what was decided, when, how, and on which agreement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fpdf.enums import XPos, YPos

from redress import i18n
from redress.documents.pdf import ACCENT, FAMILY, MUTED, SMALL_PT, Page, page_number
from redress.i18n import N_, _

CHANNELS = {
    "online": N_("online, on the investor portal"),
    "counter": N_("at the service counter"),
    "mail": N_("by post"),
    "broker": N_("through your securities company"),
    "system": N_("recorded by the system"),
}


@dataclass(frozen=True)
class Receipt:
    case_id: str
    case_name: str
    investor_id: str
    decision: str                # 'accept' or 'decline'
    decided_at: str              # ISO stamp (UTC) when the decision was recorded
    decided_on: dt.date
    channel: str
    amount_fen: int
    agreement_version: str | None
    agreement_sha256: str | None
    decision_id: int
    language: str

    def __post_init__(self) -> None:
        if self.decision not in ("accept", "decline"):
            raise ValueError(f"a receipt is for a decision 'accept' or 'decline', not {self.decision!r}")


def receipt_pdf(r: Receipt) -> bytes:
    with i18n.use(r.language) as lang:
        def footer(pdf: Page) -> None:
            with i18n.use(lang):
                pdf.set_y(-20)
                pdf.set_font(FAMILY, "", SMALL_PT)
                pdf.set_text_color(*MUTED)
                pdf.cell(0, 5, _("Keep this receipt. Decision number %(id)s.", id=r.decision_id),
                         new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.cell(0, 5, page_number(pdf), align="R")

        accepted = r.decision == "accept"
        pdf = Page(_("Receipt of your decision: %(case)s", case=r.case_name), lang, footer)
        pdf.add_page()
        pdf.heading(_("Receipt of your decision"))
        pdf.ln(1)
        pdf.para(r.case_name, size=15, bold=True, after_mm=4)
        amount = i18n.money(r.amount_fen)
        if accepted:
            said = _("You accepted the offer of advance compensation of %(amount)s yuan and the settlement "
                     "agreement.", amount=amount)
        else:
            said = _("You declined the offer of advance compensation of %(amount)s yuan.", amount=amount)
        pdf.boxed([(said, 15, True)])
        channel = CHANNELS.get(r.channel)
        rows = [
            (_("Investor"), r.investor_id),
            (_("Decision"), _("Accepted") if accepted else _("Declined")),
            (_("Recorded at"), i18n.datetime(r.decided_at)),
            (_("Decision date"), i18n.date(r.decided_on)),
            (_("How"), _(channel) if channel else r.channel),
            (_("Amount offered"), _("%(amount)s yuan", amount=amount)),
        ]
        if r.agreement_version:
            rows.append((_("Agreement version"), r.agreement_version))
        if r.agreement_sha256:
            rows.append((_("Agreement SHA-256"), r.agreement_sha256))
        rows.append((_("Decision number"), str(r.decision_id)))
        pdf.rows(rows)
        pdf.ln(3)
        if accepted:
            pdf.para(_("The amount will be paid to the bank account linked to your securities account. By "
                       "accepting, your claim for these losses against those responsible passed to the "
                       "payers of the fund, as the agreement says."))
        else:
            pdf.heading(_("What you keep"), size=15)
            pdf.ln(1)
            pdf.para(_("Declining takes none of your rights away. You keep the right to sue those "
                       "responsible in court for your losses yourself. Time limits apply to going to court: "
                       "ask a lawyer or the hotline soon."))
        pdf.para(_("The agreement's SHA-256 is its fingerprint: the text you can download from the portal "
                   "has exactly this fingerprint.") if r.agreement_sha256 else
                 _("If this receipt is wrong, contact the fund at once."), size=11, colour=ACCENT)
        return pdf.done()
