"""Server-rendered pages: sign-in, the investor portal, the administrator console and public case pages.

Pages work without JavaScript (forms post back; long runs refresh themselves). Every form carries the
session's CSRF token; the sign-in form carries its own (a double-submit cookie), since there is no session yet.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from redress.admin import cases, claims, fund, payments
from redress.admin import hearings as hearings_admin
from redress.admin.errors import AdminError, BadInput
from redress.admin.money import yuan
from redress.claims.lifecycle import CaseState, ClaimStatus
from redress.store import audit
from redress.store.models import AuditEvent, Case
from redress.web import api, charts, security
from redress.web.deps import Principal, checked, optional_principal, principal, tx

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["yuan"] = lambda fen: yuan(int(fen or 0), grouping=True)
templates.env.globals["CaseState"] = CaseState


def _comparison_chart(table) -> str:
    """Totals of the plans compared at a hearing, as bars (rows are dicts or ``ComparisonRowOut``)."""
    rows = [r if isinstance(r, dict) else r.model_dump() for r in table]
    return charts.bars([(r["plan"], float(r["total_compensation"])) for r in rows], unit=" yuan")


templates.env.globals["comparison_chart"] = _comparison_chart
LOGIN_CSRF = "redress_login_csrf"


def render(request: Request, name: str, who: Principal | None = None, status_code: int = 200, **ctx) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"who": who, "flash": request.query_params.get("msg"), **ctx},
                                      status_code=status_code)


def back(url: str, message: str) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"{url}?msg={quote(message)}", status_code=303)


# -- sign-in -------------------------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    who = optional_principal(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/console" if who.is_staff else "/portal", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", login_csrf=token, error=error)
    resp.set_cookie(LOGIN_CSRF, token, httponly=True, secure=request.app.state.secure_cookies, samesite="strict",
                    max_age=3600)
    return resp


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, name: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=200)],
          csrf_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    if not security.csrf_ok(request.cookies.get(LOGIN_CSRF, ""), csrf_token):
        return login_page(request, error="The form expired; please try again / 表单已过期，请重试")
    try:
        verified = security.check_password(request.app.state.read_engine, name, password)
        with tx(request) as s:
            try:
                signed = security.sign_in(s, name, password, api._client(request), verified)
            except (security.AuthError, security.LockedOut) as exc:
                refused = exc  # raised after the commit: a rolled-back failure would never count towards a lock-out
            else:
                refused = None
                staff = bool(set(signed.user.roles.split(",")) & cases.STAFF)
        if refused is not None:
            raise refused
    except AdminError as exc:
        resp = login_page(request, error=str(exc))
        resp.status_code = exc.status_code
        return resp
    resp = RedirectResponse("/console" if staff else "/portal", status_code=303)
    api.set_session_cookie(request, resp, signed.token)
    resp.delete_cookie(LOGIN_CSRF)
    return resp


@router.post("/logout")
def logout(request: Request, who: Principal = Depends(checked)) -> Response:
    with tx(request) as s:
        security.sign_out(s, request.cookies.get(security.COOKIE))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(security.COOKIE, path="/")
    return resp


# -- investor portal -----------------------------------------------------------------------------------------

@router.get("/portal", response_class=HTMLResponse)
def portal(request: Request, who: Principal = Depends(principal)) -> Response:
    mine = api.my_claims(request, who)
    return render(request, "portal_home.html", who, claims=mine)


@router.get("/portal/cases/{case_id}", response_class=HTMLResponse)
def portal_claim(case_id: str, request: Request, investor: str | None = None,
                 who: Principal = Depends(principal)) -> Response:
    investor_id = investor if who.is_staff and investor else who.investor_id
    who.require_claim(investor_id or "")
    with tx(request) as s:
        case = cases.get_case(s, case_id)
        claim = api.claim_out(s, claims.claim_of(s, case_id, investor_id or ""))
        try:
            agreement = api.latest(s, case_id)
        except AdminError:
            agreement = None
    explanation = None
    if case.case_dir:
        try:
            explanation = api.explain_claim(request, case_id, investor_id or "")
        except Exception:  # noqa: BLE001 - the page still shows the claim if the case files are gone
            explanation = None
    can_decide = (claim.status == ClaimStatus.OFFERED and case.state == CaseState.CLAIMS_OPEN) or (
        claim.status == ClaimStatus.LAPSED and case.state == CaseState.LATE_WINDOW)
    return render(request, "portal_claim.html", who, case=case, claim=claim, agreement=agreement,
                  explanation=explanation, can_decide=can_decide and who.has("investor"),
                  decision_key=secrets.token_urlsafe(12))


@router.post("/portal/cases/{case_id}/decision")
def portal_decide(case_id: str, request: Request, decision: Annotated[str, Form()], key: Annotated[str, Form()],
                  confirm: Annotated[str | None, Form()] = None, agreement_version: Annotated[str, Form()] = "",
                  agreement_sha256: Annotated[str, Form()] = "", who: Principal = Depends(checked)) -> Response:
    url = f"/portal/cases/{case_id}"
    try:
        body = api.S.DecisionIn(decision=decision, agreement_version=agreement_version or None,
                                agreement_sha256=agreement_sha256 or None, confirm=confirm == "yes", key=key)
        api.decide(case_id, who.investor_id or "", body, request, who)
    except AdminError as exc:
        return back(url, f"{exc}".split("\n")[0] + (" " + "; ".join(getattr(exc, "problems", [])[:3])))
    except ValueError as exc:
        return back(url, f"refused: {exc}")
    return back(url, "Your decision is recorded / 您的确认已记录" if decision == "accept"
                else "Your decision is recorded; you keep the right to sue / 已记录，您保留诉权")


# -- administrator console -----------------------------------------------------------------------------------

@router.get("/console", response_class=HTMLResponse)
def console(request: Request, who: Principal = Depends(principal)) -> Response:
    who.require("operator", "approver", "auditor", "investor_service")
    with tx(request) as s:
        rows = list(s.execute(select(Case).order_by(Case.id)).scalars())
    return render(request, "console_home.html", who, cases=rows)


@router.post("/console/cases")
async def console_upload(request: Request, case_zip: Annotated[UploadFile, File()],
                         who: Principal = Depends(checked)) -> Response:
    try:
        run = await api.upload_case(request, case_zip, who)
    except AdminError as exc:
        return back("/console", f"Refused / 未执行: {str(exc).splitlines()[0]}")
    except Exception as exc:  # noqa: BLE001 - a bad case directory is reported, not a crash
        from redress.errors import CaseError

        if isinstance(exc, CaseError):
            return back("/console", "Refused / 未执行: " + "; ".join(str(p) for p in exc.problems[:5]))
        raise
    return RedirectResponse(f"/console/runs/{run.id}", status_code=303)


@router.get("/console/runs/{run_id}", response_class=HTMLResponse)
def console_run(run_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
    run = api.get_run(run_id, request, who)
    return render(request, "console_run.html", who, run=run)


@router.get("/console/cases/{case_id}", response_class=HTMLResponse)
def console_case(case_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
    who.require("operator", "approver", "auditor", "investor_service")
    with tx(request) as s:
        case = cases.get_case(s, case_id)
        st = fund.statement(s, case_id)
        part = claims.participation(s, case_id)
        pending = [api.approval_out(a) for a in cases.pending_approvals(s, case_id)]
        batches = [api.batch_out(b) for b in payments.batches(s, case_id)]
        tl = api.participation_timeline(s, case_id)
        payers = cases.payers(s, case_id)
        has_agreement = bool(s.execute(select(api.Agreement).where(api.Agreement.case_id == case_id)).first())
    chart = charts.lines({"accepted 接受": [(str(p.date), p.accepted) for p in tl],
                          "declined 不接受": [(str(p.date), p.declined) for p in tl],
                          "lapsed 逾期": [(str(p.date), p.lapsed) for p in tl]})
    amount_timeline = charts.lines({"accepted, yuan 接受金额": [(str(p.date), p.accepted_fen / 100) for p in tl]})
    amount_chart = charts.bars([("offered 要约", part.offered_fen / 100), ("accepted 接受", part.accepted_fen / 100),
                                ("paid 已付", part.paid_fen / 100)], unit=" yuan")
    results_ready = bool(case.case_dir) and (Path(case.case_dir) / "results.csv").exists()
    return render(request, "console_case.html", who, case=case, st=st, part=part, pending=pending, batches=batches,
                  chart=chart, amount_chart=amount_chart, amount_timeline=amount_timeline, payers=payers, results_ready=results_ready,
                  has_agreement=has_agreement, today=dt.date.today())


@router.post("/console/cases/{case_id}/compare", response_class=HTMLResponse)
def console_compare(case_id: str, request: Request, plan: Annotated[list[str], Form()] = [],  # noqa: B006
                    who: Principal = Depends(checked)) -> Response:
    plans = [p for p in plan if p.strip()]
    try:
        table = api.compare_plans(case_id, request, plans, who)
    except AdminError as exc:
        return back(f"/console/cases/{case_id}", str(exc).splitlines()[0])
    except Exception as exc:  # noqa: BLE001
        from redress.errors import CaseError

        if isinstance(exc, CaseError):
            return back(f"/console/cases/{case_id}", "; ".join(str(p) for p in exc.problems[:5]))
        raise
    chart = charts.bars([(row["plan"], row["total_compensation"]) for row in table], unit=" yuan")
    return render(request, "console_compare.html", who, case_id=case_id, table=table, chart=chart, plans=plans)


ACTIONS = {"propose_plan", "agreement", "open", "close", "batch", "results", "approve", "reject"}


@router.post("/console/cases/{case_id}/do/{action}")
async def console_action(case_id: str, action: str, request: Request, who: Principal = Depends(checked)) -> Response:
    url = f"/console/cases/{case_id}"
    form = await request.form()
    try:
        if action not in ACTIONS:
            raise BadInput(f"unknown action {action}")
        if action == "propose_plan":
            api.propose_plan(case_id, api._Plan(open_on=form["open_on"], deadline=form["deadline"]), request, who)
            message = "Plan proposed; a second person must approve it / 方案已提交复核"
        elif action == "agreement":
            api.publish_agreement(case_id, api._Agreement(version=form["version"], body=form["body"]), request, who)
            message = "Agreement published / 和解协议已发布"
        elif action == "open":
            api.open_claims(case_id, request, who)
            message = "Claims are open / 已开始申报"
        elif action == "close":
            res = api.close_claims(case_id, api._On(on=form["on"]), request, who)
            message = f"Claims closed; {res['lapsed']} lapsed / 申报已截止"
        elif action == "batch":
            api.propose_batch(case_id, api.S.BatchIn(on=form["on"]), request, who)
            message = "Batch proposed; a second person must release it / 批次已提交复核"
        elif action == "results":
            upload = form["file"]
            rep = await api.payment_results(case_id, request, upload, who)
            message = ("Already imported; nothing changed / 已导入过" if rep.already_imported else
                       f"{rep.paid} paid, {rep.returned} returned / 已处理")
        else:
            ap_id = int(form["approval_id"])
            (api.approve if action == "approve" else api.reject)(ap_id, api._Decision(note=form.get("note", "")),
                                                                  request, who)
            message = "Approved and carried out / 已复核执行" if action == "approve" else "Rejected / 已退回"
    except AdminError as exc:
        problems = getattr(exc, "problems", [])
        message = "Refused / 未执行: " + str(exc).splitlines()[0] + (" — " + "; ".join(problems[:3]) if problems else "")
    except (KeyError, ValueError) as exc:
        message = f"Refused / 未执行: missing or bad field {exc}"
    return back(url, message)


@router.get("/console/cases/{case_id}/ledger", response_class=HTMLResponse)
def console_ledger(case_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        case = cases.get_case(s, case_id)
        entries = fund.entries(s, case_id)
        trial = fund.trial(s, case_id)
    return render(request, "console_ledger.html", who, case=case, entries=entries, trial=trial)


@router.get("/console/audit", response_class=HTMLResponse)
def console_audit(request: Request, case_id: str | None = None, who: Principal = Depends(principal)) -> Response:
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        v = audit.verify(s)
        stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(200)
        if case_id:
            stmt = stmt.where(AuditEvent.case_id == case_id)
        events = list(s.execute(stmt).scalars())
    return render(request, "console_audit.html", who, verification=v, events=events, case_id=case_id)


# -- public --------------------------------------------------------------------------------------------------

@router.get("/cases/{case_id}", response_class=HTMLResponse)
def public_case(case_id: str, request: Request) -> Response:
    with tx(request) as s:
        view = api.public_view(s, case_id)
    chart = charts.bars([(f"{k} {ClaimStatus(k).label_zh}", float(view.by_status.get(k, 0))) for k in
                         ("accepted", "declined", "lapsed", "offered")])
    return render(request, "public_case.html", optional_principal(request), case=view, chart=chart)


# -- hearings and recourse (console) -------------------------------------------------------------------------

def _names(text: str) -> list[str]:
    """People typed one a line or separated by commas."""
    return [n.strip() for n in text.replace(",", "\n").splitlines() if n.strip()]


def _refused(exc: Exception) -> str:
    if isinstance(exc, AdminError):
        problems = getattr(exc, "problems", [])
        return "Refused / 未执行: " + str(exc).splitlines()[0] + (" — " + "; ".join(problems[:3]) if problems else "")
    return f"Refused / 未执行: missing or bad field {exc}"


@router.get("/console/cases/{case_id}/hearings", response_class=HTMLResponse)
def console_hearings(case_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
    who.require("operator", "approver", "auditor", "investor_service")
    with tx(request) as s:
        case = cases.get_case(s, case_id)
        heard = [api.hearing_out(s, h) for h in hearings_admin.hearings(s, case_id)]
    return render(request, "console_hearing.html", who, case=case, hearings=heard, today=dt.date.today(),
                  can_open=case.state in hearings_admin.HEARING_STATES and not any(h.status == "open" for h in heard))


@router.post("/console/cases/{case_id}/hearings/do/{action}")
async def console_hearing_action(case_id: str, action: str, request: Request,
                                 who: Principal = Depends(checked)) -> Response:
    url = f"/console/cases/{case_id}/hearings"
    form = await request.form()
    try:
        if action == "open":
            api.open_hearing(case_id, api.S.HearingIn(
                organiser=form["organiser"], started_on=form["started_on"], seed_commitment=form["seed_commitment"],
                limit_months=int(form.get("limit_months") or 3)), request, who)
            message = "Hearing opened; the seed commitment is published / 听证已开始"
        elif action == "panel":
            agreed = _names(str(form.get("agreed", "")))
            api.form_panel(int(form["hearing_id"]), api.S.PanelIn(
                payer_side=_names(str(form["payer_side"])),
                representative_applicants=_names(str(form.get("representative_applicants", ""))),
                lawyer_applicants=_names(str(form.get("lawyer_applicants", ""))),
                lawyer_seats=int(form.get("lawyer_seats") or 0), seed=str(form.get("seed", "")) or None,
                agreed=agreed or None), request, who)
            message = "Panel seated / 听证小组已组成"
        elif action == "plan":
            api.add_hearing_plan(int(form["hearing_id"]), api.S.HearingPlanIn(
                label=form["label"], proposed_by=form["proposed_by"], plan_toml=form["plan_toml"], on=form["on"]),
                request, who)
            message = "Plan put to the hearing / 方案已提交听证"
        elif action == "compare":
            api.publish_hearing_comparison(int(form["hearing_id"]), api.S.ComparisonIn(on=form["on"]), request, who)
            message = "Comparison computed and published / 方案对比已公布"
        elif action == "decide":
            api.decide_hearing(int(form["hearing_id"]), api.S.HearingDecisionIn(
                minutes=form["minutes"], decision=form["decision"], on=form["on"]), request, who)
            message = "Decision recorded and published / 听证决定已记录"
        else:
            raise BadInput(f"unknown action {action}")
    except (AdminError, KeyError, ValueError) as exc:
        message = _refused(exc)
    return back(url, message)


@router.get("/console/cases/{case_id}/recovery", response_class=HTMLResponse)
def console_recovery(case_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        case = cases.get_case(s, case_id)
        rec = api.recovery_out(s, case_id)
        payer_ids = [p.payer_id for p in cases.payers(s, case_id)]
    from redress.admin.recovery import STAGES

    return render(request, "console_recovery.html", who, case=case, rec=rec, stages=STAGES, payer_ids=payer_ids,
                  today=dt.date.today())


@router.post("/console/cases/{case_id}/recovery/do/{action}")
async def console_recovery_action(case_id: str, action: str, request: Request,
                                  who: Principal = Depends(checked)) -> Response:
    url = f"/console/cases/{case_id}/recovery"
    form = await request.form()
    try:
        if action == "party":
            api.add_liable_party(case_id, api.S.PartyIn(
                party_id=form["party_id"], name=form["name"], kind=form["kind"],
                fault_share_bp=int(form["fault_share_bp"]), solvent=form.get("solvent", "yes") == "yes",
                recovery_rate_bp=int(form.get("recovery_rate_bp") or 10_000),
                payer_id=str(form.get("payer_id", "")) or None), request, who)
            message = "Liable party added / 责任方已添加"
        elif action == "action":
            api.record_recovery_action(case_id, api.S.ActionIn(
                party_id=form["party_id"], stage=form["stage"], on=form["on"],
                amount_fen=int(form.get("amount_fen") or 0), reference=form["reference"],
                note=str(form.get("note", ""))), request, who)
            message = "Step recorded / 追偿步骤已记录"
        elif action == "receipt":
            api.record_recovery_receipt(case_id, api.S.ReceiptIn(
                party_id=form["party_id"], amount_fen=int(form["amount_fen"]), on=form["on"],
                reference=form["reference"]), request, who)
            message = "Recovery booked and passed on to the payers / 追偿款已入账"
        else:
            raise BadInput(f"unknown action {action}")
    except (AdminError, KeyError, ValueError) as exc:
        message = _refused(exc)
    return back(url, message)


# -- fair fund (console) -------------------------------------------------------------------------------------

@router.get("/console/cases/{case_id}/fair-fund", response_class=HTMLResponse)
def console_fair_fund(case_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        case = cases.get_case(s, case_id)
        ff = api.fair_fund_out(s, case_id)
        pending = [api.approval_out(a) for a in cases.pending_approvals(s, case_id) if a.action == "release_fairfund"]
    from redress.admin.fairfunds import SOURCE_KINDS

    return render(request, "console_fairfund.html", who, case=case, ff=ff, kinds=SOURCE_KINDS,
                  today=dt.date.today(), pending=pending)


@router.post("/console/cases/{case_id}/fair-fund/do/{action}")
async def console_fair_fund_action(case_id: str, action: str, request: Request,
                                   who: Principal = Depends(checked)) -> Response:
    url = f"/console/cases/{case_id}/fair-fund"
    form = await request.form()
    try:
        if action == "establish":
            api.establish_fair_fund(case_id, api.S.FairFundIn(
                minimum_payment_fen=int(form.get("minimum_payment_fen") or 0), residual_to=form["residual_to"],
                redistribute_below_minimum=form.get("redistribute_below_minimum", "yes") == "yes",
                on=str(form.get("on", "")) or None), request, who)
            message = "Fair fund established / 公平基金已设立"
        elif action == "source":
            api.add_fair_fund_source(case_id, api.S.FairFundSourceIn(
                kind=form["kind"], amount_fen=int(form["amount_fen"]), reference=form["reference"],
                received_on=form["received_on"]), request, who)
            message = "Money paid in recorded / 资金来源已登记"
        elif action == "round":
            api.run_fair_fund_round(case_id, api.S.FairFundRoundIn(on=form["on"]), request,
                                    who)
            message = "Round of distribution run / 分配已完成"
        elif action == "batch":
            ap = api.propose_fair_fund_batch(case_id, api.S.BatchIn(on=form["on"]), request, who)
            message = f"Batch proposed; a second person must release it (request #{ap.id}) / 批次已提交复核"
        elif action == "results":
            rep = await api.fair_fund_results(case_id, request, form["file"], who)
            message = ("Already imported; nothing changed / 已导入过" if rep.already_imported else
                       f"{rep.paid} paid, {rep.returned} returned / 已处理")
        else:
            raise BadInput(f"unknown action {action}")
    except (AdminError, KeyError, ValueError) as exc:
        message = _refused(exc)
    return back(url, message)
