"""The HTTP API of the investor protection fund: its statement and books, board decisions, levies, failed
firms, investments and reports.  Staff only: operators change things, approvers release payments, auditors
and every staff role read."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from redress.web.api import ERRORS, RowId
from redress.web.deps import Principal, checked, principal, tx

router = APIRouter(prefix="/api/ipf", tags=["protection fund"])
READERS = ("operator", "approver", "auditor")


def reader(who: Principal = Depends(principal)) -> Principal:
    who.require(*READERS)
    return who


async def operator(who: Principal = Depends(checked)) -> Principal:
    """A change by an operator: the role is checked before the body is read."""
    who.require("operator")
    return who


async def approver(who: Principal = Depends(checked)) -> Principal:
    who.require("approver")
    return who


# -- the books -----------------------------------------------------------------------------------------------

class StatementOut(BaseModel):
    on: dt.date | None
    capital_fen: int
    income_fen: dict[str, int]
    expense_fen: dict[str, int]
    bank_fen: int
    in_transit_fen: int
    investments_fen: int
    levy_receivable_fen: int
    subrogated_fen: int
    refunds_payable_fen: int
    net_assets_fen: int
    balances_fen: dict[str, int] = Field(description="Debit-positive balance of every account")
    balanced: bool


def statement_out(s, on: dt.date | None) -> StatementOut:
    from redress.admin.ipf import book

    st = book.fund_statement(s, on)
    bal = book.balances(s, on)
    return StatementOut(on=on, capital_fen=st.capital_fen, income_fen=st.income_fen, expense_fen=st.expense_fen,
                        bank_fen=st.bank_fen, in_transit_fen=st.in_transit_fen, investments_fen=st.investments_fen,
                        levy_receivable_fen=st.levy_receivable_fen, subrogated_fen=st.subrogated_fen,
                        refunds_payable_fen=st.refunds_payable_fen, net_assets_fen=st.net_assets_fen,
                        balances_fen=dict(sorted(bal.items())), balanced=sum(bal.values()) == 0)


@router.get("/statement", response_model=StatementOut, responses=ERRORS)
def fund_statement(request: Request, on: dt.date | None = None, who: Principal = Depends(reader)) -> StatementOut:
    """Raising, management and use of the fund (Art. 24) from its books, as on a date (default: all entries)."""
    with tx(request) as s:
        return statement_out(s, on)


class CapitalIn(BaseModel):
    amount_fen: int = Field(gt=0, le=10**17)
    on: dt.date
    reference: str = Field(min_length=1, max_length=200)


@router.post("/capital", response_model=StatementOut, status_code=201, responses=ERRORS)
def capital(body: CapitalIn, request: Request, who: Principal = Depends(operator)) -> StatementOut:
    """The fund's opening capital (Art. 13); idempotent by bank reference."""
    from redress.admin.ipf import book

    with tx(request) as s:
        book.open_capital(s, who.name, body.amount_fen, body.on, body.reference)
        return statement_out(s, None)


class ExpenseIn(BaseModel):
    amount_fen: int = Field(gt=0, le=10**17)
    on: dt.date
    reference: str = Field(min_length=1, max_length=200)
    memo: str = Field(min_length=1, max_length=500)
    budget_reference: str = Field(min_length=1, max_length=200,
                                  description="The board's passed annual_budget resolution covering the year")


@router.post("/expenses", response_model=StatementOut, status_code=201, responses=ERRORS)
def expense(body: ExpenseIn, request: Request, who: Principal = Depends(operator)) -> StatementOut:
    """A running cost of the fund company, under the board's annual budget (Art. 21)."""
    from redress.admin.ipf import book

    with tx(request) as s:
        book.operating_expense(s, who.name, body.amount_fen, body.on, body.reference, body.memo,
                               body.budget_reference)
        return statement_out(s, None)


# -- the board -----------------------------------------------------------------------------------------------

class FindingOut(BaseModel):
    code: str
    en: str
    zh: str
    source: str


class ResolutionOut(BaseModel):
    id: int
    meeting_id: int
    subject: str
    reference: str
    text: str
    votes: dict[str, list[str]]
    passed: bool
    findings: list[FindingOut]


class MeetingOut(BaseModel):
    id: int
    held_on: dt.date
    kind: str
    directors: list[str]
    present: list[str]
    valid: bool
    findings: list[FindingOut]
    resolutions: list[ResolutionOut]


class MeetingIn(BaseModel):
    held_on: dt.date
    kind: str = Field(default="regular", max_length=16)
    directors: list[str] = Field(min_length=1, max_length=50)
    present: list[str] = Field(max_length=50)


class ResolutionIn(BaseModel):
    subject: str = Field(min_length=1, max_length=64)
    reference: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=20_000)
    votes_for: list[str] = Field(default=[], max_length=50)
    votes_against: list[str] = Field(default=[], max_length=50)
    abstain: list[str] = Field(default=[], max_length=50)


def resolution_out(r) -> ResolutionOut:
    from redress.admin.ipf import board

    return ResolutionOut(id=r.id, meeting_id=r.meeting_id, subject=r.subject, reference=r.reference, text=r.text,
                         votes=json.loads(r.votes_json), passed=r.passed,
                         findings=[FindingOut(**f) for f in board.findings(r)])


def meeting_out(s, m) -> MeetingOut:
    from redress.admin.ipf import board

    return MeetingOut(id=m.id, held_on=m.held_on, kind=m.kind, directors=json.loads(m.directors_json),
                      present=json.loads(m.present_json), valid=m.valid,
                      findings=[FindingOut(**f) for f in board.findings(m)],
                      resolutions=[resolution_out(r) for r in board.resolutions(s, m.id)])


@router.get("/board", response_model=list[MeetingOut], responses=ERRORS)
def board_record(request: Request, who: Principal = Depends(reader)) -> list[MeetingOut]:
    """Every board meeting and its resolutions, each with whether it was valid and why."""
    from redress.admin.ipf import board

    with tx(request) as s:
        return [meeting_out(s, m) for m in board.meetings(s)]


@router.post("/board/meetings", response_model=MeetingOut, status_code=201, responses=ERRORS)
def board_meeting(body: MeetingIn, request: Request, who: Principal = Depends(operator)) -> MeetingOut:
    """Record a meeting; whether it could be held (two thirds or more of nine present: 6 of 9) is checked."""
    from redress.admin.ipf import board

    with tx(request) as s:
        return meeting_out(s, board.record_meeting(s, who.name, body.held_on, body.directors, body.present,
                                                   body.kind))


@router.post("/board/meetings/{meeting_id}/resolutions", response_model=ResolutionOut, status_code=201,
             responses=ERRORS)
def board_resolution(meeting_id: RowId, body: ResolutionIn,
                     request: Request, who: Principal = Depends(operator)) -> ResolutionOut:
    """Record a resolution; it passes with more than half of ALL directors in favour at a valid meeting."""
    from redress.admin.ipf import board

    with tx(request) as s:
        return resolution_out(board.record_resolution(s, who.name, meeting_id, body.subject, body.reference,
                                                      body.text, body.votes_for, body.votes_against, body.abstain))



# -- levies --------------------------------------------------------------------------------------------------

Year = Annotated[int, PathParam(ge=1990, le=2100)]
Quarter = Annotated[int, PathParam(ge=1, le=4)]
Month = Annotated[int, PathParam(ge=1, le=12)]
Ident = Annotated[str, PathParam(min_length=1, max_length=64)]


class CompanyIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    brokerage: bool


class CompanyOut(BaseModel):
    id: str
    name: str
    brokerage: bool
    grades: dict[int, str]


class RatingIn(BaseModel):
    year: int = Field(ge=1990, le=2100)
    grade: str = Field(min_length=1, max_length=3)


class LevyIn(BaseModel):
    company_id: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=1990, le=2100)
    quarter: int = Field(ge=1, le=4)
    income_fen: int = Field(ge=0, le=10**17)
    on: dt.date


class LevyOut(BaseModel):
    company_id: str
    year: int
    quarter: int = Field(description="1-4, or 0 for the annual settlement")
    income_fen: int
    rate_bp: int
    rule: str
    amount_fen: int
    due_on: dt.date
    assessed_on: dt.date


class LevyPaymentIn(BaseModel):
    company_id: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=1990, le=2100)
    quarter: int = Field(ge=0, le=4)
    amount_fen: int = Field(gt=0, le=10**17)
    paid_on: dt.date
    reference: str = Field(min_length=1, max_length=200)


class OverdueOut(BaseModel):
    company_id: str
    company_name: str
    year: int
    quarter: int
    amount_fen: int
    paid_fen: int
    outstanding_fen: int
    due_on: dt.date
    days_late: int


def levy_out(lv) -> LevyOut:
    return LevyOut(company_id=lv.company_id, year=lv.year, quarter=lv.quarter, income_fen=lv.income_fen,
                   rate_bp=lv.rate_bp, rule=lv.rule, amount_fen=lv.amount_fen, due_on=lv.due_on,
                   assessed_on=lv.assessed_on)


@router.get("/companies", response_model=list[CompanyOut], responses=ERRORS)
def list_companies(request: Request, who: Principal = Depends(reader)) -> list[CompanyOut]:
    """The securities companies that pay levies, with their classification grades by year."""
    from redress.admin.ipf import levies

    with tx(request) as s:
        return [CompanyOut(id=c.id, name=c.name, brokerage=c.brokerage, grades=g) for c, g in levies.companies(s)]


@router.post("/companies", response_model=CompanyOut, status_code=201, responses=ERRORS)
def add_company(body: CompanyIn, request: Request, who: Principal = Depends(operator)) -> CompanyOut:
    from redress.admin.ipf import levies

    with tx(request) as s:
        c = levies.add_company(s, who.name, body.id, body.name, body.brokerage)
        return CompanyOut(id=c.id, name=c.name, brokerage=c.brokerage, grades=dict(levies.companies(s))[c])


@router.post("/companies/{company_id}/ratings", response_model=CompanyOut, status_code=201, responses=ERRORS)
def rate_company(company_id: Ident, body: RatingIn, request: Request,
                 who: Principal = Depends(operator)) -> CompanyOut:
    """Record a company's classification grade for a year (never changed once recorded)."""
    from redress.admin.ipf import levies

    with tx(request) as s:
        levies.rate_company(s, who.name, company_id, body.year, body.grade)
        c = levies.company(s, company_id)
        return CompanyOut(id=c.id, name=c.name, brokerage=c.brokerage, grades=dict(levies.companies(s))[c])


@router.get("/companies/{company_id}/statement/{year}", response_model=dict, responses=ERRORS)
def company_statement(company_id: Ident, year: Year, request: Request, who: Principal = Depends(reader)) -> dict:
    """A company's levy statement for a year: each assessment, its payments, what is outstanding, and the rate
    with the rule and source that gave it."""
    from redress.admin.ipf import levies

    with tx(request) as s:
        st = levies.company_statement(s, company_id, year)
    return {"company_id": st.company_id, "company_name": st.company_name, "year": st.year, "grade": st.grade,
            "rate_bp": st.rate.rate_bp if st.rate else None, "rule": st.rate.rule if st.rate else None,
            "source": st.rate.source if st.rate else None, "rate_problem": st.rate_problem,
            "assessed_fen": st.assessed_fen,
            "lines": [{"quarter": ln.quarter, "income_fen": ln.income_fen, "rate_bp": ln.rate_bp, "rule": ln.rule,
                       "amount_fen": ln.amount_fen, "due_on": ln.due_on.isoformat(), "paid_fen": ln.paid_fen,
                       "outstanding_fen": ln.outstanding_fen,
                       "payments": [{"on": on.isoformat(), "reference": ref, "amount_fen": fen}
                                    for on, ref, fen in ln.payments]} for ln in st.lines]}


class LevyYearIn(BaseModel):
    year: int = Field(ge=1990, le=2100)
    loss_share_bp: int = Field(ge=0, le=10000, description="Previous year's share of loss-making companies")
    fund_size_fen: int = Field(ge=0, le=10**17)
    source: str = Field(min_length=1, max_length=2000)


@router.post("/levy-years", response_model=LevyYearIn, status_code=201, responses=ERRORS)
def set_levy_year(body: LevyYearIn, request: Request, who: Principal = Depends(operator)) -> LevyYearIn:
    """What a levy year's rates depend on beyond the grade: the loss share and the fund's size (recorded once)."""
    from redress.admin.ipf import levies

    with tx(request) as s:
        y = levies.set_levy_year(s, who.name, body.year, body.loss_share_bp, body.fund_size_fen, body.source)
        return LevyYearIn(year=y.year, loss_share_bp=y.loss_share_bp, fund_size_fen=y.fund_size_fen, source=y.source)


@router.post("/levies", response_model=LevyOut, status_code=201, responses=ERRORS)
def assess_levy(body: LevyIn, request: Request, who: Principal = Depends(operator)) -> LevyOut:
    """Assess a quarterly instalment on the quarter's operating income (Art. 15)."""
    from redress.admin.ipf import levies

    with tx(request) as s:
        return levy_out(levies.assess_quarter(s, who.name, body.company_id, body.year, body.quarter,
                                              body.income_fen, body.on))


@router.post("/levies/payments", response_model=LevyOut, status_code=201, responses=ERRORS)
def pay_levy(body: LevyPaymentIn, request: Request, who: Principal = Depends(operator)) -> LevyOut:
    """Record money received against a levy (quarter 0: the settlement balance); idempotent by reference."""
    from redress.admin.ipf import levies
    from redress.store.models import Levy

    with tx(request) as s:
        p = levies.record_payment(s, who.name, body.company_id, body.year, body.quarter, body.amount_fen,
                                  body.paid_on, body.reference)
        return levy_out(s.get(Levy, p.levy_id))


@router.get("/levies/overdue", response_model=list[OverdueOut], responses=ERRORS)
def overdue_levies(request: Request, on: dt.date | None = None, who: Principal = Depends(reader)) -> list[OverdueOut]:
    """Levies not fully paid after their due date, as on a date (default today)."""
    from redress.admin.ipf import levies

    with tx(request) as s:
        return [OverdueOut(**dataclasses.asdict(o)) for o in levies.overdue_report(s, on or dt.date.today())]


# -- failed firms --------------------------------------------------------------------------------------------

class FirmIn(BaseModel):
    id: str = Field(min_length=1, max_length=19)
    name: str = Field(min_length=1, max_length=300)
    event: str = Field(min_length=1, max_length=16, description="closed, revoked, bankrupt or taken_over")
    event_on: dt.date
    resolution_reference: str = Field(min_length=1, max_length=200,
                                      description="The passed board resolution on using the fund (Art. 18)")


class OnIn(BaseModel):
    on: dt.date


class RecoveryIn(BaseModel):
    amount_fen: int = Field(gt=0, le=10**17)
    on: dt.date
    reference: str = Field(min_length=1, max_length=200)


def firm_out(s, firm_id: str) -> dict:
    from redress.admin.ipf import firms

    r = firms.report(s, firm_id)
    out = dataclasses.asdict(r)
    out["categories"] = [dataclasses.asdict(c) for c in r.categories]
    out["batches"] = [{"number": n, "status": st, "count": c, "total_fen": t, "proposed_by": by, "released_by": rb}
                      for n, st, c, t, by, rb in r.batches]
    return json.loads(json.dumps(out, default=str))


@router.get("/firms", response_model=list[dict], responses=ERRORS)
def list_firms(request: Request, who: Principal = Depends(reader)) -> list[dict]:
    """Every failed firm the fund has paid for: claims, verification, payments, the claim in the liquidation."""
    from sqlalchemy import select

    from redress.store.models import FailedFirm

    with tx(request) as s:
        return [firm_out(s, f) for f in s.execute(select(FailedFirm.id).order_by(FailedFirm.event_on)).scalars()]


@router.get("/firms/{firm_id}", response_model=dict, responses=ERRORS)
def show_firm(firm_id: Ident, request: Request, who: Principal = Depends(reader)) -> dict:
    with tx(request) as s:
        return firm_out(s, firm_id)


@router.post("/firms", response_model=dict, status_code=201, responses=ERRORS)
def open_firm(body: FirmIn, request: Request, who: Principal = Depends(operator)) -> dict:
    """Open a failed firm's payout under a passed board resolution on using the fund."""
    from redress.admin.ipf import firms

    with tx(request) as s:
        firms.open_firm(s, who.name, body.id, body.name, body.event, body.event_on, body.resolution_reference)
        return firm_out(s, body.id)


async def _firm_file(request: Request, file: UploadFile, apply) -> dict:
    from redress.web.api import applied

    rep = await applied(request, file, apply, "upload.csv")
    return json.loads(json.dumps(dataclasses.asdict(rep), default=str))


@router.post("/firms/{firm_id}/claims", response_model=dict, responses=ERRORS)
async def firm_claims(firm_id: Ident, request: Request, file: Annotated[UploadFile, File()],
                      who: Principal = Depends(operator)) -> dict:
    """Register claims (CSV ``claimant_id,category,principal,interest,reference``): all or nothing."""
    from redress.admin.ipf import firms

    return await _firm_file(request, file, lambda s, p: firms.register_claims(s, who.name, firm_id, p))


@router.post("/firms/{firm_id}/records", response_model=dict, responses=ERRORS)
async def firm_records(firm_id: Ident, request: Request, file: Annotated[UploadFile, File()],
                       who: Principal = Depends(operator)) -> dict:
    """The custodian's or liquidation group's records (CSV ``claimant_id,category,principal``)."""
    from redress.admin.ipf import firms

    return await _firm_file(request, file, lambda s, p: firms.import_custodian_records(s, who.name, firm_id, p))


@router.post("/firms/{firm_id}/verify", response_model=dict, responses=ERRORS)
def verify_firm(firm_id: Ident, body: OnIn, request: Request, who: Principal = Depends(operator)) -> dict:
    """Verify the claims against the records and fix what each claimant is paid (100,000 yuan / 90% rule)."""
    from redress.admin.ipf import firms

    with tx(request) as s:
        firms.verify_firm(s, who.name, firm_id, body.on)
        return firm_out(s, firm_id)


@router.post("/firms/{firm_id}/batches", response_model=dict, status_code=201, responses=ERRORS)
def propose_firm_batch(firm_id: Ident, body: OnIn, request: Request, who: Principal = Depends(operator)) -> dict:
    """Gather what is owed to claimants into a batch; a different person with the approver role releases it."""
    from redress.admin.ipf import firms

    with tx(request) as s:
        firms.propose_batch(s, who.name, firm_id, body.on)
        return firm_out(s, firm_id)


@router.post("/firms/{firm_id}/batches/{number}/release", response_model=dict, responses=ERRORS)
def release_firm_batch(firm_id: Ident, number: RowId, body: OnIn, request: Request,
                       who: Principal = Depends(approver)) -> dict:
    from redress.admin.ipf import firms

    with tx(request) as s:
        firms.release_batch(s, who.name, firm_id, number, body.on)
        return firm_out(s, firm_id)


@router.get("/firms/{firm_id}/batches/{number}/instructions.csv", responses=ERRORS)
def firm_instructions(firm_id: Ident, number: RowId, request: Request, who: Principal = Depends(principal)):
    """A released batch's instruction file, in the special fund's format."""
    from redress.admin.ipf import firms
    from redress.web.api import csv_download

    who.require("operator")
    return csv_download(request, lambda s, tmp: firms.export_batch(s, who.name, firm_id, number, tmp))


@router.post("/firms/{firm_id}/results", response_model=dict, responses=ERRORS)
async def firm_results(firm_id: Ident, request: Request, file: Annotated[UploadFile, File()],
                       who: Principal = Depends(operator)) -> dict:
    """The clearing system's results: paid, or returned (owed again); all or nothing, each file once."""
    from redress.admin.ipf import firms

    return await _firm_file(request, file, lambda s, p: firms.import_results(s, who.name, firm_id, p))


class ReviewIn(BaseModel):
    claimant_id: str = Field(min_length=1, max_length=64)
    category: str = Field(min_length=1, max_length=32)
    principal_fen: int = Field(ge=0, le=10**17, description="Principal accepted after review (0: nothing owed)")
    on: dt.date
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/firms/{firm_id}/reviews", response_model=dict, status_code=201, responses=ERRORS)
def review_held_claim(firm_id: Ident, body: ReviewIn, request: Request, who: Principal = Depends(approver)) -> dict:
    """Decide a claim held at verification (a discrepancy with the records), as an approver."""
    from redress.admin.ipf import firms

    with tx(request) as s:
        firms.resolve_held(s, who.name, firm_id, body.claimant_id, body.category, body.principal_fen, body.on,
                           body.reason)
        return firm_out(s, firm_id)


@router.post("/firms/{firm_id}/recoveries", response_model=dict, status_code=201, responses=ERRORS)
def firm_recovery(firm_id: Ident, body: RecoveryIn, request: Request, who: Principal = Depends(operator)) -> dict:
    """A dividend from the liquidation on the fund's claim (Art. 19)."""
    from redress.admin.ipf import firms

    with tx(request) as s:
        firms.record_recovery(s, who.name, firm_id, body.amount_fen, body.on, body.reference)
        return firm_out(s, firm_id)


# -- investments ---------------------------------------------------------------------------------------------

class InvestmentIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=64)
    issuer: str = Field(min_length=1, max_length=300)
    counterparty: str = Field(min_length=1, max_length=300)
    amount_fen: int = Field(gt=0, le=10**17)
    trade_date: dt.date
    maturity_date: dt.date | None = None
    approval_reference: str | None = Field(default=None, max_length=200)
    plan_resolution: str | None = Field(default=None, max_length=200)


class HoldingOut(BaseModel):
    id: str
    kind: str
    kind_en: str
    kind_zh: str
    issuer: str
    counterparty: str
    amount_fen: int
    trade_date: dt.date
    maturity_date: dt.date | None
    status: str
    book_value_fen: int


@router.get("/investments", response_model=list[HoldingOut], responses=ERRORS)
def list_investments(request: Request, on: dt.date | None = None, who: Principal = Depends(reader)) -> list[HoldingOut]:
    from redress.admin.ipf import investments

    with tx(request) as s:
        return [HoldingOut(**dataclasses.asdict(h)) for h in investments.holdings(s, on, include_matured=True)]


@router.post("/investments", response_model=HoldingOut, status_code=201, responses=ERRORS)
def propose_investment(body: InvestmentIn, request: Request, who: Principal = Depends(operator)) -> HoldingOut:
    """Invest the fund's money; checked against Art. 20 (deposits, government bonds, central bank bills,
    central financial institutions' bonds).  A refusal changes nothing in the books and is kept in the audit
    log (409 with every reason)."""
    from redress.admin.ipf import investments

    refused = None
    with tx(request) as s:
        try:
            investments.propose(s, who.name, body.id, body.kind, body.issuer, body.counterparty, body.amount_fen,
                                body.trade_date, body.maturity_date, body.approval_reference, body.plan_resolution)
        except investments.InvestmentRefused as exc:
            refused = exc        # raised after the commit, which keeps the refusal's audit event
        else:
            holding = next(h for h in investments.holdings(s, include_matured=True) if h.id == body.id)
            return HoldingOut(**dataclasses.asdict(holding))
    raise refused


# -- reports -------------------------------------------------------------------------------------------------

def _report_response(report, fmt: str) -> Response:
    from redress.admin.ipf import reports

    if fmt == "json":
        out = dataclasses.asdict(report)
        for h in out["holdings"]:
            h["share"] = str(h["share"])
        out["net_assets"] = {"opening_fen": report.opening.net_assets_fen, "closing_fen": report.closing.net_assets_fen}
        return Response(json.dumps(out, default=str, ensure_ascii=False), media_type="application/json")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"ipf-report-{report.label}.{fmt}"
        (reports.write_excel if fmt == "xlsx" else reports.write_pdf)(report, path)
        data = path.read_bytes()
    media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
             else "application/pdf")
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{path.name}"'})


Fmt = Annotated[str, PathParam(pattern="^(json|xlsx|pdf)$")]


@router.get("/reports/quarter/{year}/{quarter}.{fmt}", responses=ERRORS)
def quarter_report(year: Year, quarter: Quarter, fmt: Fmt, request: Request, who: Principal = Depends(reader)):
    """The quarterly report of fund raising, management and use for the CSRC, the Ministry of Finance and the
    People's Bank of China (Art. 24), as JSON, Excel or PDF."""
    from redress.admin.ipf import reports

    with tx(request) as s:
        report = reports.quarter_report(s, year, quarter)
    return _report_response(report, fmt)


@router.get("/reports/month/{year}/{month}.{fmt}", responses=ERRORS)
def month_report(year: Year, month: Month, fmt: Fmt, request: Request, who: Principal = Depends(reader)):
    """The monthly report (Art. 24), as JSON, Excel or PDF."""
    from redress.admin.ipf import reports

    with tx(request) as s:
        report = reports.month_report(s, year, month)
    return _report_response(report, fmt)
