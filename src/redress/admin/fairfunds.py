"""A case's fair fund, administered: its plan, the money paid in (fines, confiscated gains, settlement money),
rounds of distribution to the harmed investors and the statement.

Conventions:

* The fair fund's money is kept in its own tables (``fair_fund_source``, ``fair_fund_round``,
  ``fair_fund_payment``, all append-only), never in the special fund's ledger: it is a separate pot of money.
* Eligible investors are the case's claims: loss = the engine's compensation lines of the claim; advance
  compensation already received = ``paid_fen - interest_fen`` of an accepted claim (interest is the investor's
  own money), 0 otherwise.  The pure core (``redress.fairfund.distribution``) nets them, so nobody recovers
  twice.
* Money available to a round = sources received - paid in earlier rounds - residual already sent to
  ``residual_to``.  Every round is checked exactly: ``available = paid + residual`` and the payments sum to
  ``paid``; every statement checks ``sources = paid + residual sent away + held``.
* States: a fair fund is set up once the case has claims (``claims_open`` and later); rounds run only once
  the advance compensation is settled (``payments_complete``, ``liquidated``, ``closed``), so what each
  investor already received, and so the netting, can no longer change.
* What a round allocates is paid to the investors through batches like the special fund's (maker-checker
  release, the same instruction and results files), kept apart in ``fair_fund_batch`` and
  ``fair_fund_transfer``: a returned transfer is sent again in a later batch, at most one transfer per
  allocation is in flight (a partial unique index), and no allocation is paid beyond its amount.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from redress.admin.cases import (ApprovalAction, check_date, get_case, payload, request_approval, require_state,
                                 require_user)
from redress.admin.errors import AdminError, BadInput, NotFound, valid_fen
from redress.admin.fund import imported, read_new_csv, remember_import
from redress.money import MAX_BALANCE_FEN, check_fen, yuan
from redress.admin.payments import (RESULT_COLUMNS, ImportReport, check_results, mark_pending, settle_batches,
                                    write_instructions)
from redress.claims.lifecycle import CaseState
from redress.fairfund.distribution import (CARRIED_FORWARD, SOURCE_KINDS, Eligible, FairFundError, FairFundPlan,
                                           Source, distribute)
from redress.store import audit
from redress.store.db import bulk_insert
from redress.store.models import (Approval, Claim, ClaimLine, FairFundBatch, FairFundPayment, FairFundRound,
                                  FairFundRow, FairFundSource, FairFundTransfer)

ESTABLISH_STATES = frozenset({CaseState.CLAIMS_OPEN, CaseState.CLAIMS_CLOSED, CaseState.LATE_WINDOW,
                              CaseState.PAYMENTS_COMPLETE, CaseState.LIQUIDATED, CaseState.CLOSED})
ROUND_STATES = frozenset({CaseState.PAYMENTS_COMPLETE, CaseState.LIQUIDATED, CaseState.CLOSED})


def _fund(session: Session, case_id: str) -> FairFundRow:
    row = session.get(FairFundRow, case_id)
    if row is None:
        raise NotFound(f"case {case_id} has no fair fund", hint="`redress fairfund-case establish` sets it up / "
                       "请先设立公平基金")
    return row


def plan_of(row: FairFundRow) -> FairFundPlan:
    return FairFundPlan(row.minimum_payment_fen, row.residual_to, row.redistribute_below_minimum)


def establish(session: Session, actor: str, case_id: str, minimum_payment_fen: int, residual_to: str,
              redistribute_below_minimum: bool = True, on: dt.date | None = None) -> FairFundRow:
    """Set up the case's fair fund under a plan.  The same plan again returns the stored fund; a different
    plan is refused (the plan cannot change once set)."""
    require_user(session, actor, "operator")
    require_state(get_case(session, case_id, lock=True), ESTABLISH_STATES, "set up a fair fund (it pays the "
                  "case's claims, so they must be open)")
    try:
        check_fen(minimum_payment_fen, "the fair fund's minimum payment")
        FairFundPlan(minimum_payment_fen, residual_to, redistribute_below_minimum)
    except (FairFundError, ValueError) as exc:
        raise BadInput(f"fair fund plan refused: {exc}") from None
    if on is not None:
        check_date(on, "the fair fund's date")
    old = session.get(FairFundRow, case_id)
    if old is not None:
        if (old.minimum_payment_fen, old.residual_to, old.redistribute_below_minimum) == (
                minimum_payment_fen, residual_to, redistribute_below_minimum):
            return old
        raise AdminError(f"case {case_id} already has a fair fund with a different plan / 公平基金已设立")
    on = on or dt.date.today()
    row = FairFundRow(case_id=case_id, minimum_payment_fen=minimum_payment_fen, residual_to=residual_to,
                      redistribute_below_minimum=redistribute_below_minimum, established_on=on)
    session.add(row)
    session.flush()
    audit.record(session, actor, "fairfund.establish", case_id,
                 {"minimum_payment_fen": minimum_payment_fen, "residual_to": residual_to,
                  "redistribute_below_minimum": redistribute_below_minimum, "on": on.isoformat()}, case_id)
    return row


def sources(session: Session, case_id: str) -> list[FairFundSource]:
    return list(session.execute(select(FairFundSource).where(FairFundSource.case_id == case_id)
                                .order_by(FairFundSource.id)).scalars())


def add_source(session: Session, actor: str, case_id: str, kind: str, amount_fen: int, reference: str,
               received_on: dt.date) -> FairFundSource:
    """Money paid into the fair fund.  Idempotent by reference: the same source again returns the stored one;
    the reference with different content is refused."""
    require_user(session, actor, "operator")
    get_case(session, case_id, lock=True)
    _fund(session, case_id)
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise BadInput(f"source {reference!r}: amount must be a positive integer of fen, got {amount_fen!r}")
    check_date(received_on, f"source {reference}: received on")
    valid_fen(amount_fen, f"source {reference}")
    try:
        Source(kind, amount_fen, reference)
    except FairFundError as exc:
        raise BadInput(f"source refused: {exc}") from None
    old = session.execute(select(FairFundSource).where(FairFundSource.case_id == case_id,
                                                       FairFundSource.reference == reference)).scalar_one_or_none()
    if old is not None:
        if (old.kind, old.amount_fen, old.received_on) == (kind, amount_fen, received_on):
            return old
        raise AdminError(f"reference {reference!r} was already used for a different source / 文书编号已使用")
    held = sum(src.amount_fen for src in sources(session, case_id))
    if held + amount_fen > MAX_BALANCE_FEN:
        raise BadInput(f"source {reference}: the fair fund would hold more than "
                       f"{yuan(MAX_BALANCE_FEN, grouping=True)} yuan / 超过基金余额上限")
    row = FairFundSource(case_id=case_id, kind=kind, reference=reference, amount_fen=amount_fen,
                         received_on=received_on)
    session.add(row)
    session.flush()
    audit.record(session, actor, "fairfund.source", reference,
                 {"kind": kind, "amount_fen": amount_fen, "received_on": received_on.isoformat()}, case_id)
    return row


def rounds(session: Session, case_id: str) -> list[FairFundRound]:
    return list(session.execute(select(FairFundRound).where(FairFundRound.case_id == case_id)
                                .order_by(FairFundRound.number)).scalars())


def payments(session: Session, round_id: int) -> dict[str, int]:
    return dict(session.execute(select(FairFundPayment.investor_id, FairFundPayment.amount_fen)
                                .where(FairFundPayment.round_id == round_id)
                                .order_by(FairFundPayment.investor_id)).all())


def paid_by_investor(session: Session, case_id: str) -> dict[str, int]:
    """What each investor has received from the fair fund over all rounds."""
    total: dict[str, int] = defaultdict(int)
    for r in rounds(session, case_id):
        for inv, fen in payments(session, r.id).items():
            total[inv] += fen
    return dict(sorted(total.items()))


def eligible(session: Session, case_id: str) -> list[Eligible]:
    """The case's investors: loss from the engine's compensation lines, advance compensation already paid."""
    loss = dict(session.execute(select(Claim.investor_id, func.coalesce(func.sum(ClaimLine.compensation_fen), 0))
                                .join(ClaimLine, ClaimLine.claim_id == Claim.id)
                                .where(Claim.case_id == case_id).group_by(Claim.investor_id)).all())
    out = []
    for c in session.execute(select(Claim).where(Claim.case_id == case_id).order_by(Claim.investor_id)).scalars():
        advance = max(c.paid_fen - c.interest_fen, 0) if c.status == "accepted" else 0
        out.append(Eligible(c.investor_id, max(int(loss.get(c.investor_id, 0)), 0), advance))
    return out


@dataclass(frozen=True)
class FairFundStatement:
    """Where the fair fund's money is: ``sources = paid + residual sent away + held`` (checked exactly)."""

    case_id: str
    plan: FairFundPlan
    sources_fen: int
    paid_fen: int
    residual_sent_fen: int
    held_fen: int
    rounds: tuple[FairFundRound, ...]
    paid_by_investor: dict[str, int]
    transferred_fen: int = 0      # of ``paid_fen``: settled with the investors' banks
    in_flight_fen: int = 0        # of ``paid_fen``: in a batch, not yet settled
    awaiting_fen: int = 0         # of ``paid_fen``: allocated, not yet sent (or returned and to be sent again)

    @property
    def cash_fen(self) -> int:
        """What the fair fund's account holds: sources - residual sent away - transferred - in flight."""
        return self.sources_fen - self.residual_sent_fen - self.transferred_fen - self.in_flight_fen


def statement(session: Session, case_id: str) -> FairFundStatement:
    row = _fund(session, case_id)
    total_in = sum(s.amount_fen for s in sources(session, case_id))
    rs = rounds(session, case_id)
    for r in rs:
        pays = payments(session, r.id)
        if sum(pays.values()) != r.paid_fen or r.paid_fen + r.residual_fen != r.available_fen:
            raise AdminError(f"fair fund of case {case_id}, round {r.number} does not reconcile: available "
                             f"{r.available_fen}, paid {r.paid_fen} (payments {sum(pays.values())}), residual "
                             f"{r.residual_fen} fen")
    paid = sum(r.paid_fen for r in rs)
    sent = sum(r.residual_fen for r in rs if r.residual_destination != CARRIED_FORWARD)
    held = total_in - paid - sent
    if held < 0:
        raise AdminError(f"fair fund of case {case_id} does not reconcile: sources {total_in} fen, paid {paid} "
                         f"fen, residual sent away {sent} fen")
    by_status = dict(session.execute(select(FairFundTransfer.status, func.coalesce(func.sum(
        FairFundTransfer.amount_fen), 0)).join(FairFundBatch).where(FairFundBatch.case_id == case_id)
        .group_by(FairFundTransfer.status)).all())
    transferred = int(by_status.get("paid", 0))
    in_flight = int(by_status.get("pending", 0)) + int(by_status.get("instructed", 0))
    awaiting = paid - transferred - in_flight
    if awaiting < 0:
        raise AdminError(f"fair fund of case {case_id} does not reconcile: {transferred + in_flight} fen transferred "
                         f"or in flight, more than the {paid} fen allocated")
    return FairFundStatement(case_id, plan_of(row), total_in, paid, sent, held, tuple(rs),
                             paid_by_investor(session, case_id), transferred, in_flight, awaiting)


def run_round(session: Session, actor: str, case_id: str, on: dt.date) -> FairFundRound:
    """Distribute the money the fair fund holds over the investors' remaining net claims, store the round
    and its payments, and audit it."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    row = _fund(session, case_id)
    require_state(case, ROUND_STATES, "run a fair-fund round (the advance compensation must be settled first, so "
                  "the netting is final)")
    check_date(on, "the round's date")
    st = statement(session, case_id)
    if st.held_fen == 0:
        raise AdminError(f"the fair fund of case {case_id} holds no money to distribute / 公平基金无可分配资金",
                         hint="record money paid in with `redress fairfund-case source`")
    people = eligible(session, case_id)
    if not people:
        raise AdminError(f"case {case_id} has no claims, so there is nobody to pay from the fair fund")
    names = {e.investor_id for e in people}
    already = st.paid_by_investor
    if set(already) - names:
        raise AdminError(f"investors paid by the fair fund are no longer claims of case {case_id}: "
                         f"{sorted(set(already) - names)[:5]}")
    last = st.rounds[-1] if st.rounds else None
    carried = last.residual_fen if last is not None and last.residual_destination == CARRIED_FORWARD else 0
    number = (last.number if last is not None else 0) + 1
    try:
        r = distribute(plan_of(row), people, st.held_fen, already, number=number, carried_in_fen=carried)
    except FairFundError as exc:
        raise AdminError(f"fair fund round refused: {exc}") from None
    if r.available_fen != r.paid_fen + r.residual_fen or r.available_fen != st.held_fen:
        raise AdminError(f"fair fund round {number} does not reconcile: available {r.available_fen}, paid "
                         f"{r.paid_fen}, residual {r.residual_fen} fen")
    net = {e.investor_id: max(e.loss_fen - e.advance_paid_fen, 0) for e in people}
    for inv, fen in r.payments.items():
        if already.get(inv, 0) + fen > net[inv]:
            raise AdminError(f"investor {inv} would receive more than the net loss of {net[inv]} fen")
    rr = FairFundRound(case_id=case_id, number=number, available_fen=r.available_fen, carried_in_fen=carried,
                       paid_fen=r.paid_fen, residual_fen=r.residual_fen,
                       residual_destination=r.residual_destination, run_on=on)
    session.add(rr)
    session.flush()
    session.add_all(FairFundPayment(round_id=rr.id, investor_id=inv, amount_fen=fen)
                    for inv, fen in r.payments.items())
    session.flush()
    audit.record(session, actor, "fairfund.round", str(number),
                 {"on": on.isoformat(), "available_fen": r.available_fen, "carried_in_fen": carried,
                  "paid_fen": r.paid_fen, "residual_fen": r.residual_fen,
                  "residual_destination": r.residual_destination, "below_minimum": list(r.below_minimum),
                  "payments": {inv: fen for inv, fen in r.payments.items() if fen}}, case_id)
    statement(session, case_id)   # the whole fund still reconciles after the round
    return rr


# -- paying what the rounds allocated -------------------------------------------------------------------------

def owed(session: Session, case_id: str) -> list[tuple[int, str, int]]:
    """Allocations still to be sent: (round id, investor, fen) for every allocation not paid in full and with
    nothing in flight (a returned transfer makes its allocation owed again)."""
    t = FairFundTransfer
    settled = dict(((r, i), int(fen)) for r, i, fen in session.execute(
        select(t.round_id, t.investor_id, func.sum(t.amount_fen)).join(FairFundBatch)
        .where(FairFundBatch.case_id == case_id, t.status == "paid").group_by(t.round_id, t.investor_id)).all())
    flying = set(session.execute(select(t.round_id, t.investor_id).join(FairFundBatch).where(
        FairFundBatch.case_id == case_id, t.status.in_(("pending", "instructed")))).all())
    out = []
    for r in rounds(session, case_id):
        for inv, fen in payments(session, r.id).items():
            left = fen - settled.get((r.id, inv), 0)
            if left < 0:
                raise AdminError(f"fair fund of case {case_id}: investor {inv} was paid {-left} fen more than "
                                 f"allocated in round {r.number}")
            if left and (r.id, inv) not in flying:
                out.append((r.id, inv, left))
    return out


def propose_batch(session: Session, actor: str, case_id: str, on: dt.date) -> Approval:
    """The maker gathers every allocation still owed into a batch; a second person releases it."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    _fund(session, case_id)
    check_date(on, "the batch's date")
    todo = owed(session, case_id)
    if not todo:
        raise AdminError(f"nothing to pay from the fair fund of case {case_id}: every allocation is paid or in a "
                         f"batch / 公平基金无待付款项")
    number = (session.execute(select(func.max(FairFundBatch.number)).where(FairFundBatch.case_id == case_id))
              .scalar_one() or 0) + 1
    total = sum(fen for *_k, fen in todo)
    ap = request_approval(session, actor, case, ApprovalAction.RELEASE_FAIRFUND, f"fair-fund batch {number}",
                          {"batch": number, "count": len(todo), "total_fen": total, "on": on.isoformat()})
    batch = FairFundBatch(case_id=case_id, number=number, status="proposed", count=len(todo), total_fen=total,
                          approval_id=ap.id)
    session.add(batch)
    session.flush()
    bulk_insert(session, FairFundTransfer.__table__, [
        {"batch_id": batch.id, "round_id": rid, "investor_id": inv, "amount_fen": fen, "status": "pending",
         "instruction_id": f"{case_id}-F{number:04d}-{k:06d}"} for k, (rid, inv, fen) in enumerate(todo, 1)])
    session.flush()
    return ap


def _ff_batch(session: Session, approval_id: int) -> FairFundBatch:
    return session.execute(select(FairFundBatch).where(FairFundBatch.approval_id == approval_id)).scalar_one()


def grant_release(session: Session, ap: Approval, actor: str) -> FairFundBatch:
    batch = _ff_batch(session, ap.id)
    mark_pending(session, FairFundTransfer, batch.id, "instructed")
    batch.status, batch.released_on = "released", dt.date.fromisoformat(payload(ap)["on"])
    session.flush()
    audit.record(session, actor, "fairfund.batch_released", f"fair-fund batch {batch.number}",
                 {"approval": ap.id, "count": batch.count, "total_fen": batch.total_fen}, ap.case_id)
    return batch


def unwind_release(session: Session, ap: Approval, actor: str) -> None:
    batch = _ff_batch(session, ap.id)
    mark_pending(session, FairFundTransfer, batch.id, "cancelled")
    batch.status = "cancelled"
    session.flush()
    audit.record(session, actor, "fairfund.batch_cancelled", f"fair-fund batch {batch.number}",
                 {"approval": ap.id, "count": batch.count, "total_fen": batch.total_fen}, ap.case_id)


def batches(session: Session, case_id: str) -> list[FairFundBatch]:
    return list(session.execute(select(FairFundBatch).where(FairFundBatch.case_id == case_id)
                                .order_by(FairFundBatch.number)).scalars())


def export_batch(session: Session, actor: str, case_id: str, number: int, out_dir: Path) -> tuple[Path, Path]:
    """The batch's instruction file and manifest, byte-stable, in the special fund's format."""
    require_user(session, actor, "operator")
    get_case(session, case_id, lock=True)
    batch = next((b for b in batches(session, case_id) if b.number == number), None)
    if batch is None:
        raise NotFound(f"no fair-fund batch {number} in case {case_id}")
    if batch.status in ("proposed", "cancelled"):
        raise AdminError(f"fair-fund batch {number} is {batch.status}; only a released batch is sent / 批次未放行")
    rows = [tuple(r) for r in session.execute(
        select(FairFundTransfer.instruction_id, FairFundTransfer.investor_id, FairFundTransfer.amount_fen)
        .where(FairFundTransfer.batch_id == batch.id).order_by(FairFundTransfer.instruction_id)).all()]
    path, manifest, digest = write_instructions(out_dir, f"{case_id}-fairfund-{number:04d}", case_id, number,
                                                rows, batch.file_sha256)
    if batch.file_sha256 is None:
        batch.file_sha256 = digest
        session.flush()
        audit.record(session, actor, "fairfund.exported", f"fair-fund batch {number}",
                     {"sha256": digest, "count": len(rows)}, case_id)
    return path, manifest


def import_results(session: Session, actor: str, case_id: str, path: Path,
                   on_row: Callable[[int], None] | None = None) -> ImportReport:
    """Apply the clearing system's results for fair-fund transfers (the special fund's results format).  All
    or nothing; the same file again, or a line already applied, changes nothing."""
    require_user(session, actor, "operator")
    get_case(session, case_id, lock=True)
    _fund(session, case_id)
    taken = read_new_csv(path, RESULT_COLUMNS, lambda d: imported(session, case_id, "fairfund_results", d))
    if taken is None:
        return ImportReport(path.name, already_imported=True)
    digest, rows = taken
    report = ImportReport(path.name)
    ids = [r["instruction_id"].strip() for _l, r in rows]
    sent: dict[str, FairFundTransfer] = {}
    for start in range(0, len(ids), 5000):
        sent.update({t.instruction_id: t for t in session.execute(
            select(FairFundTransfer).join(FairFundBatch).where(
                FairFundBatch.case_id == case_id, FairFundTransfer.instruction_id.in_(ids[start:start + 5000]))
            .with_for_update()).scalars()})
    parsed, report.unchanged, problems = check_results(path, rows, sent, case_id)
    if problems:
        raise BadInput(f"fair-fund results {path.name} refused; nothing changed / 公平基金划付结果有误，未作任何处理",
                       problems)
    f = remember_import(session, case_id, "fairfund_results", digest, path.name, len(rows), actor)
    for i, (_line, t, status, fen, on, reason) in enumerate(parsed):
        t.status, t.settled_on, t.result_file_id, t.reason = status, on, f.id, reason or None
        report.count(t.instruction_id, status, fen, reason)
        if on_row is not None:
            on_row(i)
    session.flush()
    settle_batches(session, batches(session, case_id), FairFundTransfer)
    session.flush()
    statement(session, case_id)   # nothing paid beyond what was allocated
    audit.record(session, actor, "fairfund.results_imported", path.name,
                 {"sha256": digest, "paid": report.paid, "returned": report.returned, "unchanged": report.unchanged,
                  "paid_fen": report.paid_fen, "returned_fen": report.returned_fen}, case_id)
    return report


__all__ = ["ESTABLISH_STATES", "FairFundStatement", "ROUND_STATES", "batches", "export_batch",
           "import_results", "owed", "propose_batch", "SOURCE_KINDS", "add_source", "eligible", "establish", "paid_by_investor",
           "payments", "plan_of", "rounds", "run_round", "sources", "statement"]
