"""The database schema of case administration.

Money is ``BigInteger`` fen.  The ledger and the audit log are append-only: the migration installs triggers
that refuse UPDATE, DELETE (and, on PostgreSQL, TRUNCATE) on them, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, Index,
                        Integer, MetaData, String, Text, UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Fen = BigInteger
Stamp = String(32)   # ISO 8601 UTC timestamps, stored as text so that hashes replay identically everywhere


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "app_user"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(200))   # comma-separated: operator, approver, auditor, payer, investor
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(Stamp)
    # an investor sees only the claims of this investor id; a payer only its own case and payer id
    investor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    payer_case_id: Mapped[str | None] = mapped_column(String(64))
    payer_id: Mapped[str | None] = mapped_column(String(64))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[str | None] = mapped_column(Stamp)


class WebSession(Base):
    """A signed-in browser.  Only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "web_session"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("app_user.name"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(Stamp)
    expires_at: Mapped[str] = mapped_column(Stamp)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[str] = mapped_column(Stamp)
    success: Mapped[bool] = mapped_column(Boolean)


class Case(Base):
    __tablename__ = "fund_case"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(Stamp)
    custodian: Mapped[str | None] = mapped_column(String(200))
    # frozen at plan approval
    plan_toml: Mapped[str | None] = mapped_column(Text)
    plan_sha256: Mapped[str | None] = mapped_column(String(64))
    results_sha256: Mapped[str | None] = mapped_column(String(64))
    claims_open_on: Mapped[dt.date | None] = mapped_column(Date)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    late_window_until: Mapped[dt.date | None] = mapped_column(Date)
    # funding decision taken when claims open: pay as accepted, or allocate pro rata at close
    fully_funded: Mapped[bool | None] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, default=0)
    case_dir: Mapped[str | None] = mapped_column(String(1000))   # where the case directory lives (explanations)


class Transition(Base):
    __tablename__ = "case_transition"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    at: Mapped[str] = mapped_column(Stamp)
    reason: Mapped[str] = mapped_column(Text)


class Payer(Base):
    __tablename__ = "payer"
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"), primary_key=True)
    payer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(64))          # sponsor, auditor, law_firm, controlling_shareholder, ...
    committed_fen: Mapped[int] = mapped_column(Fen)
    __table_args__ = (CheckConstraint("committed_fen >= 0", name="committed_nonnegative"),)


class LedgerEntry(Base):
    __tablename__ = "ledger_entry"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"))
    key: Mapped[str] = mapped_column(String(200))
    booked_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(64))
    memo: Mapped[str] = mapped_column(Text)
    reverses: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    at: Mapped[str] = mapped_column(Stamp)
    __table_args__ = (UniqueConstraint("case_id", "key", name="uq_ledger_entry_case_key"),
                      Index("ix_ledger_entry_case_booked", "case_id", "booked_on"))


class LedgerPosting(Base):
    __tablename__ = "ledger_posting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    account: Mapped[str] = mapped_column(String(128))
    amount_fen: Mapped[int] = mapped_column(Fen)
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="nonzero"),)


class BalanceCheck(Base):
    """A bank statement balance checked against the books (a Beancount-style balance assertion)."""

    __tablename__ = "balance_check"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"))
    on: Mapped[dt.date] = mapped_column(Date)
    account: Mapped[str] = mapped_column(String(128))
    expected_fen: Mapped[int] = mapped_column(Fen)
    source: Mapped[str] = mapped_column(String(500))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("imported_file.id"))
    at: Mapped[str] = mapped_column(Stamp)


class ImportedFile(Base):
    """Every external file taken in, by content hash: the same file twice is recognised and changes nothing."""

    __tablename__ = "imported_file"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"))
    kind: Mapped[str] = mapped_column(String(32))          # payment_results, bank_statement, decisions, results
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    at: Mapped[str] = mapped_column(Stamp)
    __table_args__ = (UniqueConstraint("case_id", "kind", "sha256", name="uq_imported_file_content"),)


class Agreement(Base):
    """A published version of the settlement agreement (和解协议) investors accept."""

    __tablename__ = "agreement"
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str] = mapped_column(Stamp)


class Claim(Base):
    __tablename__ = "claim"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"))
    investor_id: Mapped[str] = mapped_column(String(64))
    offered_fen: Mapped[int] = mapped_column(Fen)          # the engine's compensation, summed over securities
    status: Mapped[str] = mapped_column(String(16))
    awarded_fen: Mapped[int] = mapped_column(Fen, default=0)   # recognised as payable (offer, or its pro-rata share)
    interest_fen: Mapped[int] = mapped_column(Fen, default=0)  # interest passed on to this investor
    paid_fen: Mapped[int] = mapped_column(Fen, default=0)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (
        UniqueConstraint("case_id", "investor_id", name="uq_claim_case_investor"),
        CheckConstraint("offered_fen > 0", name="offered_positive"),
        CheckConstraint("awarded_fen >= 0 AND awarded_fen <= offered_fen", name="award_within_offer"),
        CheckConstraint("interest_fen >= 0", name="interest_nonnegative"),
        # the database itself refuses to record more paid than awarded: no investor is paid twice
        CheckConstraint("paid_fen >= 0 AND paid_fen <= awarded_fen + interest_fen", name="paid_within_award"),
        CheckConstraint("status IN ('offered', 'accepted', 'declined', 'lapsed')", name="status_known"),
        CheckConstraint("awarded_fen = 0 OR status = 'accepted'", name="award_needs_acceptance"),
        Index("ix_claim_case_status", "case_id", "status"),
    )


class ClaimLine(Base):
    """The engine's result for one security of the claim (what the offer is made of)."""

    __tablename__ = "claim_line"
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), primary_key=True)
    security: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    flags: Mapped[str] = mapped_column(String(200))
    net_loss_fen: Mapped[int] = mapped_column(Fen)
    compensation_fen: Mapped[int] = mapped_column(Fen)


class Decision(Base):
    """An investor's answer (append-only history; the claim's status is its latest)."""

    __tablename__ = "decision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))      # accept, decline, lapse
    decided_on: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(32))       # online, counter, mail, broker, system
    agreement_version: Mapped[str | None] = mapped_column(String(32))
    agreement_sha256: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    at: Mapped[str] = mapped_column(Stamp)
    __table_args__ = (UniqueConstraint("claim_id", "idempotency_key", name="uq_decision_key"),
                      CheckConstraint("decision <> 'accept' OR (agreement_version IS NOT NULL AND "
                                      "agreement_sha256 IS NOT NULL)", name="accept_names_agreement"))


class Assignment(Base):
    """On acceptance, the investor's claims against the other liable parties pass to the payers (权利转让)."""

    __tablename__ = "assignment"
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), primary_key=True)
    payer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Fen)
    assigned_on: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (ForeignKeyConstraint(["case_id", "payer_id"], ["payer.case_id", "payer.payer_id"]),)


class Notice(Base):
    __tablename__ = "notice"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))          # offer, deadline_extended, late_window, allocation
    issued_on: Mapped[dt.date] = mapped_column(Date)
    file_sha256: Mapped[str] = mapped_column(String(64))


class Approval(Base):
    """Maker-checker: an action proposed by one user takes effect only when a different user approves it."""

    __tablename__ = "approval"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"))
    action: Mapped[str] = mapped_column(String(32))        # approve_plan, release_batch, return_surplus
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)             # canonical JSON of what is approved
    payload_sha256: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    requested_at: Mapped[str] = mapped_column(Stamp)
    status: Mapped[str] = mapped_column(String(16))        # pending, approved, rejected
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.name"))
    decided_at: Mapped[str | None] = mapped_column(Stamp)
    __table_args__ = (CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="four_eyes"),)


class AllocationRun(Base):
    """A pro-rata allocation of a short fund over accepted claims, with the residual accounted for."""

    __tablename__ = "allocation_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"))
    purpose: Mapped[str] = mapped_column(String(32))       # compensation, interest, surplus
    budget_fen: Mapped[int] = mapped_column(Fen)
    claimed_fen: Mapped[int] = mapped_column(Fen)
    allocated_fen: Mapped[int] = mapped_column(Fen)
    floor_total_fen: Mapped[int] = mapped_column(Fen)
    remainder_fen: Mapped[int] = mapped_column(Fen)
    recipients: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(Stamp)


class PaymentBatch(Base):
    __tablename__ = "payment_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))        # proposed, released, settled, cancelled
    count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(Fen)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approval.id"))
    released_on: Mapped[dt.date | None] = mapped_column(Date)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_payment_batch_number"),)


class Payment(Base):
    __tablename__ = "payment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payment_batch.id"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    instruction_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(16))        # pending, instructed, paid, returned, cancelled
    reason: Mapped[str | None] = mapped_column(String(300))
    settled_on: Mapped[dt.date | None] = mapped_column(Date)
    result_file_id: Mapped[int | None] = mapped_column(ForeignKey("imported_file.id"))
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'instructed', 'paid', 'returned', 'cancelled')", name="status_known"),
        # at most one payment in flight per claim, enforced by the database
        Index("uq_payment_claim_in_flight", "claim_id", unique=True,
              postgresql_where=text("status IN ('pending', 'instructed')"),
              sqlite_where=text("status IN ('pending', 'instructed')")),
    )


class AuditEvent(Base):
    """The tamper-evident audit log: each row's hash covers its content and the previous row's hash.  With a
    ``key_id`` the hash is an HMAC-SHA256 under that key of the key file; without one (events written before
    the log was keyed) it is plain SHA-256."""

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(Stamp)
    actor: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(24))


class AuditHead(Base):
    """One row: the newest audit event's seq and hash.  Locked by every writer, so the chain is serial.
    ``key_id`` is the key the next event is written with (none: the log is not keyed); ``mac`` is an HMAC of
    the head under it, so the head cannot be wound back to an earlier event without the key."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(24))
    mac: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class Hearing(Base):
    """A hearing on the compensation plan (听证): organiser, seed commitment, minutes and decision."""

    __tablename__ = "hearing"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"), index=True)
    organiser: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[dt.date] = mapped_column(Date)
    limit_months: Mapped[int] = mapped_column(Integer)
    seed_commitment: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))          # open, decided
    minutes: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (CheckConstraint("status IN ('open', 'decided')", name="status_known"),
                      CheckConstraint("limit_months BETWEEN 1 AND 24", name="limit_months"))


class HearingMember(Base):
    __tablename__ = "hearing_member"
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), primary_key=True)
    person: Mapped[str] = mapped_column(String(200), primary_key=True)
    side: Mapped[str] = mapped_column(String(32))            # payer, investor_representative, investor_lawyer
    selected_by: Mapped[str] = mapped_column(String(16))     # named, agreement, lot


class HearingDraw(Base):
    """The published record of a lot (canonical JSON), so anyone can recompute it."""

    __tablename__ = "hearing_draw"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    record_json: Mapped[str] = mapped_column(Text)


class LiablePartyRow(Base):
    """A party liable for the false statement, with its internal share of fault (basis points)."""

    __tablename__ = "liable_party"
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    fault_share_bp: Mapped[int] = mapped_column(Integer)
    solvent: Mapped[bool] = mapped_column(Boolean, default=True)
    recovery_rate_bp: Mapped[int] = mapped_column(Integer, default=10000)
    payer_id: Mapped[str | None] = mapped_column(String(64))   # when this party is also a payer of the fund
    __table_args__ = (CheckConstraint("fault_share_bp BETWEEN 0 AND 10000", name="share_bp"),
                      CheckConstraint("recovery_rate_bp BETWEEN 0 AND 10000", name="rate_bp"))


class RecoveryAction(Base):
    """One step of recourse against a party: demand, lawsuit, judgment, enforcement, bankruptcy claim."""

    __tablename__ = "recovery_action"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    party_id: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(32))
    on: Mapped[dt.date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(Fen)
    reference: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (ForeignKeyConstraint(["case_id", "party_id"], ["liable_party.case_id", "liable_party.party_id"]),
                      UniqueConstraint("case_id", "reference", name="uq_recovery_action_reference"),
                      CheckConstraint("stage IN ('demand', 'lawsuit', 'judgment', 'enforcement', 'bankruptcy_claim', "
                                      "'settlement')", name="stage_known"),
                      CheckConstraint("amount_fen >= 0", name="amount_nonnegative"))


class FairFundRow(Base):
    """A case's fair fund (fines, confiscations, settlement money paid to investors) and its plan."""

    __tablename__ = "fair_fund"
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"), primary_key=True)
    minimum_payment_fen: Mapped[int] = mapped_column(Fen)
    residual_to: Mapped[str] = mapped_column(String(200))
    redistribute_below_minimum: Mapped[bool] = mapped_column(Boolean, default=True)
    established_on: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (CheckConstraint("minimum_payment_fen >= 0", name="minimum_nonnegative"),)


class FairFundSource(Base):
    """Money paid into the fair fund (append-only): a fine, a confiscation or settlement money."""

    __tablename__ = "fair_fund_source"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fair_fund.case_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(Fen)
    received_on: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (UniqueConstraint("case_id", "reference", name="uq_fair_fund_source_reference"),
                      CheckConstraint("kind IN ('fine', 'confiscation', 'settlement')", name="kind_known"),
                      CheckConstraint("amount_fen > 0", name="amount_positive"))


class FairFundRound(Base):
    """One round of distribution of the fair fund (append-only); ``available = paid + residual``."""

    __tablename__ = "fair_fund_round"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fair_fund.case_id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    available_fen: Mapped[int] = mapped_column(Fen)
    carried_in_fen: Mapped[int] = mapped_column(Fen)
    paid_fen: Mapped[int] = mapped_column(Fen)
    residual_fen: Mapped[int] = mapped_column(Fen)
    residual_destination: Mapped[str] = mapped_column(String(200))
    run_on: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_fair_fund_round_number"),
                      CheckConstraint("number >= 1", name="number_positive"),
                      CheckConstraint("paid_fen >= 0 AND residual_fen >= 0 AND carried_in_fen >= 0 "
                                      "AND carried_in_fen <= available_fen", name="amounts_nonnegative"),
                      CheckConstraint("available_fen = paid_fen + residual_fen", name="reconciles"))


class FairFundPayment(Base):
    """What one investor is paid in one round of the fair fund (append-only)."""

    __tablename__ = "fair_fund_payment"
    round_id: Mapped[int] = mapped_column(ForeignKey("fair_fund_round.id"), primary_key=True)
    investor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    __table_args__ = (CheckConstraint("amount_fen >= 0", name="amount_nonnegative"),)


class HearingPlan(Base):
    """A plan under discussion at a hearing (append-only): its TOML text, as put to the hearing, and its hash."""

    __tablename__ = "hearing_plan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    proposed_by: Mapped[str] = mapped_column(String(200))
    plan_toml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    added_on: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (UniqueConstraint("hearing_id", "label", name="uq_hearing_plan_label"),)


class HearingComparison(Base):
    """The engine's side-by-side comparison of the plans under discussion, as published (append-only)."""

    __tablename__ = "hearing_comparison"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), index=True)
    computed_on: Mapped[dt.date] = mapped_column(Date)
    plans_sha256: Mapped[str] = mapped_column(String(64))     # over the labels and hashes of the plans compared
    table_json: Mapped[str] = mapped_column(Text)


class FairFundBatch(Base):
    """A batch of fair-fund transfers to investors, released by a second person (maker-checker)."""

    __tablename__ = "fair_fund_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fair_fund.case_id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))        # proposed, released, settled, cancelled
    count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(Fen)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approval.id"))
    released_on: Mapped[dt.date | None] = mapped_column(Date)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_fair_fund_batch_number"),
                      CheckConstraint("status IN ('proposed', 'released', 'settled', 'cancelled')",
                                      name="status_known"))


class FairFundTransfer(Base):
    """One instruction paying an investor's fair-fund allocation of one round; returned ones are sent again."""

    __tablename__ = "fair_fund_transfer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("fair_fund_batch.id"), index=True)
    round_id: Mapped[int] = mapped_column(Integer)
    investor_id: Mapped[str] = mapped_column(String(64))
    instruction_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(16))        # pending, instructed, paid, returned, cancelled
    reason: Mapped[str | None] = mapped_column(String(300))
    settled_on: Mapped[dt.date | None] = mapped_column(Date)
    result_file_id: Mapped[int | None] = mapped_column(ForeignKey("imported_file.id"))
    __table_args__ = (
        ForeignKeyConstraint(["round_id", "investor_id"], ["fair_fund_payment.round_id",
                                                           "fair_fund_payment.investor_id"],
                             name="fk_fair_fund_transfer_allocation"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'instructed', 'paid', 'returned', 'cancelled')", name="status_known"),
        # at most one transfer in flight per allocation, enforced by the database
        Index("uq_fair_fund_transfer_in_flight", "round_id", "investor_id", unique=True,
              postgresql_where=text("status IN ('pending', 'instructed')"),
              sqlite_where=text("status IN ('pending', 'instructed')")),
    )


# -- the investor protection fund (证券投资者保护基金) -------------------------------------------------------

class ProtectionEntry(Base):
    """An entry in the protection fund's own books (append-only; debits equal credits, checked on posting)."""

    __tablename__ = "ipf_entry"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)          # the idempotency key
    booked_on: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    memo: Mapped[str] = mapped_column(Text)
    reverses: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    at: Mapped[str] = mapped_column(Stamp)


class ProtectionPosting(Base):
    __tablename__ = "ipf_posting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ipf_entry.id"), index=True)
    account: Mapped[str] = mapped_column(String(120))
    amount_fen: Mapped[int] = mapped_column(Fen)                         # debit positive, credit negative
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="amount_nonzero"),)


class SecuritiesCompany(Base):
    """A securities company that pays levies into the protection fund."""

    __tablename__ = "ipf_company"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    brokerage: Mapped[bool] = mapped_column(Boolean)   # brokerage firms' levies are withheld by the clearing house


class CompanyRating(Base):
    """A company's classification grade (证券公司分类评价) for a year (append-only)."""

    __tablename__ = "ipf_rating"
    company_id: Mapped[str] = mapped_column(ForeignKey("ipf_company.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    grade: Mapped[str] = mapped_column(String(3))
    __table_args__ = (CheckConstraint("grade IN ('AAA', 'AA', 'A', 'BBB', 'BB', 'B', 'CCC', 'CC', 'C', 'D')",
                                      name="grade_known"),)


class LevyYear(Base):
    """What a levy year's rates depend on beyond the grade: the previous year's share of loss-making companies
    and the fund's size (append-only)."""

    __tablename__ = "ipf_levy_year"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    loss_share_bp: Mapped[int] = mapped_column(Integer)
    fund_size_fen: Mapped[int] = mapped_column(Fen)
    source: Mapped[str] = mapped_column(Text)
    __table_args__ = (CheckConstraint("loss_share_bp BETWEEN 0 AND 10000", name="loss_share_range"),
                      CheckConstraint("fund_size_fen >= 0", name="fund_size_nonnegative"))


class Levy(Base):
    """A levy assessed on a company: a quarterly instalment (quarter 1-4) or the annual settlement (quarter 0,
    negative when the company is refunded).  Append-only."""

    __tablename__ = "ipf_levy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("ipf_company.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    income_fen: Mapped[int] = mapped_column(Fen)
    rate_bp: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Fen)
    due_on: Mapped[dt.date] = mapped_column(Date)
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (UniqueConstraint("company_id", "year", "quarter", name="uq_ipf_levy_period"),
                      CheckConstraint("quarter BETWEEN 0 AND 4", name="quarter_range"),
                      CheckConstraint("rate_bp BETWEEN 0 AND 10000", name="rate_range"))


class LevyPayment(Base):
    """Money received from a company against one levy (append-only; the bank reference is the key)."""

    __tablename__ = "ipf_levy_payment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    levy_id: Mapped[int] = mapped_column(ForeignKey("ipf_levy.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="amount_nonzero"),)


class BoardMeeting(Base):
    """A meeting of the fund company's board, with who was present and whether it could be held (append-only)."""

    __tablename__ = "ipf_board_meeting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))              # regular, interim
    directors_json: Mapped[str] = mapped_column(Text)
    present_json: Mapped[str] = mapped_column(Text)
    valid: Mapped[bool] = mapped_column(Boolean)
    findings_json: Mapped[str] = mapped_column(Text)


class BoardResolution(Base):
    """A resolution put to a board meeting, the votes and whether it passed (append-only)."""

    __tablename__ = "ipf_board_resolution"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("ipf_board_meeting.id"), index=True)
    subject: Mapped[str] = mapped_column(String(64))           # e.g. use_for_failed_firm, annual_budget
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    text: Mapped[str] = mapped_column(Text)
    votes_json: Mapped[str] = mapped_column(Text)              # {"for": [...], "against": [...], "abstain": [...]}
    passed: Mapped[bool] = mapped_column(Boolean)
    findings_json: Mapped[str] = mapped_column(Text)


class ProtectionInvestment(Base):
    """A holding of the fund (bank deposit, government bond, central bank bill, central financial bond)."""

    __tablename__ = "ipf_investment"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(300))
    counterparty: Mapped[str] = mapped_column(String(300))
    amount_fen: Mapped[int] = mapped_column(Fen)
    trade_date: Mapped[dt.date] = mapped_column(Date)
    maturity_date: Mapped[dt.date | None] = mapped_column(Date)
    approval_reference: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))            # held, matured
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),
                      CheckConstraint("status IN ('held', 'matured')", name="status_known"))


class FailedFirm(Base):
    """A securities company closed, revoked, bankrupt or taken over, whose clients and individual creditors the
    fund pays (under a board resolution) before it claims in the liquidation."""

    __tablename__ = "ipf_failed_firm"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    event: Mapped[str] = mapped_column(String(16))             # closed, revoked, bankrupt, taken_over
    event_on: Mapped[dt.date] = mapped_column(Date)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("ipf_board_resolution.id"))
    state: Mapped[str] = mapped_column(String(16))             # registering, verified, closed
    __table_args__ = (CheckConstraint("event IN ('closed', 'revoked', 'bankrupt', 'taken_over')", name="event_known"),
                      CheckConstraint("state IN ('registering', 'verified', 'closed')", name="state_known"))


class FirmClaim(Base):
    """A claim registered by a client or individual creditor of a failed firm (append-only)."""

    __tablename__ = "ipf_firm_claim"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    firm_id: Mapped[str] = mapped_column(ForeignKey("ipf_failed_firm.id"), index=True)
    claimant_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))          # settlement_funds, individual_debt
    principal_fen: Mapped[int] = mapped_column(Fen)
    interest_fen: Mapped[int] = mapped_column(Fen)
    reference: Mapped[str] = mapped_column(String(200))
    __table_args__ = (UniqueConstraint("firm_id", "reference", name="uq_ipf_firm_claim_reference"),
                      CheckConstraint("principal_fen >= 0 AND interest_fen >= 0", name="amounts_nonnegative"))


class CustodianRecordRow(Base):
    """What the custodian or liquidation group's records show a claimant is owed (append-only)."""

    __tablename__ = "ipf_custodian_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    firm_id: Mapped[str] = mapped_column(ForeignKey("ipf_failed_firm.id"), index=True)
    claimant_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    principal_fen: Mapped[int] = mapped_column(Fen)


class FirmCompensation(Base):
    """What the fund pays a claimant of a failed firm in one category, fixed at verification (append-only);
    held claims (a discrepancy with the records) are listed with ``held`` and nothing to pay."""

    __tablename__ = "ipf_compensation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    firm_id: Mapped[str] = mapped_column(ForeignKey("ipf_failed_firm.id"), index=True)
    claimant_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    claimed_fen: Mapped[int] = mapped_column(Fen)
    eligible_fen: Mapped[int] = mapped_column(Fen)
    pay_fen: Mapped[int] = mapped_column(Fen)
    held: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("firm_id", "claimant_id", "category", name="uq_ipf_compensation_claimant"),
                      CheckConstraint("pay_fen >= 0 AND pay_fen <= eligible_fen", name="pay_within_eligible"))


class FirmBatch(Base):
    """A batch of payments to a failed firm's claimants: proposed by one person, released by another."""

    __tablename__ = "ipf_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    firm_id: Mapped[str] = mapped_column(ForeignKey("ipf_failed_firm.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))            # proposed, released, settled, cancelled
    count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(Fen)
    proposed_by: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    released_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.name"))
    released_on: Mapped[dt.date | None] = mapped_column(Date)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("firm_id", "number", name="uq_ipf_batch_number"),
                      CheckConstraint("status IN ('proposed', 'released', 'settled', 'cancelled')",
                                      name="status_known"),
                      CheckConstraint("released_by IS NULL OR released_by <> proposed_by", name="four_eyes"))


class FirmTransfer(Base):
    """One payment instruction to a claimant; a returned one is sent again in a later batch."""

    __tablename__ = "ipf_transfer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ipf_batch.id"), index=True)
    compensation_id: Mapped[int] = mapped_column(ForeignKey("ipf_compensation.id"))
    instruction_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(16))            # pending, instructed, paid, returned, cancelled
    reason: Mapped[str | None] = mapped_column(String(300))
    settled_on: Mapped[dt.date | None] = mapped_column(Date)
    result_sha256: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'instructed', 'paid', 'returned', 'cancelled')", name="status_known"),
        Index("uq_ipf_transfer_in_flight", "compensation_id", unique=True,
              postgresql_where=text("status IN ('pending', 'instructed')"),
              sqlite_where=text("status IN ('pending', 'instructed')")),
    )


class ProtectionImport(Base):
    """Every file the protection fund took in, by content hash: the same file twice changes nothing."""

    __tablename__ = "ipf_import"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    at: Mapped[str] = mapped_column(Stamp)
    __table_args__ = (UniqueConstraint("kind", "sha256", name="uq_ipf_import_content"),)


class FirmReview(Base):
    """The decision on a claim held at verification (a discrepancy with the records), taken after review by an
    approver: the principal accepted, and what the payout rule then pays (append-only, one per claim)."""

    __tablename__ = "ipf_review"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    compensation_id: Mapped[int] = mapped_column(ForeignKey("ipf_compensation.id"), unique=True)
    principal_fen: Mapped[int] = mapped_column(Fen)
    eligible_fen: Mapped[int] = mapped_column(Fen)
    pay_fen: Mapped[int] = mapped_column(Fen)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (CheckConstraint("principal_fen >= 0 AND pay_fen >= 0 AND pay_fen <= eligible_fen",
                                      name="amounts_consistent"),)


# -- the investor's way in and what the fund tells investors ---------------------------------------------------

class InvestorAccount(Base):
    """A securities account an investor traded through, from the case's clearing records: the second factor an
    investor gives with an activation or sign-in code.  Only a digest is kept (SHA-256 of case, investor and
    account), so the table hands out no account numbers."""

    __tablename__ = "investor_account"
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"), primary_key=True)
    investor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)


class ActivationCode(Base):
    """A one-time code printed on an investor's claim notice: with a second factor it lets the investor set a
    password.  Only the code's SHA-256 is stored; a code expires, works once, and a new one replaces the old."""

    __tablename__ = "activation_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"))
    investor_id: Mapped[str] = mapped_column(String(64), index=True)
    issued_by: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    created_at: Mapped[str] = mapped_column(Stamp)
    expires_at: Mapped[str] = mapped_column(Stamp)
    used_at: Mapped[str | None] = mapped_column(Stamp)
    revoked_at: Mapped[str | None] = mapped_column(Stamp)        # replaced by a newer code, or withdrawn
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InvestorContact(Base):
    """How to reach an investor and in which language: given at activation or imported by the fund."""

    __tablename__ = "investor_contact"
    investor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")
    source: Mapped[str] = mapped_column(String(32))             # activation, import, counter
    updated_at: Mapped[str] = mapped_column(Stamp)


class SignInCode(Base):
    """A one-time code sent by e-mail or SMS: to sign in without a password, or to set a new one."""

    __tablename__ = "sign_in_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("app_user.name"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))            # sign_in, reset
    channel: Mapped[str] = mapped_column(String(8))             # email, sms
    code_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(Stamp)
    expires_at: Mapped[str] = mapped_column(Stamp)
    used_at: Mapped[str | None] = mapped_column(Stamp)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (CheckConstraint("purpose IN ('sign_in', 'reset')", name="purpose_known"),
                      CheckConstraint("channel IN ('email', 'sms')", name="channel_known"))


class CodeAttempt(Base):
    """Every entry of an activation or one-time code, right or wrong: what the rate limits count."""

    __tablename__ = "code_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))               # activate, sign_in, reset, send
    subject: Mapped[str] = mapped_column(String(64), index=True)  # the investor or user it was for, if known
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[str] = mapped_column(Stamp)
    success: Mapped[bool] = mapped_column(Boolean)


class Notification(Base):
    """A message the fund sent (or tried to send) an investor: one row per event, investor and channel, so the
    same event is never sent twice; a resend is a new attempt on the same row."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"))
    investor_id: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(32))              # offer_opened, deadline_7, deadline_1, ...
    ref: Mapped[str] = mapped_column(String(64))                # what the event is about (a payment, a date)
    channel: Mapped[str] = mapped_column(String(8))             # email, sms
    address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Stamp)
    sent_at: Mapped[str | None] = mapped_column(Stamp)
    result: Mapped[str] = mapped_column(String(16))             # pending, sent, failed
    detail: Mapped[str | None] = mapped_column(String(300))     # the gateway's answer
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (UniqueConstraint("case_id", "investor_id", "event", "ref", "channel", name="uq_notification_once"),
                      CheckConstraint("result IN ('pending', 'sent', 'failed')", name="result_known"))


class CaseHelp(Base):
    """What the fund tells investors about a case beyond the numbers: who to call, when, and when it pays."""

    __tablename__ = "case_help"
    case_id: Mapped[str] = mapped_column(ForeignKey("fund_case.id"), primary_key=True)
    hotline: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    office_hours: Mapped[str | None] = mapped_column(String(200))
    payment_dates: Mapped[str] = mapped_column(Text, default="", server_default="")  # ISO dates, comma-separated
    updated_by: Mapped[str] = mapped_column(ForeignKey("app_user.name"))
    updated_at: Mapped[str] = mapped_column(Stamp)
