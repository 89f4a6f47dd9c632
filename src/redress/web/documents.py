"""The investor's documents as PDF: the settlement agreement and the receipt of a decision.

Who may fetch them is decided as for the claim page: an investor their own claim's, staff any (naming the
investor with ``?investor=``).  The PDF is written in the language of the request.
"""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from redress import i18n
from redress.admin import cases, claims
from redress.admin.errors import NotFound
from redress.documents import FontMissing, Receipt, agreement_pdf, receipt_pdf
from redress.store.models import Agreement, Decision
from redress.web import api
from redress.web.deps import Principal, principal, require_visible_case, tx

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


def _ascii(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("._") or "x"


def pdf_response(body: bytes, filename: str) -> Response:
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{_ascii(filename[:-4])}.pdf"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


def _unavailable(exc: FontMissing) -> Response:
    # the server lacks a Chinese font: the operator reads why in the log, the investor gets a plain answer
    log.error("cannot write a PDF: %s", exc)
    return Response(i18n._("Documents cannot be made right now. Please try again later."), status_code=503,
                    media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"})


def _investor(who: Principal, investor: str | None) -> str:
    """Whose claim: the signed-in investor's own; staff name one (as on the claim page)."""
    investor_id = investor if who.is_staff and investor else who.investor_id
    who.require_claim(investor_id or "")
    return investor_id or ""


@router.get("/portal/cases/{case_id}/agreement.pdf")
def agreement_document(case_id: str, request: Request, version: str | None = None,
                       investor: str | None = None, who: Principal = Depends(principal)) -> Response:
    """The latest settlement agreement, or the one of ``version`` (e.g. the version the investor accepted)."""
    _investor(who, investor)
    with tx(request) as s:
        require_visible_case(s, who, case_id)
        case = cases.get_case(s, case_id)
        if version:
            ag = s.execute(select(Agreement).where(Agreement.case_id == case_id, Agreement.version == version)
                           ).scalar_one_or_none()
            if ag is None:
                raise NotFound(f"case {case_id} has no agreement version {version!r}")
        else:
            ag = api.latest(s, case_id)
        name, ag_version, body, sha = case.name, ag.version, ag.body, ag.sha256
    try:
        pdf = agreement_pdf(name, ag_version, body, sha, i18n.current())
    except FontMissing as exc:
        return _unavailable(exc)
    return pdf_response(pdf, f"agreement-{case_id}-{ag_version}.pdf")


@router.get("/portal/cases/{case_id}/receipt.pdf")
def receipt_document(case_id: str, request: Request, investor: str | None = None,
                     who: Principal = Depends(principal)) -> Response:
    """The receipt of the latest decision (accept or decline) on the investor's claim; 404 when none."""
    investor_id = _investor(who, investor)
    with tx(request) as s:
        require_visible_case(s, who, case_id)
        case = cases.get_case(s, case_id)
        claim = claims.claim_of(s, case_id, investor_id)
        d = s.execute(select(Decision).where(Decision.claim_id == claim.id,
                                             Decision.decision.in_(("accept", "decline")))
                      .order_by(Decision.id.desc()).limit(1)).scalar_one_or_none()
        if d is None:
            raise NotFound(f"investor {investor_id!r} has not decided on the offer in case {case_id} yet")
        receipt = Receipt(case_id=case_id, case_name=case.name, investor_id=investor_id, decision=d.decision,
                          decided_at=d.at, decided_on=d.decided_on, channel=d.channel,
                          amount_fen=claim.offered_fen, agreement_version=d.agreement_version,
                          agreement_sha256=d.agreement_sha256, decision_id=d.id, language=i18n.current())
    try:
        pdf = receipt_pdf(receipt)
    except FontMissing as exc:
        return _unavailable(exc)
    return pdf_response(pdf, f"receipt-{case_id}-{investor_id}.pdf")
