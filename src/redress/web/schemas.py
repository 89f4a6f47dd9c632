"""Pydantic schemas of the HTTP API (kept apart from the database models)."""

from __future__ import annotations

import datetime as dt
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class Problem(BaseModel):
    detail: str
    hint: str | None = None
    problems: list[str] = []


class SignIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    name: str
    display_name: str
    roles: list[str]
    csrf_token: str
    investor_id: str | None = None


class CaseOut(BaseModel):
    id: str
    name: str
    state: str
    state_zh: str
    claims_open_on: dt.date | None
    deadline: dt.date | None
    late_window_until: dt.date | None
    plan_sha256: str | None
    fully_funded: bool | None


class Statement(BaseModel):
    contributions_fen: dict[str, int]
    interest_earned_fen: int
    compensation_awarded_fen: int
    interest_awarded_fen: int
    fees_fen: int
    surplus_returned_fen: dict[str, int]
    payable_fen: int
    trust_cash_fen: int
    in_transit_fen: int
    surplus_fen: int
    paid_out_fen: int


class PostingOut(BaseModel):
    account: str
    amount_fen: int


class EntryOut(BaseModel):
    key: str
    booked_on: dt.date
    kind: str
    memo: str
    reverses: str | None
    postings: list[PostingOut]


class Participation(BaseModel):
    claims: int
    by_status: dict[str, int]
    offered_fen: int
    accepted_fen: int
    awarded_fen: int
    paid_fen: int
    acceptance_rate: float


class TimelinePoint(BaseModel):
    date: dt.date
    accepted: int
    declined: int
    lapsed: int
    accepted_fen: int


class ClaimLineOut(BaseModel):
    security: str
    status: str
    flags: str
    net_loss_fen: int
    compensation_fen: int


class DecisionOut(BaseModel):
    decision: str
    decided_on: dt.date
    channel: str
    agreement_version: str | None


class PaymentOut(BaseModel):
    instruction_id: str
    amount_fen: int
    status: str
    reason: str | None
    settled_on: dt.date | None


class ClaimOut(BaseModel):
    case_id: str
    investor_id: str
    status: str
    offered_fen: int
    awarded_fen: int
    interest_fen: int
    paid_fen: int
    decided_on: dt.date | None
    late: bool
    lines: list[ClaimLineOut] = []
    decisions: list[DecisionOut] = []
    payments: list[PaymentOut] = []


class ClaimSummary(BaseModel):
    investor_id: str
    status: str
    offered_fen: int
    awarded_fen: int
    paid_fen: int


class AgreementOut(BaseModel):
    version: str
    sha256: str
    body: str


class DecisionIn(BaseModel):
    decision: Literal["accept", "decline"]
    agreement_version: str | None = None
    agreement_sha256: str | None = None
    confirm: bool = Field(description="The investor ticked the explicit confirmation / 投资者已明确确认")
    key: str = Field(min_length=1, max_length=100, description="Idempotency key: the same key again changes nothing")


class ApprovalOut(BaseModel):
    id: int
    action: str
    subject: str
    requested_by: str
    requested_at: str
    status: str
    payload: dict


class BatchOut(BaseModel):
    number: int
    status: str
    count: int
    total_fen: int
    released_on: dt.date | None
    file_sha256: str | None


class BatchIn(BaseModel):
    on: dt.date
    limit: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ImportOut(BaseModel):
    file: str
    already_imported: bool
    paid: int
    returned: int
    unchanged: int
    paid_fen: int
    returned_fen: int


class AuditEventOut(BaseModel):
    seq: int
    at: str
    actor: str
    case_id: str | None
    action: str
    subject: str
    detail: str
    hash: str


class AuditVerification(BaseModel):
    ok: bool
    events: int
    head_seq: int
    problems: list[str]


class Reconciliation(BaseModel):
    ok: bool
    figures: dict[str, int]
    problems: list[str]


class RunOut(BaseModel):
    id: str
    case_id: str
    status: Literal["running", "done", "failed"]
    step: str
    steps_done: int
    steps_total: int
    error: str | None = None
    investors: int | None = None
    compensation_fen: int | None = None


class PublicCase(BaseModel):
    id: str
    name: str
    state: str
    state_zh: str
    claims_open_on: dt.date | None
    deadline: dt.date | None
    late_window_until: dt.date | None
    payers: list[dict[str, str]]
    fund_fen: int
    claims: int
    by_status: dict[str, int]
    offered_fen: int
    paid_fen: int
    timetable: list[dict[str, str]]
    plan: dict[str, str]
    hearings: list[dict] = []
