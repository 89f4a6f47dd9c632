"""Pydantic schemas of the HTTP API (kept apart from the database models)."""

from __future__ import annotations

import datetime as dt
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from redress.money import MAX_AMOUNT_FEN

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
    summary: str = Field(default="", description="What granting the request does, in amounts and counts")


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


# -- hearings on the plan and recourse after compensation --------------------------------------------------------

class HearingIn(BaseModel):
    organiser: str = Field(min_length=1, max_length=200, description="Who presides (neither a payer nor an investor)")
    organiser_roles: list[str] = Field(default=[], max_length=10)
    started_on: dt.date
    seed_commitment: str = Field(min_length=1, max_length=200,
                                 description="SHA-256 of the seed, 64 lowercase hex digits")
    limit_months: int = Field(default=3, ge=1, le=24)


class PanelIn(BaseModel):
    payer_side: list[str] = Field(min_length=1, max_length=50)
    representative_applicants: list[str] = Field(default=[], max_length=1000)
    lawyer_applicants: list[str] = Field(default=[], max_length=1000)
    lawyer_seats: int = Field(ge=0, le=50)
    seed: str | None = Field(default=None, max_length=200, description="The revealed seed (drawing by lot)")
    agreed: list[str] | None = Field(default=None, max_length=100,
                                     description="The investor-side members the applicants agreed on")


class HearingDecisionIn(BaseModel):
    minutes: str = Field(min_length=1, max_length=100_000)
    decision: str = Field(min_length=1, max_length=20_000)
    on: dt.date


class HearingMemberOut(BaseModel):
    person: str
    side: str
    selected_by: str


class DrawOut(BaseModel):
    purpose: str
    winners: list[str]
    verified: bool
    record: str


class HearingPlanIn(BaseModel):
    label: str = Field(min_length=1, max_length=64, description="The plan's name at the hearing (e.g. A)")
    proposed_by: str = Field(min_length=1, max_length=200)
    plan_toml: str = Field(min_length=1, max_length=100_000, description="A [plan] table, as for redress compare")
    on: dt.date


class HearingPlanOut(BaseModel):
    label: str
    proposed_by: str
    sha256: str
    added_on: dt.date
    plan_toml: str


class ComparisonRowOut(BaseModel):
    plan: str
    eligible_investors: int
    total_compensation: float
    mean: float
    p50: float
    p90: float
    p99: float
    max: float
    gainers: int
    losers: int


class ComparisonOut(BaseModel):
    computed_on: dt.date
    plans_sha256: str
    table: list[ComparisonRowOut]


class ComparisonIn(BaseModel):
    on: dt.date


class HearingOut(BaseModel):
    id: int
    case_id: str
    organiser: str
    started_on: dt.date
    limit_months: int
    deadline: dt.date
    status: str
    seed_commitment: str
    seed: str | None
    minutes: str | None
    decision: str | None
    decided_on: dt.date | None
    warnings: list[str]
    members: list[HearingMemberOut]
    plans: list[HearingPlanOut] = []
    comparison: ComparisonOut | None = None
    draws: list[DrawOut]


class PartyIn(BaseModel):
    party_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    kind: str = Field(min_length=1, max_length=32)
    fault_share_bp: int = Field(ge=0, le=10_000)
    solvent: bool = True
    recovery_rate_bp: int = Field(default=10_000, ge=0, le=10_000)
    payer_id: str | None = Field(default=None, min_length=1, max_length=64)


class PartyOut(BaseModel):
    party_id: str
    name: str
    kind: str
    fault_share_bp: int
    solvent: bool
    recovery_rate_bp: int
    payer_id: str | None


class ActionIn(BaseModel):
    party_id: str = Field(min_length=1, max_length=64)
    stage: str = Field(min_length=1, max_length=32)
    on: dt.date
    amount_fen: int = Field(ge=0, le=MAX_AMOUNT_FEN)
    reference: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=5000)


class ActionOut(BaseModel):
    id: int
    party_id: str
    stage: str
    on: dt.date
    amount_fen: int
    reference: str
    note: str


class ReceiptIn(BaseModel):
    party_id: str = Field(min_length=1, max_length=64)
    amount_fen: int = Field(ge=1, le=MAX_AMOUNT_FEN)
    on: dt.date
    reference: str = Field(min_length=1, max_length=190)


class ReceiptOut(BaseModel):
    entry_id: int
    key: str
    booked_on: dt.date
    party_id: str
    amount_fen: int
    to_payers_fen: dict[str, int] = Field(default={}, description="What this entry passed on to each payer")


class PartyReportOut(BaseModel):
    party_id: str
    name: str
    kind: str
    fault_share_bp: int
    solvent: bool
    claim_fen: int
    expected_fen: int
    recovered_fen: int
    outstanding_fen: int
    expected_outstanding_fen: int
    latest_stage: str | None
    latest_on: dt.date | None


class RecoveryOut(BaseModel):
    parties: list[PartyOut]
    actions: list[ActionOut]
    report: list[PartyReportOut]
    report_problem: str | None = Field(default=None, description="Why there is no report yet, if there is none")
    received_by_payer_fen: dict[str, int]


class FairFundIn(BaseModel):
    minimum_payment_fen: int = Field(ge=0, le=MAX_AMOUNT_FEN)
    residual_to: str = Field(min_length=1, max_length=200)
    redistribute_below_minimum: bool = True
    on: dt.date | None = None


class FairFundSourceIn(BaseModel):
    kind: str = Field(min_length=1, max_length=32)
    amount_fen: int = Field(ge=1, le=MAX_AMOUNT_FEN)
    reference: str = Field(min_length=1, max_length=190)
    received_on: dt.date


class FairFundSourceOut(BaseModel):
    id: int
    kind: str
    amount_fen: int
    reference: str
    received_on: dt.date


class FairFundRoundIn(BaseModel):
    on: dt.date


class FairFundRoundOut(BaseModel):
    id: int
    number: int
    run_on: dt.date
    available_fen: int
    carried_in_fen: int
    paid_fen: int
    residual_fen: int
    residual_destination: str
    payees: int = Field(description="Investors paid something in the round")
    payments_fen: int = Field(description="Sum of the round's payments (equals paid_fen)")


class FairFundPlanOut(BaseModel):
    minimum_payment_fen: int
    residual_to: str
    redistribute_below_minimum: bool
    established_on: dt.date


class FairFundStatementOut(BaseModel):
    sources_fen: int
    paid_fen: int = Field(description="Allocated to investors in rounds")
    residual_sent_fen: int
    held_fen: int
    paid_by_investor: dict[str, int]
    transferred_fen: int = Field(default=0, description="Of the allocated: settled with the investors' banks")
    in_flight_fen: int = Field(default=0, description="Of the allocated: in a released batch, not yet settled")
    awaiting_fen: int = Field(default=0, description="Of the allocated: not yet sent, or returned")
    cash_fen: int = Field(default=0, description="What the fair fund's account holds")


class FairFundOut(BaseModel):
    case_id: str
    plan: FairFundPlanOut | None = Field(default=None, description="None until the fair fund is established")
    sources: list[FairFundSourceOut]
    rounds: list[FairFundRoundOut]
    statement: FairFundStatementOut | None = None
    statement_problem: str | None = Field(default=None, description="Why there is no statement, if there is none")
    batches: list[BatchOut] = []
