"""The console page of the investor protection fund: its statement with charts, the board's record and forms,
levies overdue, failed firms, investments and the regulators' reports to download."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from redress.admin.errors import AdminError, BadInput
from redress.web import charts, ipf_api
from redress.web.deps import Principal, checked, principal, tx
from redress.web.pages import _names, back, refusal, render

router = APIRouter()


@router.get("/console/ipf", response_class=HTMLResponse)
def console_ipf(request: Request, who: Principal = Depends(principal)) -> Response:
    from redress.admin.ipf import board as meetings
    from redress.admin.ipf import investments, levies
    from redress.store.models import FailedFirm, ProtectionEntry

    who.require(*ipf_api.READERS)
    today = dt.date.today()
    with tx(request) as s:
        st = ipf_api.statement_out(s, None)
        board = [ipf_api.meeting_out(s, m) for m in reversed(meetings.meetings(s))]
        overdue = levies.overdue_report(s, today)
        companies = levies.companies(s)
        firms = [ipf_api.firm_out(s, f) for f in s.execute(select(FailedFirm.id).order_by(FailedFirm.event_on)).scalars()]
        holdings = investments.holdings(s, include_matured=True)
        last = s.execute(select(func.max(ProtectionEntry.booked_on))).scalar_one()
    sources = charts.bars([(k, fen / 100) for k, fen in st.income_fen.items() if fen], unit=" yuan")
    assets = charts.bars([(label, fen / 100) for label, fen in (
        ("bank 银行存款", st.bank_fen), ("investments 投资", st.investments_fen),
        ("levies receivable 应收", st.levy_receivable_fen), ("claims in liquidation 清算债权", st.subrogated_fen),
        ("in transit 在途", st.in_transit_fen)) if fen], unit=" yuan")
    year = (last or today).year
    quarters = [(year, q) for q in range(1, 5) if dt.date(year, 3 * q - 2, 1) <= (last or today)]
    return render(request, "console_ipf.html", who, st=st, sources=sources, assets=assets, board=board,
                  overdue=overdue, companies=companies, firms=firms, holdings=holdings, quarters=quarters,
                  today=today)


@router.post("/console/ipf/do/{action}")
async def console_ipf_action(action: str, request: Request, who: Principal = Depends(checked)) -> Response:
    url = "/console/ipf"
    form = await request.form()
    detail = None
    try:
        who.require("operator")
        if action == "meeting":
            m = ipf_api.board_meeting(ipf_api.MeetingIn(
                held_on=form["held_on"], kind=str(form.get("kind") or "regular"),
                directors=_names(str(form["directors"])), present=_names(str(form.get("present", "")))),
                request, who)
            held = ("it could be held / 会议有效" if m.valid else
                    "it could NOT be held / 会议无效 — " + m.findings[-1].en)
            key, detail = "meeting_recorded", f"Meeting {m.id}: {held}"
        elif action == "resolution":
            r = ipf_api.board_resolution(int(form["meeting_id"]), ipf_api.ResolutionIn(
                subject=form["subject"], reference=form["reference"], text=form["text"],
                votes_for=_names(str(form.get("votes_for", ""))),
                votes_against=_names(str(form.get("votes_against", ""))),
                abstain=_names(str(form.get("abstain", "")))), request, who)
            key, detail = "resolution_recorded", (f"Resolution {r.reference}: "
                                                  + ("passed / 通过" if r.passed else "NOT passed / 未通过"))
        else:
            raise BadInput(f"unknown action {action}")
    except (AdminError, KeyError, ValueError) as exc:
        key, detail = "refused", refusal(exc)
    return back(request, url, key, detail, who)
