"""The HTTP API of the investor protection fund: its statement and books, board decisions, levies, failed
firms, investments and reports.  Staff only: operators change things, approvers release payments, auditors
and every staff role read."""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, Depends, Request
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
    """Record a meeting; whether it could be held (more than two thirds of nine present) is checked."""
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

