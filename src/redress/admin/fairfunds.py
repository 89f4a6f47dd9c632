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
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from redress.admin.cases import get_case, require_user
from redress.admin.errors import AdminError, BadInput, NotFound
from redress.fairfund.distribution import (CARRIED_FORWARD, SOURCE_KINDS, Eligible, FairFundError, FairFundPlan,
                                           Source, distribute)
from redress.store import audit
from redress.store.models import (Claim, ClaimLine, FairFundPayment, FairFundRound, FairFundRow, FairFundSource)


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
    get_case(session, case_id, lock=True)
    try:
        FairFundPlan(minimum_payment_fen, residual_to, redistribute_below_minimum)
    except FairFundError as exc:
        raise BadInput(f"fair fund plan refused: {exc}") from None
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
    return FairFundStatement(case_id, plan_of(row), total_in, paid, sent, held, tuple(rs),
                             paid_by_investor(session, case_id))


def run_round(session: Session, actor: str, case_id: str, on: dt.date) -> FairFundRound:
    """Distribute the money the fair fund holds over the investors' remaining net claims, store the round
    and its payments, and audit it."""
    require_user(session, actor, "operator")
    get_case(session, case_id, lock=True)
    row = _fund(session, case_id)
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


__all__ = ["FairFundStatement", "SOURCE_KINDS", "add_source", "eligible", "establish", "paid_by_investor",
           "payments", "plan_of", "rounds", "run_round", "sources", "statement"]
