"""The HTTP API: cases, plans, computation runs, claims, decisions, payments, the ledger, reports, audit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import polars as pl
from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from redress import ids
from redress.admin import approvals as approval_service
from redress.admin import cases, claims, fund, payments
from redress.admin.errors import AdminError, BadInput, NotFound
from redress.claims.lifecycle import CaseState
from redress.i18n import _
from redress.store import audit
from redress.store.db import unit_of_work
from redress.store.models import (Agreement, Approval, AuditEvent, Case, Claim, ClaimLine, Decision,
                                  Payer, Payment, Transition)
from redress.web import limits, security
from redress.web import schemas as S
from redress.web.deps import Principal, checked, principal, require_visible_case, tx

router = APIRouter(prefix="/api")
ERRORS = {status: {"model": S.Problem} for status in (401, 403, 404, 409, 413, 422, 429)}
PerPage = Annotated[int, Query(ge=1, le=500)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]     # the database's INTEGER columns


def _client(request: Request) -> str:
    """The address sign-ins are counted against (a trusted proxy's ``X-Forwarded-For``, else the peer)."""
    return limits.client_address(request)


# -- session -------------------------------------------------------------------------------------------------

@router.post("/session", response_model=S.Me, responses=ERRORS, tags=["session"])
def sign_in(body: S.SignIn, request: Request, response: Response) -> S.Me:
    """Sign in; the session cookie is HttpOnly and Secure; use the returned csrf_token on every change."""
    verified = security.check_password(request.app.state.read_engine, body.name, body.password)
    with tx(request) as s:
        try:
            signed = security.sign_in(s, body.name, body.password, _client(request), verified)
        except (security.AuthError, security.LockedOut) as exc:
            refused = exc      # raised after the commit: a rolled-back failure would never count towards a lock-out
        else:
            refused = None
            user = signed.user
            me = S.Me(name=user.name, display_name=user.display_name, roles=user.roles.split(","),
                      csrf_token=signed.csrf_token, investor_id=user.investor_id)
    if refused is not None:
        raise refused
    set_session_cookie(request, response, signed.token)
    return me


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(security.COOKIE, token, max_age=security.SESSION_HOURS * 3600, httponly=True,
                        secure=request.app.state.secure_cookies, samesite="lax", path="/")


@router.delete("/session", status_code=204, responses=ERRORS, tags=["session"])
def sign_out(request: Request, response: Response, who: Principal = Depends(checked)) -> Response:
    with tx(request) as s:
        security.sign_out(s, request.cookies.get(security.COOKIE))
    response.delete_cookie(security.COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", response_model=S.Me, responses=ERRORS, tags=["session"])
def me(who: Principal = Depends(principal)) -> S.Me:
    return S.Me(name=who.name, display_name=who.display_name, roles=sorted(who.roles), csrf_token=who.csrf_token,
                investor_id=who.investor_id)


# -- cases ---------------------------------------------------------------------------------------------------

def case_out(c: Case) -> S.CaseOut:
    return S.CaseOut(id=c.id, name=c.name, state=c.state, state_zh=CaseState(c.state).label_zh,
                     claims_open_on=c.claims_open_on, deadline=c.deadline, late_window_until=c.late_window_until,
                     plan_sha256=c.plan_sha256, fully_funded=c.fully_funded)


@router.get("/cases", response_model=S.Page[S.CaseOut], responses=ERRORS, tags=["cases"])
def list_cases(request: Request, page: PageNo = 1, per_page: PerPage = 50,
               who: Principal = Depends(principal)) -> S.Page[S.CaseOut]:
    """The cases this user may see: staff all, a payer its case, an investor the cases with their claims."""
    with tx(request) as s:
        stmt = select(Case)
        if not who.is_staff:
            if who.has("payer"):
                stmt = stmt.where(Case.id == who.payer_case_id)
            else:
                stmt = stmt.where(Case.id.in_(select(Claim.case_id).where(Claim.investor_id == who.investor_id)))
        total = s.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = s.execute(stmt.order_by(Case.id).offset((page - 1) * per_page).limit(per_page)).scalars()
        return S.Page[S.CaseOut](items=[case_out(c) for c in rows], total=total, page=page, per_page=per_page)


@router.get("/cases/{case_id}", response_model=S.CaseOut, responses=ERRORS, tags=["cases"])
def get_case(case_id: str, request: Request, who: Principal = Depends(principal)) -> S.CaseOut:
    with tx(request) as s:
        require_visible_case(s, who, case_id)       # an investor with a claim sees the case, a payer its own
        return case_out(cases.get_case(s, case_id))


@router.post("/cases", response_model=S.RunOut, status_code=202, responses=ERRORS, tags=["cases"])
async def upload_case(request: Request, case_zip: Annotated[UploadFile, File(description="The case directory, zipped")],
                      who: Principal = Depends(checked)) -> S.RunOut:
    """Create a case from a zipped case directory and start computing it (poll ``/api/runs/{id}``)."""
    who.require("operator")
    from redress.law.plan import load_case
    from redress.web.runs import unpack_case

    bounds = request.app.state.limits
    staging = Path(tempfile.mkdtemp(prefix="case-", dir=request.app.state.uploads_dir))
    try:                                 # whatever is refused, nothing of the upload stays on disk
        archive = staging / "upload.zip"
        await limits.save_upload(case_zip, archive, bounds.upload_bytes)
        unpacked = unpack_case(archive, staging / "case", max_bytes=bounds.unpacked_bytes,
                               max_files=bounds.unpacked_files)
        archive.unlink()
        config = load_case(unpacked)
        try:
            case_id = ids.check(ids.IdKind.CASE, config.id)
        except ids.BadId as exc:
            raise BadInput(f"case.toml: {exc}") from None
        with tx(request) as s:
            if s.get(Case, case_id) is not None:
                raise AdminError(f"case {case_id} already exists / 案件已存在")
        root = request.app.state.data_dir / "cases"
        root.mkdir(exist_ok=True)
        dest = ids.inside(root, case_id)
        try:
            dest.mkdir()                 # claims the folder: of two uploads of one id, the second stops here
        except FileExistsError:
            raise AdminError(f"case {case_id} already exists / 案件已存在") from None
        try:
            for item in unpacked.iterdir():
                item.rename(ids.inside(dest, item.name))
            with tx(request) as s:
                c = cases.create_case(s, who.name, case_id, config.name)
                c.case_dir = str(dest)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    run = request.app.state.runs.start(case_id, dest)
    return run_out(run)


def run_out(run) -> S.RunOut:
    from redress.web.runs import STEPS

    return S.RunOut(id=run.id, case_id=run.case_id, status=run.status, step=run.step, steps_done=run.steps_done,
                    steps_total=STEPS, error=(run.error + ("; " + "; ".join(run.problems) if run.problems else ""))
                    if run.error else None, investors=run.investors, compensation_fen=run.compensation_fen)


@router.get("/runs/{run_id}", response_model=S.RunOut, responses=ERRORS, tags=["cases"])
def get_run(run_id: str, request: Request, who: Principal = Depends(principal)) -> S.RunOut:
    who.require("operator", "approver", "auditor")
    run = request.app.state.runs.get(run_id)
    if run is None:
        raise NotFound(f"no computation run {run_id}")
    return run_out(run)


@router.post("/cases/{case_id}/compute", response_model=S.RunOut, status_code=202, responses=ERRORS, tags=["cases"])
def recompute(case_id: str, request: Request, who: Principal = Depends(checked)) -> S.RunOut:
    who.require("operator")
    with tx(request) as s:
        c = cases.get_case(s, case_id)
        if not c.case_dir:
            raise AdminError("this case has no case directory on the server")
    return run_out(request.app.state.runs.start(case_id, Path(c.case_dir)))


def _case_dir(request: Request, case_id: str) -> Path:
    with tx(request) as s:
        c = cases.get_case(s, case_id)
        if not c.case_dir:
            raise NotFound(f"case {case_id} has no case directory on the server (created from the command line)")
        return Path(c.case_dir)


@router.post("/cases/{case_id}/compare", responses=ERRORS, tags=["plans"])
def compare_plans(case_id: str, request: Request, plans: Annotated[list[str], Form(
        description="Plan overrides in TOML ([plan] tables), one per field")] = [],  # noqa: B006
        who: Principal = Depends(checked)) -> list[dict]:
    """The case under its own plan and each alternative, side by side (for hearings on the plan)."""
    who.require("operator", "approver", "auditor")
    from redress.engine.compare import compare
    from redress.law.plan import load_plan_override

    prep = _prepared(request, case_id)
    named = [("case.toml", prep.case.plan)]
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(plans):
            path = Path(tmp) / f"plan-{i + 1}.toml"
            path.write_text(text, encoding="utf-8")
            named.append((f"plan {i + 1}", load_plan_override(path, prep.case)))
    return compare(prep, named).table.to_dicts()


def _prepared(request: Request, case_id: str):
    from redress.web.runs import prepared

    return prepared(_case_dir(request, case_id))


class _Plan(S.BaseModel):
    open_on: dt.date
    deadline: dt.date


@router.post("/cases/{case_id}/plan", response_model=S.ApprovalOut, responses=ERRORS, tags=["plans"])
def propose_plan(case_id: str, body: _Plan, request: Request, who: Principal = Depends(checked)) -> S.ApprovalOut:
    """The maker proposes the computed results and dates; a different approver must approve."""
    who.require("operator")
    case_dir = _case_dir(request, case_id)
    results = case_dir / "results.csv"
    if not results.exists():
        raise AdminError("compute the case first / 请先完成计算")
    with tx(request) as s:
        return approval_out(claims.propose_plan(s, who.name, case_id, case_dir, results, body.open_on, body.deadline,
                                                recompute=False))


class _Agreement(S.BaseModel):
    version: str
    body: str


@router.post("/cases/{case_id}/agreement", response_model=S.AgreementOut, responses=ERRORS, tags=["plans"])
def publish_agreement(case_id: str, body: _Agreement, request: Request,
                      who: Principal = Depends(checked)) -> S.AgreementOut:
    who.require("operator")
    with tx(request) as s:
        ag = claims.publish_agreement(s, who.name, case_id, body.version, body.body)
        return S.AgreementOut(version=ag.version, sha256=ag.sha256, body=ag.body)


@router.get("/cases/{case_id}/agreement", response_model=S.AgreementOut, responses=ERRORS, tags=["claims"])
def latest_agreement(case_id: str, request: Request, who: Principal = Depends(principal)) -> S.AgreementOut:
    """The latest settlement agreement: for staff, the case's payers and the investors with a claim in it."""
    with tx(request) as s:
        require_visible_case(s, who, case_id)
        cases.get_case(s, case_id)
        ag = latest(s, case_id)
        return S.AgreementOut(version=ag.version, sha256=ag.sha256, body=ag.body)


def latest(s, case_id: str) -> Agreement:
    ag = s.execute(select(Agreement).where(Agreement.case_id == case_id).order_by(Agreement.published_at.desc())
                   .limit(1)).scalar_one_or_none()
    if ag is None:
        raise NotFound("no settlement agreement has been published yet / 和解协议尚未发布")
    return ag


@router.post("/cases/{case_id}/open", response_model=S.CaseOut, responses=ERRORS, tags=["claims"])
def open_claims(case_id: str, request: Request, who: Principal = Depends(checked)) -> S.CaseOut:
    who.require("operator")
    results = _case_dir(request, case_id) / "results.csv"
    with tx(request) as s:
        claims.open_claims(s, who.name, case_id, results)
        return case_out(cases.get_case(s, case_id))


class _On(S.BaseModel):
    on: dt.date


@router.post("/cases/{case_id}/close", response_model=dict[str, int], responses=ERRORS, tags=["claims"])
def close_claims(case_id: str, body: _On, request: Request, who: Principal = Depends(checked)) -> dict[str, int]:
    who.require("operator")
    with tx(request) as s:
        return claims.close_claims(s, who.name, case_id, body.on)


# -- the books -----------------------------------------------------------------------------------------------

@router.get("/cases/{case_id}/statement", response_model=S.Statement, responses=ERRORS, tags=["ledger"])
def statement(case_id: str, request: Request, who: Principal = Depends(principal)) -> S.Statement:
    who.require_case(case_id)
    with tx(request) as s:
        st = fund.statement(s, case_id)
    return S.Statement(**dataclasses.asdict(st), surplus_fen=st.surplus_fen, paid_out_fen=st.paid_out_fen)


@router.get("/cases/{case_id}/ledger", response_model=S.Page[S.EntryOut], responses=ERRORS, tags=["ledger"])
def ledger(case_id: str, request: Request, page: PageNo = 1, per_page: PerPage = 100,
           who: Principal = Depends(principal)) -> S.Page[S.EntryOut]:
    who.require_case(case_id)
    with tx(request) as s:
        cases.get_case(s, case_id)
        all_entries = fund.entries(s, case_id)
    total = len(all_entries)
    chunk = all_entries[(page - 1) * per_page: page * per_page]
    return S.Page[S.EntryOut](items=[S.EntryOut(key=e.key, booked_on=e.booked_on, kind=e.kind, memo=e.memo,
                                                reverses=e.reverses,
                                                postings=[S.PostingOut(account=p.account, amount_fen=p.amount_fen)
                                                          for p in e.postings]) for e in chunk],
                              total=total, page=page, per_page=per_page)


@router.get("/cases/{case_id}/reconciliation", response_model=S.Reconciliation, responses=ERRORS, tags=["ledger"])
def reconciliation(case_id: str, request: Request, who: Principal = Depends(principal)) -> S.Reconciliation:
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        rec = payments.reconcile(s, case_id)
    return S.Reconciliation(ok=rec.ok, figures=rec.figures, problems=list(rec.problems))


# -- claims --------------------------------------------------------------------------------------------------

@router.get("/cases/{case_id}/participation", response_model=S.Participation, responses=ERRORS, tags=["claims"])
def participation(case_id: str, request: Request, who: Principal = Depends(principal)) -> S.Participation:
    who.require_case(case_id)
    with tx(request) as s:
        cases.get_case(s, case_id)
        p = claims.participation(s, case_id)
    return S.Participation(claims=p.claims, by_status=p.by_status, offered_fen=p.offered_fen,
                           accepted_fen=p.accepted_fen, awarded_fen=p.awarded_fen, paid_fen=p.paid_fen,
                           acceptance_rate=p.acceptance_rate)


@router.get("/cases/{case_id}/participation/timeline", response_model=list[S.TimelinePoint], responses=ERRORS,
            tags=["claims"])
def timeline(case_id: str, request: Request, who: Principal = Depends(principal)) -> list[S.TimelinePoint]:
    """Cumulative accepted / declined / lapsed by decision date, for the participation chart."""
    who.require_case(case_id)
    with tx(request) as s:
        cases.get_case(s, case_id)
        return participation_timeline(s, case_id)


def participation_timeline(s, case_id: str) -> list[S.TimelinePoint]:
    rows = s.execute(select(Decision.decided_on, Decision.decision, func.count(), func.sum(Claim.offered_fen))
                     .join(Claim, Claim.id == Decision.claim_id).where(Claim.case_id == case_id)
                     .group_by(Decision.decided_on, Decision.decision).order_by(Decision.decided_on)).all()
    out: list[S.TimelinePoint] = []
    acc = {"accept": 0, "decline": 0, "lapse": 0, "fen": 0}
    by_day: dict[dt.date, list] = {}
    for on, decision, n, fen in rows:
        by_day.setdefault(on, []).append((decision, int(n), int(fen or 0)))
    for on in sorted(by_day):
        for decision, n, fen in by_day[on]:
            acc[decision] += n
            if decision == "accept":
                acc["fen"] += fen
        out.append(S.TimelinePoint(date=on, accepted=acc["accept"], declined=acc["decline"], lapsed=acc["lapse"],
                                   accepted_fen=acc["fen"]))
    return out


@router.get("/cases/{case_id}/claims", response_model=S.Page[S.ClaimSummary], responses=ERRORS, tags=["claims"])
def list_claims(case_id: str, request: Request, status: str | None = None, page: PageNo = 1, per_page: PerPage = 100,
                who: Principal = Depends(principal)) -> S.Page[S.ClaimSummary]:
    who.require("operator", "approver", "auditor", "investor_service")
    with tx(request) as s:
        cases.get_case(s, case_id)
        stmt = select(Claim).where(Claim.case_id == case_id)
        if status:
            stmt = stmt.where(Claim.status == status)
        total = s.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = s.execute(stmt.order_by(Claim.investor_id).offset((page - 1) * per_page).limit(per_page)).scalars()
        items = [S.ClaimSummary(investor_id=c.investor_id, status=c.status, offered_fen=c.offered_fen,
                                awarded_fen=c.awarded_fen, paid_fen=c.paid_fen) for c in rows]
    return S.Page[S.ClaimSummary](items=items, total=total, page=page, per_page=per_page)


@router.get("/me/claims", response_model=list[S.ClaimOut], responses=ERRORS, tags=["claims"])
def my_claims(request: Request, who: Principal = Depends(principal)) -> list[S.ClaimOut]:
    """The signed-in investor's claims, in every case."""
    if not who.investor_id:
        return []
    with tx(request) as s:
        return [claim_out(s, c) for c in s.execute(select(Claim).where(Claim.investor_id == who.investor_id)
                                                    .order_by(Claim.case_id)).scalars()]


def claim_out(s, c: Claim) -> S.ClaimOut:
    lines = s.execute(select(ClaimLine).where(ClaimLine.claim_id == c.id).order_by(ClaimLine.security)).scalars()
    decisions = claims.decisions_for(s, c)
    pays = s.execute(select(Payment).where(Payment.claim_id == c.id).order_by(Payment.id)).scalars()
    return S.ClaimOut(case_id=c.case_id, investor_id=c.investor_id, status=c.status, offered_fen=c.offered_fen,
                      awarded_fen=c.awarded_fen, interest_fen=c.interest_fen, paid_fen=c.paid_fen,
                      decided_on=c.decided_on, late=c.late,
                      lines=[S.ClaimLineOut(security=x.security, status=x.status, flags=x.flags,
                                            net_loss_fen=x.net_loss_fen, compensation_fen=x.compensation_fen)
                             for x in lines],
                      decisions=[S.DecisionOut(decision=d.decision, decided_on=d.decided_on, channel=d.channel,
                                               agreement_version=d.agreement_version) for d in decisions],
                      payments=[S.PaymentOut(instruction_id=p.instruction_id, amount_fen=p.amount_fen,
                                             status=p.status, reason=p.reason, settled_on=p.settled_on)
                                for p in pays if p.status != "cancelled"])


@router.get("/cases/{case_id}/claims/{investor_id}", response_model=S.ClaimOut, responses=ERRORS, tags=["claims"])
def get_claim(case_id: str, investor_id: str, request: Request, who: Principal = Depends(principal)) -> S.ClaimOut:
    who.require_claim(investor_id)
    with tx(request) as s:
        require_visible_case(s, who, case_id)
        return claim_out(s, claims.claim_of(s, case_id, investor_id))


@router.get("/cases/{case_id}/claims/{investor_id}/explanation", responses=ERRORS, tags=["claims"])
def explanation(case_id: str, investor_id: str, request: Request, who: Principal = Depends(principal)) -> dict:
    """Every trade, lot and formula line behind the claim, with the article for each step."""
    who.require_claim(investor_id)
    with tx(request) as s:
        require_visible_case(s, who, case_id)
        claims.claim_of(s, case_id, investor_id)
    return explain_claim(request, case_id, investor_id).as_dict()


def explain_claim(request: Request, case_id: str, investor_id: str):
    from redress.engine.explain import explain

    return explain(_prepared(request, case_id), investor_id)


@router.post("/cases/{case_id}/claims/{investor_id}/decision", response_model=S.ClaimOut, responses=ERRORS,
             tags=["claims"])
def decide(case_id: str, investor_id: str, body: S.DecisionIn, request: Request,
           who: Principal = Depends(checked), tasks: BackgroundTasks = None) -> S.ClaimOut:
    """Accept (naming the agreement's version and hash) or decline.  Investors decide their own claims online;
    investor-service staff record decisions made at the counter.  The same key again changes nothing."""
    if who.has("investor"):
        who.require_claim(investor_id)
        channel = "online"
    else:
        who.require("investor_service", "operator")
        channel = "counter"
    if not who.is_staff:
        with unit_of_work(request.app.state.read_engine) as s:      # only reads
            require_visible_case(s, who, case_id)
    if not body.confirm:
        raise BadInput(_("Tick the box to confirm your choice first; nothing was saved."))
    item = claims.DecisionInput(investor_id, body.decision, dt.date.today(), channel, body.key,
                                body.agreement_version if body.decision == "accept" else None,
                                body.agreement_sha256 if body.decision == "accept" else None)
    with tx(request) as s:
        c = claims.decide(s, who.name, case_id, item)
        out = claim_out(s, c)
    if tasks is not None:       # the investor is told once the decision is stored; the answer does not wait
        tasks.add_task(tell_investor, request, case_id, investor_id, who.name)
    return out


def tell_investor(request: Request, case_id: str, investor_id: str, actor: str) -> None:
    """Send the investor what is now due (the decision recorded), if a notifier is configured; never raises."""
    from redress.notify.events import notify_investor

    notify_investor(request.app.state.engine, getattr(request.app.state, "notifier", None), case_id, investor_id,
                    actor=actor)


# -- approvals -----------------------------------------------------------------------------------------------

def approval_out(ap: Approval) -> S.ApprovalOut:
    return S.ApprovalOut(id=ap.id, action=ap.action, subject=ap.subject, requested_by=ap.requested_by,
                         requested_at=ap.requested_at, status=ap.status,
                         payload={k: v for k, v in json.loads(ap.payload).items() if k != "plan_toml"},
                         summary=approval_service.describe(ap))


@router.get("/cases/{case_id}/approvals", response_model=list[S.ApprovalOut], responses=ERRORS, tags=["approvals"])
def approvals(case_id: str, request: Request, who: Principal = Depends(principal)) -> list[S.ApprovalOut]:
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        return [approval_out(a) for a in cases.pending_approvals(s, case_id)]


class _Decision(S.BaseModel):
    note: str = ""


@router.post("/approvals/{approval_id}/approve", response_model=S.ApprovalOut, responses=ERRORS, tags=["approvals"])
def approve(approval_id: RowId, body: _Decision, request: Request, who: Principal = Depends(checked)) -> S.ApprovalOut:
    """A checker approves a request made by someone else; it takes effect at once."""
    with tx(request) as s:
        approval_service.decide(s, who.name, approval_id, True, body.note)
        return approval_out(s.get(Approval, approval_id))


@router.post("/approvals/{approval_id}/reject", response_model=S.ApprovalOut, responses=ERRORS, tags=["approvals"])
def reject(approval_id: RowId, body: _Decision, request: Request, who: Principal = Depends(checked)) -> S.ApprovalOut:
    with tx(request) as s:
        approval_service.decide(s, who.name, approval_id, False, body.note)
        return approval_out(s.get(Approval, approval_id))


# -- payments ------------------------------------------------------------------------------------------------

def batch_out(b) -> S.BatchOut:
    return S.BatchOut(number=b.number, status=b.status, count=b.count, total_fen=b.total_fen,
                      released_on=b.released_on, file_sha256=b.file_sha256)


@router.get("/cases/{case_id}/batches", response_model=list[S.BatchOut], responses=ERRORS, tags=["payments"])
def list_batches(case_id: str, request: Request, who: Principal = Depends(principal)) -> list[S.BatchOut]:
    who.require_case(case_id)
    with tx(request) as s:
        return [batch_out(b) for b in payments.batches(s, case_id)]


@router.post("/cases/{case_id}/batches", response_model=S.ApprovalOut, responses=ERRORS, tags=["payments"])
def propose_batch(case_id: str, body: S.BatchIn, request: Request, who: Principal = Depends(checked)) -> S.ApprovalOut:
    who.require("operator")
    with tx(request) as s:
        return approval_out(payments.propose_batch(s, who.name, case_id, body.on, body.limit))


@router.get("/cases/{case_id}/batches/{number}/instructions.csv", responses=ERRORS, tags=["payments"])
def instructions(case_id: str, number: RowId, request: Request, who: Principal = Depends(principal)) -> Response:
    who.require("operator")
    return csv_download(request, lambda s, tmp: payments.export_batch(s, who.name, case_id, number, tmp))


def csv_download(request: Request, export) -> Response:
    """A file written by ``export(session, folder) -> (path, manifest)``, sent as a download; written in a
    unit of work that commits (the first export of a batch is recorded)."""
    with tempfile.TemporaryDirectory() as tmp, tx(request, write=True) as s:
        path, _manifest = export(s, Path(tmp))
        data = path.read_bytes()
    return Response(data, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{path.name}"'})


async def applied(request: Request, file: UploadFile, apply, default_name: str = "results.csv"):
    """Save an uploaded file (streamed, within the upload limit) under its own name, or ``default_name`` if
    that is no plain file name, and apply it with ``apply(session, path)`` in one unit of work; what ``apply``
    returns.  The saved file is removed whatever happens."""
    with tempfile.TemporaryDirectory(prefix="file-", dir=request.app.state.uploads_dir) as tmp:
        path = ids.inside(Path(tmp), upload_name(file.filename, default_name))
        await limits.save_upload(file, path, request.app.state.limits.upload_bytes)
        with tx(request) as s:
            return apply(s, path)


def upload_name(given: str | None, default: str) -> str:
    """The uploaded file's own name if it is a plain one (no folders, no control characters, at most 128
    characters); else ``default``."""
    name = (given or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in {".", ".."} or len(name) > 128 or any(ord(ch) < 32 or ord(ch) == 127
                                                                  for ch in name):
        return default
    return name


async def apply_upload(request: Request, file: UploadFile, apply) -> S.ImportOut:
    """A results file applied as ``applied`` does, reported as the payments' import report."""
    rep = await applied(request, file, apply)
    return S.ImportOut(file=rep.file, already_imported=rep.already_imported, paid=rep.paid, returned=rep.returned,
                       unchanged=rep.unchanged, paid_fen=rep.paid_fen, returned_fen=rep.returned_fen)


@router.post("/cases/{case_id}/payment-results", response_model=S.ImportOut, responses=ERRORS, tags=["payments"])
async def payment_results(case_id: str, request: Request, file: Annotated[UploadFile, File()],
                          who: Principal = Depends(checked)) -> S.ImportOut:
    """Apply the clearing system's results file: all or nothing; the same file twice changes nothing."""
    who.require("operator")
    return await apply_upload(request, file, lambda s, path: payments.import_results(s, who.name, case_id, path))


# -- reports -------------------------------------------------------------------------------------------------

@router.get("/cases/{case_id}/reports/claims.{fmt}", responses=ERRORS, tags=["reports"])
def claims_report(case_id: str, fmt: str, request: Request, who: Principal = Depends(principal)) -> Response:
    """Every claim with its status and amounts, as CSV or Excel."""
    who.require("operator", "approver", "auditor")
    if fmt not in ("csv", "xlsx"):
        raise NotFound("reports come as .csv or .xlsx")
    with tx(request) as s:
        cases.get_case(s, case_id)
        rows = s.execute(select(Claim.investor_id, Claim.status, Claim.offered_fen, Claim.awarded_fen,
                                Claim.interest_fen, Claim.paid_fen, Claim.decided_on, Claim.late)
                         .where(Claim.case_id == case_id).order_by(Claim.investor_id)).all()
    df = pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "investor_id": pl.String, "status": pl.String, "offered_fen": pl.Int64, "awarded_fen": pl.Int64,
        "interest_fen": pl.Int64, "paid_fen": pl.Int64, "decided_on": pl.Date, "late": pl.Boolean})
    df = df.with_columns([(pl.col(c) / 100).round(2).alias(c.replace("_fen", "_yuan")) for c in
                          ("offered_fen", "awarded_fen", "interest_fen", "paid_fen")]).drop(
        "offered_fen", "awarded_fen", "interest_fen", "paid_fen")
    return _table_response(df, f"{case_id}-claims", fmt)


@router.get("/cases/{case_id}/reports/statement.{fmt}", responses=ERRORS, tags=["reports"])
def statement_report(case_id: str, fmt: str, request: Request, who: Principal = Depends(principal)) -> Response:
    who.require_case(case_id)
    if fmt not in ("csv", "xlsx"):
        raise NotFound("reports come as .csv or .xlsx")
    with tx(request) as s:
        bal = fund.balances(s, case_id)
    df = pl.DataFrame({"account": sorted(bal), "balance_fen": [bal[a] for a in sorted(bal)]})
    return _table_response(df, f"{case_id}-trial-balance", fmt)


def _table_response(df: pl.DataFrame, stem: str, fmt: str) -> Response:
    from redress import exports

    if fmt == "csv":       # text cells a spreadsheet would evaluate are neutralised (formula injection)
        return Response(exports.frame_csv_bytes(df), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    return Response(exports.frame_xlsx_bytes(df, "redress"), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'})


# -- audit ---------------------------------------------------------------------------------------------------

@router.get("/audit", response_model=S.Page[S.AuditEventOut], responses=ERRORS, tags=["audit"])
def audit_log(request: Request, case_id: str | None = None, page: PageNo = 1, per_page: PerPage = 100,
              who: Principal = Depends(principal)) -> S.Page[S.AuditEventOut]:
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        stmt = select(AuditEvent)
        if case_id:
            stmt = stmt.where(AuditEvent.case_id == case_id)
        total = s.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = s.execute(stmt.order_by(AuditEvent.seq.desc()).offset((page - 1) * per_page).limit(per_page)).scalars()
        items = [S.AuditEventOut(seq=e.seq, at=e.at, actor=e.actor, case_id=e.case_id, action=e.action,
                                 subject=e.subject, detail=e.detail, hash=e.hash) for e in rows]
    return S.Page[S.AuditEventOut](items=items, total=total, page=page, per_page=per_page)


@router.get("/audit/verify", response_model=S.AuditVerification, responses=ERRORS, tags=["audit"])
def audit_verify(request: Request, who: Principal = Depends(principal)) -> S.AuditVerification:
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        v = audit.verify(s)
    return S.AuditVerification(ok=v.ok, events=v.events, head_seq=v.head_seq, problems=list(v.problems))


# -- public --------------------------------------------------------------------------------------------------

NOT_PUBLIC = "no public case with this id (a case is public once its plan is approved or heard) / 无此公开案件"


@router.get("/public/cases/{case_id}", response_model=S.PublicCase, responses=ERRORS, tags=["public"])
def public_case(case_id: str, request: Request) -> S.PublicCase:
    """What anyone may know about a case: the plan, dates, payers, fund size and aggregates; no investor."""
    with tx(request) as s:
        return public_view(s, case_id)


def public_view(s, case_id: str) -> S.PublicCase:
    from redress.admin import hearings as hearing_records

    c = s.get(Case, case_id)
    if c is None or (CaseState(c.state) in (CaseState.DRAFT, CaseState.FUND_ESTABLISHED)
                     and not hearing_records.hearings(s, case_id)):
        # the same answer for a case that does not exist and one not yet public: nobody learns which ids exist
        raise NotFound(NOT_PUBLIC)
    st = fund.statement(s, case_id)
    p = claims.participation(s, case_id)
    ps = s.execute(select(Payer).where(Payer.case_id == case_id).order_by(Payer.payer_id)).scalars()
    plan = {}
    if c.plan_toml:
        import tomllib
        raw = tomllib.loads(c.plan_toml).get("plan", {})
        plan = {k: str(v) for k, v in raw.items() if not isinstance(v, dict)}
        for k, v in raw.get("systemic_risk", {}).items():
            plan[f"systemic_risk.{k}"] = json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else str(v)
    timetable = [{"event": t.to_state, "event_zh": CaseState(t.to_state).label_zh, "at": t.at[:10]}
                 for t in s.execute(select(Transition).where(Transition.case_id == case_id)
                                    .order_by(Transition.id)).scalars()]
    from redress.admin import hearings

    return S.PublicCase(hearings=hearings.public_record(s, case_id),
                        id=c.id, name=c.name, state=c.state, state_zh=CaseState(c.state).label_zh,
                        claims_open_on=c.claims_open_on, deadline=c.deadline, late_window_until=c.late_window_until,
                        payers=[{"name": x.name, "role": x.role} for x in ps], fund_fen=st.contributed_fen,
                        claims=p.claims, by_status=p.by_status, offered_fen=p.offered_fen, paid_fen=p.paid_fen,
                        timetable=timetable, plan=plan)


# -- hearings on the plan ------------------------------------------------------------------------------------

async def operator(who: Principal = Depends(checked)) -> Principal:
    """A change by an operator: the role is checked before the body is read, so others are refused (403)
    whatever they send."""
    who.require("operator")
    return who

def hearing_out(s, h) -> S.HearingOut:
    from redress.admin import hearings
    from redress.hearing import verify

    return S.HearingOut(
        id=h.id, case_id=h.case_id, organiser=h.organiser, started_on=h.started_on, limit_months=h.limit_months,
        deadline=hearings.procedure(h).deadline, status=h.status,
        seed_commitment=h.seed_commitment, seed=h.seed, minutes=h.minutes, decision=h.decision,
        decided_on=h.decided_on, warnings=hearings.warnings(h, dt.date.today()),
        members=[S.HearingMemberOut(person=m.person, side=m.side, selected_by=m.selected_by)
                 for m in hearings.members(s, h.id)],
        draws=[S.DrawOut(purpose=d.purpose, winners=list(d.winners), verified=verify(d), record=d.as_json())
               for d in hearings.draws(s, h.id)],
        plans=[S.HearingPlanOut(label=p.label, proposed_by=p.proposed_by, sha256=p.sha256, added_on=p.added_on,
                                plan_toml=p.plan_toml) for p in hearings.plans(s, h.id)],
        comparison=hearings._comparison_out(hearings.latest_comparison(s, h.id)))


def _refuse_bad_values(fn, *args, **kw):
    """Run a service; a value the core refuses outright (a date out of range ...) is bad input, not a crash."""
    try:
        return fn(*args, **kw)
    except AdminError:
        raise
    except (ValueError, OverflowError) as exc:
        raise BadInput(f"refused: {exc}") from None


@router.get("/cases/{case_id}/hearings", response_model=list[S.HearingOut], responses=ERRORS, tags=["hearings"])
def list_hearings(case_id: str, request: Request, who: Principal = Depends(principal)) -> list[S.HearingOut]:
    """Every hearing on the case's plan, with its panel, draws (and whether each verifies) and time warnings."""
    from redress.admin import hearings

    who.require("operator", "approver", "auditor", "investor_service")
    with tx(request) as s:
        cases.get_case(s, case_id)
        return [hearing_out(s, h) for h in hearings.hearings(s, case_id)]


@router.post("/cases/{case_id}/hearings", response_model=S.HearingOut, status_code=201, responses=ERRORS,
             tags=["hearings"])
def open_hearing(case_id: str, body: S.HearingIn, request: Request,
                 who: Principal = Depends(operator)) -> S.HearingOut:
    """Open a hearing, publishing the SHA-256 of the seed before anyone applies."""
    from redress.admin import hearings

    with tx(request) as s:
        h = _refuse_bad_values(hearings.open_hearing, s, who.name, case_id, body.organiser, body.organiser_roles,
                               body.started_on, body.seed_commitment, body.limit_months)
        return hearing_out(s, h)


@router.post("/hearings/{hearing_id}/panel", response_model=S.HearingOut, responses=ERRORS, tags=["hearings"])
def form_panel(hearing_id: RowId, body: S.PanelIn, request: Request,
               who: Principal = Depends(operator)) -> S.HearingOut:
    """Seat the panel: by the applicants' agreement, or by lot with the revealed seed."""
    from redress.admin import hearings

    with tx(request) as s:
        _refuse_bad_values(hearings.form, s, who.name, hearing_id, body.payer_side, body.representative_applicants,
                           body.lawyer_applicants, body.lawyer_seats, body.seed, body.agreed)
        return hearing_out(s, hearings._hearing(s, hearing_id))


@router.post("/hearings/{hearing_id}/decision", response_model=S.HearingOut, responses=ERRORS, tags=["hearings"])
def decide_hearing(hearing_id: RowId, body: S.HearingDecisionIn, request: Request,
                   who: Principal = Depends(operator)) -> S.HearingOut:
    """Record the minutes and the decision (both published on the public case page)."""
    from redress.admin import hearings

    with tx(request) as s:
        h = _refuse_bad_values(hearings.decide, s, who.name, hearing_id, body.minutes, body.decision, body.on)
        return hearing_out(s, h)


@router.post("/hearings/{hearing_id}/plans", response_model=S.HearingOut, status_code=201, responses=ERRORS,
             tags=["hearings"])
def add_hearing_plan(hearing_id: RowId, body: S.HearingPlanIn, request: Request,
                     who: Principal = Depends(operator)) -> S.HearingOut:
    """Put a plan to the hearing; it is checked against the case directory and stored with its hash."""
    from redress.admin import hearings

    with tx(request) as s:
        _refuse_bad_values(hearings.add_plan, s, who.name, hearing_id, body.label, body.plan_toml, body.proposed_by,
                           body.on)
        return hearing_out(s, hearings._hearing(s, hearing_id))


@router.post("/hearings/{hearing_id}/comparison", response_model=S.HearingOut, responses=ERRORS, tags=["hearings"])
def publish_hearing_comparison(hearing_id: RowId, body: S.ComparisonIn, request: Request,
                               who: Principal = Depends(operator)) -> S.HearingOut:
    """Compute the case under its own plan and every plan put to the hearing, and publish the comparison."""
    from redress.admin import hearings

    with tx(request) as s:
        _refuse_bad_values(hearings.publish_comparison, s, who.name, hearing_id, body.on)
        return hearing_out(s, hearings._hearing(s, hearing_id))


# -- recourse after compensation -----------------------------------------------------------------------------

def recovery_out(s, case_id: str) -> S.RecoveryOut:
    from redress.admin import recovery
    from redress.store.models import RecoveryAction

    cases.get_case(s, case_id)
    ps = [S.PartyOut(party_id=p.party_id, name=p.name, kind=p.kind, fault_share_bp=p.fault_share_bp,
                     solvent=p.solvent, recovery_rate_bp=p.recovery_rate_bp, payer_id=p.payer_id)
          for p in recovery.parties(s, case_id)]
    acts = [S.ActionOut(id=a.id, party_id=a.party_id, stage=a.stage, on=a.on, amount_fen=a.amount_fen,
                        reference=a.reference, note=a.note or "")
            for a in s.execute(select(RecoveryAction).where(RecoveryAction.case_id == case_id)
                               .order_by(RecoveryAction.on, RecoveryAction.id)).scalars()]
    try:
        rows = [S.PartyReportOut(party_id=r.party_id, name=r.name, kind=r.kind, fault_share_bp=r.fault_share_bp,
                                 solvent=r.solvent, claim_fen=r.claim_fen, expected_fen=r.expected_fen,
                                 recovered_fen=r.recovered_fen, outstanding_fen=r.outstanding_fen,
                                 expected_outstanding_fen=r.expected_outstanding_fen, latest_stage=r.latest_stage,
                                 latest_on=r.latest_on) for r in recovery.report(s, case_id)]
        problem = None
    except AdminError as exc:
        rows, problem = [], str(exc).splitlines()[0]
    return S.RecoveryOut(parties=ps, actions=acts, report=rows, report_problem=problem,
                         received_by_payer_fen=recovery.received_by_payer(s, case_id))


@router.get("/cases/{case_id}/recovery", response_model=S.RecoveryOut, responses=ERRORS, tags=["recovery"])
def recovery_report(case_id: str, request: Request, who: Principal = Depends(principal)) -> S.RecoveryOut:
    """The liable parties, the steps taken against them and, once the plan is complete, the recourse report."""
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        return recovery_out(s, case_id)


@router.post("/cases/{case_id}/recovery/parties", response_model=S.PartyOut, status_code=201, responses=ERRORS,
             tags=["recovery"])
def add_liable_party(case_id: str, body: S.PartyIn, request: Request,
                     who: Principal = Depends(operator)) -> S.PartyOut:
    from redress.admin import recovery

    with tx(request) as s:
        p = recovery.add_party(s, who.name, case_id, body.party_id, body.name, body.kind, body.fault_share_bp,
                               solvent=body.solvent, recovery_rate_bp=body.recovery_rate_bp, payer_id=body.payer_id)
        return S.PartyOut(party_id=p.party_id, name=p.name, kind=p.kind, fault_share_bp=p.fault_share_bp,
                          solvent=p.solvent, recovery_rate_bp=p.recovery_rate_bp, payer_id=p.payer_id)


@router.post("/cases/{case_id}/recovery/actions", response_model=S.ActionOut, responses=ERRORS, tags=["recovery"])
def record_recovery_action(case_id: str, body: S.ActionIn, request: Request,
                           who: Principal = Depends(operator)) -> S.ActionOut:
    from redress.admin import recovery

    with tx(request) as s:
        a = recovery.record_action(s, who.name, case_id, body.party_id, body.stage, body.on, body.amount_fen,
                                   body.reference, body.note)
        return S.ActionOut(id=a.id, party_id=a.party_id, stage=a.stage, on=a.on, amount_fen=a.amount_fen,
                           reference=a.reference, note=a.note or "")


@router.post("/cases/{case_id}/recovery/receipts", response_model=S.ReceiptOut, responses=ERRORS, tags=["recovery"])
def record_recovery_receipt(case_id: str, body: S.ReceiptIn, request: Request,
                            who: Principal = Depends(operator)) -> S.ReceiptOut:
    from redress.admin import recovery

    with tx(request) as s:
        e = recovery.record_recovery(s, who.name, case_id, body.party_id, body.amount_fen, body.on, body.reference)
        from redress.ledger.core import AccountKind
        from redress.store.models import LedgerPosting

        prefix = f"{AccountKind.RECOVERY_PAID}:"
        to_payers = {a[len(prefix):]: int(fen) for a, fen in s.execute(
            select(LedgerPosting.account, LedgerPosting.amount_fen).where(LedgerPosting.entry_id == e.id)).all()
            if a.startswith(prefix)}
        return S.ReceiptOut(entry_id=e.id, key=e.key, booked_on=e.booked_on, party_id=body.party_id,
                            amount_fen=body.amount_fen, to_payers_fen=dict(sorted(to_payers.items())))


# -- fair fund ---------------------------------------------------------------------------------------------

def fair_fund_round_out(s, r) -> S.FairFundRoundOut:
    from redress.admin import fairfunds

    pays = fairfunds.payments(s, r.id)
    return S.FairFundRoundOut(id=r.id, number=r.number, run_on=r.run_on, available_fen=r.available_fen,
                              carried_in_fen=r.carried_in_fen, paid_fen=r.paid_fen, residual_fen=r.residual_fen,
                              residual_destination=r.residual_destination,
                              payees=sum(1 for fen in pays.values() if fen), payments_fen=sum(pays.values()))


def fair_fund_source_out(x) -> S.FairFundSourceOut:
    return S.FairFundSourceOut(id=x.id, kind=x.kind, amount_fen=x.amount_fen, reference=x.reference,
                               received_on=x.received_on)


def fair_fund_out(s, case_id: str) -> S.FairFundOut:
    from redress.admin import fairfunds
    from redress.store.models import FairFundRow

    cases.get_case(s, case_id)
    row = s.get(FairFundRow, case_id)
    if row is None:
        return S.FairFundOut(case_id=case_id, sources=[], rounds=[],
                             statement_problem=f"case {case_id} has no fair fund yet / 尚未设立公平基金")
    plan = S.FairFundPlanOut(minimum_payment_fen=row.minimum_payment_fen, residual_to=row.residual_to,
                             redistribute_below_minimum=row.redistribute_below_minimum,
                             established_on=row.established_on)
    try:
        st = fairfunds.statement(s, case_id)
        statement, problem = S.FairFundStatementOut(
            sources_fen=st.sources_fen, paid_fen=st.paid_fen, residual_sent_fen=st.residual_sent_fen,
            held_fen=st.held_fen, paid_by_investor=st.paid_by_investor, transferred_fen=st.transferred_fen,
            in_flight_fen=st.in_flight_fen, awaiting_fen=st.awaiting_fen, cash_fen=st.cash_fen), None
    except AdminError as exc:
        statement, problem = None, str(exc).splitlines()[0]
    return S.FairFundOut(case_id=case_id, plan=plan,
                         sources=[fair_fund_source_out(x) for x in fairfunds.sources(s, case_id)],
                         rounds=[fair_fund_round_out(s, r) for r in fairfunds.rounds(s, case_id)],
                         statement=statement, statement_problem=problem,
                         batches=[S.BatchOut(number=b.number, status=b.status, count=b.count, total_fen=b.total_fen,
                                             released_on=b.released_on, file_sha256=b.file_sha256)
                                  for b in fairfunds.batches(s, case_id)])


@router.get("/cases/{case_id}/fair-fund", response_model=S.FairFundOut, responses=ERRORS, tags=["fair fund"])
def fair_fund_report(case_id: str, request: Request, who: Principal = Depends(principal)) -> S.FairFundOut:
    """The case's fair fund: its plan, the money paid in, the rounds of distribution and the statement
    (``sources = paid + residual sent away + held``)."""
    who.require("operator", "approver", "auditor")
    with tx(request) as s:
        return fair_fund_out(s, case_id)


@router.post("/cases/{case_id}/fair-fund", response_model=S.FairFundOut, status_code=201, responses=ERRORS,
             tags=["fair fund"])
def establish_fair_fund(case_id: str, body: S.FairFundIn, request: Request,
                        who: Principal = Depends(operator)) -> S.FairFundOut:
    """Set up the fair fund under a plan (the same plan again is accepted; a different one is refused)."""
    from redress.admin import fairfunds

    with tx(request) as s:
        _refuse_bad_values(fairfunds.establish, s, who.name, case_id, body.minimum_payment_fen, body.residual_to,
                           body.redistribute_below_minimum, body.on)
        return fair_fund_out(s, case_id)


@router.post("/cases/{case_id}/fair-fund/sources", response_model=S.FairFundSourceOut, status_code=201,
             responses=ERRORS, tags=["fair fund"])
def add_fair_fund_source(case_id: str, body: S.FairFundSourceIn, request: Request,
                         who: Principal = Depends(operator)) -> S.FairFundSourceOut:
    """Money paid into the fair fund (a fine, confiscated gains, settlement money); idempotent by reference."""
    from redress.admin import fairfunds

    with tx(request) as s:
        x = _refuse_bad_values(fairfunds.add_source, s, who.name, case_id, body.kind, body.amount_fen,
                               body.reference, body.received_on)
        return fair_fund_source_out(x)


@router.post("/cases/{case_id}/fair-fund/rounds", response_model=S.FairFundRoundOut, status_code=201,
             responses=ERRORS, tags=["fair fund"])
def run_fair_fund_round(case_id: str, body: S.FairFundRoundIn, request: Request,
                        who: Principal = Depends(operator)) -> S.FairFundRoundOut:
    """Distribute the money the fair fund holds over the investors' remaining net claims."""
    from redress.admin import fairfunds

    with tx(request) as s:
        r = _refuse_bad_values(fairfunds.run_round, s, who.name, case_id, body.on)
        return fair_fund_round_out(s, r)


@router.post("/cases/{case_id}/fair-fund/batches", response_model=S.ApprovalOut, status_code=201, responses=ERRORS,
             tags=["fair fund"])
def propose_fair_fund_batch(case_id: str, body: S.BatchIn, request: Request,
                            who: Principal = Depends(operator)) -> S.ApprovalOut:
    """The maker gathers every allocation still owed into a batch; a different approver releases it."""
    from redress.admin import fairfunds

    with tx(request) as s:
        return approval_out(fairfunds.propose_batch(s, who.name, case_id, body.on))


@router.get("/cases/{case_id}/fair-fund/batches/{number}/instructions.csv", responses=ERRORS, tags=["fair fund"])
def fair_fund_instructions(case_id: str, number: RowId, request: Request,
                           who: Principal = Depends(principal)) -> Response:
    """A released fair-fund batch's instruction file (the special fund's format); the first export is recorded."""
    from redress.admin import fairfunds

    who.require("operator")
    return csv_download(request, lambda s, tmp: fairfunds.export_batch(s, who.name, case_id, number, tmp))


@router.post("/cases/{case_id}/fair-fund/results", response_model=S.ImportOut, responses=ERRORS, tags=["fair fund"])
async def fair_fund_results(case_id: str, request: Request, file: Annotated[UploadFile, File()],
                            who: Principal = Depends(checked)) -> S.ImportOut:
    """Apply the clearing system's results for fair-fund transfers: all or nothing, each file once."""
    from redress.admin import fairfunds

    who.require("operator")
    return await apply_upload(request, file, lambda s, path: fairfunds.import_results(s, who.name, case_id, path))


def problem_response(exc: AdminError) -> JSONResponse:
    body = {"detail": str(exc).split("\n")[0], "hint": exc.hint, "problems": getattr(exc, "problems", [])}
    return JSONResponse(body, status_code=exc.status_code)

