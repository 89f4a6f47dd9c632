"""Before and after the payout, on the demo's case: a hearing lot, the payers' recourse and a fair-fund round.

Uses the pure cores (``hearing``, ``recovery``, ``fairfund``) on the figures the administered case produced:
the applicants for investor seats are investors with claims, the payers' recourse is computed from what
each payer's contribution actually paid out, and the fair fund nets each investor's advance compensation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from redress.admin import fairfunds
from redress.fairfund import Eligible
from redress.hearing import Draw, commitment, draw, verify
from redress.recovery import LiableParty, Payment, RecoursePlan, recourse_claims
from redress.store.db import unit_of_work
from redress.store.models import Claim, ClaimLine

# Internal shares of fault as a court might set them in a case like the demo's (illustrative).
LIABLE = (("issuer", "发行人 Issuer", "issuer", 5000), ("controller", "控股股东 Controlling shareholder",
          "controlling_shareholder", 2000), ("sponsor", "保荐机构 Sponsor Securities Co.", "sponsor", 1500),
          ("audit_a", "会计师事务所甲 Audit Firm A", "auditor", 1000), ("audit_b", "会计师事务所乙 Audit Firm B",
          "auditor", 500))


@dataclass(frozen=True)
class AfterPayout:
    seed_commitment: str
    draw: Draw
    recourse: RecoursePlan
    fair_fund: list[FairFundRoundView]
    fair_fund_inflows_fen: tuple[int, ...]


def run_after(engine: Engine, case_id: str, paid_by_payer_fen: dict[str, int], seed: str, *, actor: str,
              on: dt.date) -> AfterPayout:
    with unit_of_work(engine) as s:
        claims = list(s.execute(select(Claim.investor_id, Claim.status, Claim.paid_fen, Claim.interest_fen)
                                .where(Claim.case_id == case_id).order_by(Claim.investor_id)).all())
        losses = {inv: int(fen) for inv, fen in s.execute(
            select(Claim.investor_id, func.sum(ClaimLine.compensation_fen)).join(ClaimLine, ClaimLine.claim_id == Claim.id)
            .where(Claim.case_id == case_id).group_by(Claim.investor_id)).all()}
    # a hearing: 12 investors applied for 3 investor-representative seats; the organiser committed to the
    # seed before applications closed and revealed it at the draw
    applicants = [inv for inv, *_ in claims[:: max(len(claims) // 12, 1)]][:12]
    record = draw(applicants, 3, seed, purpose="investor representatives 投资者代表")
    assert verify(record)
    # the payers' recourse: each payer paid investors in proportion to its contribution; the sponsor is itself
    # liable (15%), the audit firms too; the law firm paid without fault
    parties = [LiableParty(pid, name, kind, bp) for pid, name, kind, bp in LIABLE]
    own = {"sponsor": "sponsor", "audit_a": "audit_a", "audit_b": "audit_b", "law": None}
    plan = recourse_claims([Payment(p, fen) for p, fen in paid_by_payer_fen.items() if fen],
                           parties, {p: own[p] for p, fen in paid_by_payer_fen.items() if fen})
    # a fair fund from the issuer's fine and confiscated gains, in two rounds, net of advance compensation,
    # kept in the case's database (sources and rounds append-only)
    eligible = [Eligible(inv, losses.get(inv, 0), paid - interest if status == "accepted" else 0)
                for inv, status, paid, interest in claims]
    declined_loss = sum(e.loss_fen - e.advance_paid_fen for e in eligible)
    inflows = (int(declined_loss * 0.6), int(declined_loss * 0.6))
    history = []
    with unit_of_work(engine) as s:
        fairfunds.establish(s, actor, case_id, 1000, "investor protection fund 投资者保护基金", on=on)
    for k, (kind, fen) in enumerate(zip(("fine", "confiscation"), inflows, strict=True)):
        with unit_of_work(engine) as s:
            fairfunds.add_source(s, actor, case_id, kind, fen, f"demo-{kind}", on + dt.timedelta(days=30 * k))
            r = fairfunds.run_round(s, actor, case_id, on + dt.timedelta(days=30 * k + 1))
            history.append(FairFundRoundView(r.number, r.available_fen, r.paid_fen, r.residual_fen,
                                             r.residual_destination, fairfunds.payments(s, r.id)))
    return AfterPayout(commitment(seed), record, plan, history, inflows)


@dataclass(frozen=True)
class FairFundRoundView:
    number: int
    available_fen: int
    paid_fen: int
    residual_fen: int
    residual_destination: str
    payments: dict[str, int]


def demo_seed(case_id: str) -> str:
    """The demo's seed: published in advance in a real hearing; derived from the case here so runs repeat."""
    return hashlib.sha256(f"redress-demo-hearing:{case_id}".encode()).hexdigest()
