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
from starlette.background import BackgroundTask
from sqlalchemy import select

from redress import i18n
from redress.admin import cases, claims, fund, payments
from redress.admin import hearings as hearings_admin
from redress.admin.errors import AdminError, BadInput
from redress.money import yuan
from redress.claims.lifecycle import CaseState
from redress.store import audit
from redress.store.models import AuditEvent, Case
from redress.web import api, charts, flash, portal_view, security
from redress.web.deps import (CsrfFailed, NotSignedIn, Principal, checked, optional_principal, principal,
                              require_visible_case, tx)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["yuan"] = lambda fen: yuan(int(fen or 0), grouping=True)
templates.env.globals["CaseState"] = CaseState
templates.env.globals["label"] = portal_view.label
templates.env.globals["days_left"] = portal_view.days_left
i18n.install(templates.env)


def _comparison_chart(table) -> str:
    """Totals of the plans compared at a hearing, as bars (rows are dicts or ``ComparisonRowOut``)."""
    rows = [r if isinstance(r, dict) else r.model_dump() for r in table]
    return charts.bars([(r["plan"], float(r["total_compensation"])) for r in rows], unit=" yuan")


templates.env.globals["comparison_chart"] = _comparison_chart


def render(request: Request, name: str, who: Principal | None = None, status_code: int = 200, **ctx) -> HTMLResponse:
    """A page; its notice comes from the catalogue by the ``msg`` key (nothing else from the URL is shown)."""
    notice = flash.shown(request, who.csrf_token if who else None)
    context = {"who": who, "flash": notice, "help_url": "/help", **ctx}
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    flash.consumed(request, response)
    return response


def back(request: Request, url: str, key: str, detail: str | None = None, who: Principal | None = None
         ) -> RedirectResponse:
    """Back to ``url`` (a path built here, ids quoted) with the notice ``key``; ``detail`` (what only the
    server knows) goes to the signed-in ``who`` alone."""
    response = RedirectResponse(f"{url}?msg={key}", status_code=303)
    flash.attach(response, key, detail, who.csrf_token if who else None,
                 secure=request.app.state.secure_cookies)
    return response


def _q(part: str) -> str:
    """An id from the URL, quoted again for a path this application builds."""
    from urllib.parse import quote

    return quote(part, safe="")


def refusal(exc: Exception) -> str:
    """Why a form was refused, for its notice (the detail of ``refused``)."""
    if isinstance(exc, AdminError):
        problems = getattr(exc, "problems", [])
        return str(exc).splitlines()[0] + (" — " + "; ".join(problems[:3]) if problems else "")
    from redress.errors import CaseError

    if isinstance(exc, CaseError):
        return "; ".join(str(p) for p in exc.problems[:5])
    return f"missing or bad field {exc}"


# -- the front door --------------------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    who = optional_principal(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/console" if who.is_staff else "/portal", status_code=303)


def local_path(target: str | None, default: str = "/") -> str:
    """Where to go back to after a step: a path on this site only (never another host, never a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target \
            or any(ord(ch) < 32 for ch in target) or len(target) > 300:
        return default
    return target


def came_from(request: Request) -> str:
    """The path (and query, less any notice key) of the page on this site that linked here, else ``/``."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return "/"
    query = urlencode([(k, v) for k, v in parse_qsl(referer.query) if k != "msg"])
    return local_path(referer.path + (f"?{query}" if query else ""))


@router.get("/language/{code}")
def switch_language(code: str, request: Request, next: str | None = None) -> Response:
    """Choose the site's language (kept in a cookie for a year) and go back to the page it was chosen on: ``next``
    if given, else the page the link was on (its ``Referer``, when it is this site's), else the front page.
    The switch's links carry nothing of the page's address, so no page repeats what its address held."""
    resp = RedirectResponse(local_path(next) if next else came_from(request), status_code=303)
    resp.set_cookie(i18n.COOKIE, i18n.chosen(code), max_age=365 * 24 * 3600, httponly=True,
                    secure=request.app.state.secure_cookies, samesite="lax", path="/")
    return resp


# -- investor portal -----------------------------------------------------------------------------------------

@router.get("/portal", response_class=HTMLResponse)
def portal(request: Request, who: Principal = Depends(principal)) -> Response:
    mine = api.my_claims(request, who)
    with tx(request) as s:
        names = {c.id: c.name for c in s.execute(select(Case).where(Case.id.in_([m.case_id for m in mine])))
                 .scalars()}
    return render(request, "portal_home.html", who, claims=mine, names=names)


def _story(explanation):
    """The explanation told in words (when the story module is installed), else None."""
    if explanation is None:
        return None
    try:
        from redress.portal import story as story_mod
    except ImportError:
        return None
    try:
        return story_mod.tell(explanation)
    except Exception:  # noqa: BLE001 - the claim page still shows the amount and the table
        return None


def _has_template(name: str) -> bool:
    from jinja2 import TemplateNotFound

    try:
        templates.env.get_template(name)
    except TemplateNotFound:
        return False
    return True


DRAFTS = ("accept", "decline")


@router.get("/portal/cases/{case_id}", response_class=HTMLResponse)
def portal_claim(case_id: str, request: Request, investor: str | None = None, draft: str | None = None,
                 who: Principal = Depends(principal)) -> Response:
    """The claim page, in the order a reader needs it: the amount, the deadline, how it was computed, the
    agreement, then the decision (``draft``: a choice restored after signing in again, ticked, never sent)."""
    investor_id = investor if who.is_staff and investor else who.investor_id
    who.require_claim(investor_id or "")
    with tx(request) as s:
        require_visible_case(s, who, case_id)
        case = cases.get_case(s, case_id)
        claim = api.claim_out(s, claims.claim_of(s, case_id, investor_id or ""))
        try:
            agreement = api.latest(s, case_id)
        except AdminError:
            agreement = None
        help_ = portal_view.contact(s, case_id)
        view = portal_view.claim_view(s, case, claim, help_, dt.date.today(), who.has("investor"))
    explanation = None
    if case.case_dir:
        try:
            explanation = api.explain_claim(request, case_id, investor_id or "")
        except Exception:  # noqa: BLE001 - the page still shows the claim if the case files are gone
            explanation = None
    story = _story(explanation)
    return render(request, "portal_claim.html", who, case=case, claim=claim, agreement=agreement,
                  explanation=explanation, story=story,
                  story_partial=story is not None and _has_template("_explanation.html"),
                  view=view, help=help_, can_decide=view.can_decide and agreement is not None,
                  draft=draft if draft in DRAFTS and view.can_decide else None,
                  decision_key=secrets.token_urlsafe(12), help_url=f"/cases/{_q(case_id)}/help")


def _not_saved(request: Request, case_id: str, decision: str, *, expired_form: bool) -> Response:
    """The page for a decision that arrived without a valid session (401) or with a stale form (403): it says
    the decision was not saved, and leads back (through sign-in) to the claim with the choice restored."""
    from urllib.parse import quote

    claim_url = f"/portal/cases/{_q(case_id)}"
    if decision in DRAFTS:
        claim_url += f"?draft={decision}"
    sign_in = f"/login?next={quote(claim_url, safe='/')}"
    return render(request, "session_expired.html", None, status_code=403 if expired_form else 401,
                  expired_form=expired_form, sign_in_url=sign_in, claim_url=claim_url,
                  decision=decision if decision in DRAFTS else None, help_url=f"/cases/{_q(case_id)}/help")


@router.post("/portal/cases/{case_id}/decision")
def portal_decide(case_id: str, request: Request, decision: Annotated[str, Form(max_length=20)],
                  key: Annotated[str, Form(max_length=100)], confirm: Annotated[str | None, Form()] = None,
                  agreement_version: Annotated[str, Form(max_length=100)] = "",
                  agreement_sha256: Annotated[str, Form(max_length=100)] = "",
                  csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """An investor's decision from the claim page.  Without a live session or with a stale form nothing is
    kept, and the page says so in words (never a silent jump to the sign-in form)."""
    page = "text/html" in request.headers.get("accept", "")       # a browser: words; a program: the API's errors
    who = optional_principal(request)
    if who is None:
        if not page:
            raise NotSignedIn("sign in first / 请先登录")
        return _not_saved(request, case_id, decision, expired_form=False)
    given = request.headers.get("x-csrf-token") or csrf_token
    if not security.csrf_ok(who.csrf_token, given or None):
        if not page:
            raise CsrfFailed("missing or wrong CSRF token; reload the page and try again / 请求校验失败，请刷新页面")
        return _not_saved(request, case_id, decision, expired_form=True)
    url = f"/portal/cases/{_q(case_id)}"
    try:
        body = api.S.DecisionIn(decision=decision, agreement_version=agreement_version or None,
                                agreement_sha256=agreement_sha256 or None, confirm=confirm == "yes", key=key)
        api.decide(case_id, who.investor_id or "", body, request, who)
    except AdminError as exc:
        return back(request, url, "refused", refusal(exc), who)
    except ValueError as exc:
        return back(request, url, "refused", f"{exc}".splitlines()[0], who)
    response = back(request, url, "decision_accepted" if decision == "accept" else "decision_declined")
    response.background = BackgroundTask(api.tell_investor, request, case_id, who.investor_id or "", who.name)
    return response


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
    from redress.errors import CaseError

    try:
        run = await api.upload_case(request, case_zip, who)
    except (AdminError, CaseError) as exc:       # a bad case directory is reported, not a crash
        return back(request, "/console", "refused", refusal(exc), who)
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
        funding_alerts = claims.funding_alerts(s, case_id)
    chart = charts.lines({"accepted 接受": [(str(p.date), p.accepted) for p in tl],
                          "declined 不接受": [(str(p.date), p.declined) for p in tl],
                          "lapsed 逾期": [(str(p.date), p.lapsed) for p in tl]})
    amount_timeline = charts.lines({"accepted, yuan 接受金额": [(str(p.date), p.accepted_fen / 100) for p in tl]})
    amount_chart = charts.bars([("offered 要约", part.offered_fen / 100), ("accepted 接受", part.accepted_fen / 100),
                                ("paid 已付", part.paid_fen / 100)], unit=" yuan")
    results_ready = bool(case.case_dir) and (Path(case.case_dir) / "results.csv").exists()
    return render(request, "console_case.html", who, case=case, st=st, part=part, pending=pending, batches=batches,
                  chart=chart, amount_chart=amount_chart, amount_timeline=amount_timeline, payers=payers, results_ready=results_ready,
                  has_agreement=has_agreement, today=dt.date.today(), funding_alerts=funding_alerts)


@router.post("/console/cases/{case_id}/compare", response_class=HTMLResponse)
def console_compare(case_id: str, request: Request, plan: Annotated[list[str], Form()] = [],  # noqa: B006
                    who: Principal = Depends(checked)) -> Response:
    from redress.errors import CaseError

    plans = [p for p in plan if p.strip()]
    try:
        table = api.compare_plans(case_id, request, plans, who)
    except (AdminError, CaseError) as exc:
        return back(request, f"/console/cases/{_q(case_id)}", "refused", refusal(exc), who)
    chart = charts.bars([(row["plan"], row["total_compensation"]) for row in table], unit=" yuan")
    return render(request, "console_compare.html", who, case_id=case_id, table=table, chart=chart, plans=plans)


ACTIONS = {"propose_plan", "agreement", "open", "close", "batch", "results", "approve", "reject"}


@router.post("/console/cases/{case_id}/do/{action}")
async def console_action(case_id: str, action: str, request: Request, who: Principal = Depends(checked)) -> Response:
    url = f"/console/cases/{_q(case_id)}"
    form = await request.form()
    detail = None
    try:
        if action not in ACTIONS:
            raise BadInput(f"unknown action {action}")
        if action == "propose_plan":
            api.propose_plan(case_id, api._Plan(open_on=form["open_on"], deadline=form["deadline"]), request, who)
            key = "plan_proposed"
        elif action == "agreement":
            api.publish_agreement(case_id, api._Agreement(version=form["version"], body=form["body"]), request, who)
            key = "agreement_published"
        elif action == "open":
            api.open_claims(case_id, request, who)
            key = "claims_opened"
        elif action == "close":
            res = api.close_claims(case_id, api._On(on=form["on"]), request, who)
            key, detail = "claims_closed", f"{res['lapsed']} lapsed / 逾期{res['lapsed']}件"
        elif action == "batch":
            api.propose_batch(case_id, api.S.BatchIn(on=form["on"]), request, who)
            key = "batch_proposed"
        elif action == "results":
            upload = form["file"]
            rep = await api.payment_results(case_id, request, upload, who)
            key, detail = results_notice(rep)
        else:
            ap_id = int(form["approval_id"])
            (api.approve if action == "approve" else api.reject)(ap_id, api._Decision(note=form.get("note", "")),
                                                                  request, who)
            key = "approved" if action == "approve" else "rejected"
    except (AdminError, KeyError, ValueError) as exc:
        key, detail = "refused", refusal(exc)
    return back(request, url, key, detail, who)


def results_notice(rep) -> tuple[str, str | None]:
    """The notice for a results file applied: its key and counts."""
    if rep.already_imported:
        return "results_already_imported", None
    return "results_imported", f"{rep.paid} paid, {rep.returned} returned / 已付{rep.paid}笔，退回{rep.returned}笔"


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
        if case_id:
            case_id = cases.get_case(s, case_id).id         # shown on the page: the case's id, not the URL's
        v = audit.verify(s)
        stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(200)
        if case_id:
            stmt = stmt.where(AuditEvent.case_id == case_id)
        events = list(s.execute(stmt).scalars())
    return render(request, "console_audit.html", who, verification=v, events=events, case_id=case_id)


# -- public --------------------------------------------------------------------------------------------------

@router.get("/cases/{case_id}", response_class=HTMLResponse)
def public_case(case_id: str, request: Request) -> Response:
    """What anyone may know about a case, in words: how to claim, the counts, the money, the plan."""
    with tx(request) as s:
        view = api.public_view(s, case_id)
        plan_toml = s.get(Case, view.id).plan_toml
        help_ = portal_view.contact(s, view.id)
    rows = [(portal_view.label("claim", k), int(view.by_status.get(k, 0)))
            for k in ("accepted", "declined", "lapsed", "offered")]
    return render(request, "public_case.html", optional_principal(request), case=view, rows=rows,
                  chart=portal_view.status_chart(rows), plan_words=portal_view.plan_in_words(plan_toml),
                  help=help_, help_url=f"/cases/{_q(view.id)}/help")


@router.get("/cases/{case_id}/help", response_class=HTMLResponse)
def case_help(case_id: str, request: Request) -> Response:
    """Help for one case (no sign-in): what advance compensation is, what each choice means, questions and
    answers, the deadline and whom to call."""
    with tx(request) as s:
        view = api.public_view(s, case_id)
        help_ = portal_view.contact(s, view.id)
    deadline = view.late_window_until if view.state == "late_window" else view.deadline
    return render(request, "help.html", optional_principal(request), case=view, contacts=[(view, help_)]
                  if help_ and help_.any else [], deadline=deadline, help_url=f"/cases/{_q(view.id)}/help")


@router.get("/help", response_class=HTMLResponse)
def general_help(request: Request) -> Response:
    """Help for everyone: the same questions and answers, and the contacts the fund set for each case."""
    with tx(request) as s:
        found = portal_view.contacts(s)
    return render(request, "help.html", optional_principal(request), case=None, contacts=found, deadline=None)


# -- hearings and recourse (console) -------------------------------------------------------------------------

def _names(text: str) -> list[str]:
    """People typed one a line or separated by commas."""
    return [n.strip() for n in text.replace(",", "\n").splitlines() if n.strip()]


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
    url = f"/console/cases/{_q(case_id)}/hearings"
    form = await request.form()
    detail = None
    try:
        if action == "open":
            api.open_hearing(case_id, api.S.HearingIn(
                organiser=form["organiser"], started_on=form["started_on"], seed_commitment=form["seed_commitment"],
                limit_months=int(form.get("limit_months") or 3)), request, who)
            key = "hearing_opened"
        elif action == "panel":
            agreed = _names(str(form.get("agreed", "")))
            api.form_panel(int(form["hearing_id"]), api.S.PanelIn(
                payer_side=_names(str(form["payer_side"])),
                representative_applicants=_names(str(form.get("representative_applicants", ""))),
                lawyer_applicants=_names(str(form.get("lawyer_applicants", ""))),
                lawyer_seats=int(form.get("lawyer_seats") or 0), seed=str(form.get("seed", "")) or None,
                agreed=agreed or None), request, who)
            key = "panel_seated"
        elif action == "plan":
            api.add_hearing_plan(int(form["hearing_id"]), api.S.HearingPlanIn(
                label=form["label"], proposed_by=form["proposed_by"], plan_toml=form["plan_toml"], on=form["on"]),
                request, who)
            key = "hearing_plan_added"
        elif action == "compare":
            api.publish_hearing_comparison(int(form["hearing_id"]), api.S.ComparisonIn(on=form["on"]), request, who)
            key = "comparison_published"
        elif action == "decide":
            api.decide_hearing(int(form["hearing_id"]), api.S.HearingDecisionIn(
                minutes=form["minutes"], decision=form["decision"], on=form["on"]), request, who)
            key = "hearing_decided"
        else:
            raise BadInput(f"unknown action {action}")
    except (AdminError, KeyError, ValueError) as exc:
        key, detail = "refused", refusal(exc)
    return back(request, url, key, detail, who)


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
    url = f"/console/cases/{_q(case_id)}/recovery"
    form = await request.form()
    detail = None
    try:
        if action == "party":
            api.add_liable_party(case_id, api.S.PartyIn(
                party_id=form["party_id"], name=form["name"], kind=form["kind"],
                fault_share_bp=int(form["fault_share_bp"]), solvent=form.get("solvent", "yes") == "yes",
                recovery_rate_bp=int(form.get("recovery_rate_bp") or 10_000),
                payer_id=str(form.get("payer_id", "")) or None), request, who)
            key = "party_added"
        elif action == "action":
            api.record_recovery_action(case_id, api.S.ActionIn(
                party_id=form["party_id"], stage=form["stage"], on=form["on"],
                amount_fen=int(form.get("amount_fen") or 0), reference=form["reference"],
                note=str(form.get("note", ""))), request, who)
            key = "recovery_step_recorded"
        elif action == "receipt":
            api.record_recovery_receipt(case_id, api.S.ReceiptIn(
                party_id=form["party_id"], amount_fen=int(form["amount_fen"]), on=form["on"],
                reference=form["reference"]), request, who)
            key = "recovery_booked"
        else:
            raise BadInput(f"unknown action {action}")
    except (AdminError, KeyError, ValueError) as exc:
        key, detail = "refused", refusal(exc)
    return back(request, url, key, detail, who)


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
    url = f"/console/cases/{_q(case_id)}/fair-fund"
    form = await request.form()
    detail = None
    try:
        if action == "establish":
            api.establish_fair_fund(case_id, api.S.FairFundIn(
                minimum_payment_fen=int(form.get("minimum_payment_fen") or 0), residual_to=form["residual_to"],
                redistribute_below_minimum=form.get("redistribute_below_minimum", "yes") == "yes",
                on=str(form.get("on", "")) or None), request, who)
            key = "fair_fund_established"
        elif action == "source":
            api.add_fair_fund_source(case_id, api.S.FairFundSourceIn(
                kind=form["kind"], amount_fen=int(form["amount_fen"]), reference=form["reference"],
                received_on=form["received_on"]), request, who)
            key = "fair_fund_source_added"
        elif action == "round":
            api.run_fair_fund_round(case_id, api.S.FairFundRoundIn(on=form["on"]), request,
                                    who)
            key = "fair_fund_round_run"
        elif action == "batch":
            ap = api.propose_fair_fund_batch(case_id, api.S.BatchIn(on=form["on"]), request, who)
            key, detail = "fair_fund_batch_proposed", f"request #{ap.id} / 复核申请#{ap.id}"
        elif action == "results":
            rep = await api.fair_fund_results(case_id, request, form["file"], who)
            key, detail = results_notice(rep)
        else:
            raise BadInput(f"unknown action {action}")
    except (AdminError, KeyError, ValueError) as exc:
        key, detail = "refused", refusal(exc)
    return back(request, url, key, detail, who)
