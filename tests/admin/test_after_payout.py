"""The demo's steps before and after the payout, on small cases and both databases: the hearing (lot,
plans compared, decision), recourse booked and passed on to the payers, and a fair fund paid through batches."""

from __future__ import annotations

import datetime as dt
import shutil

from sqlalchemy import func, select

from redress.admin import after, cases, claims, fairfunds, fund, payments, recovery
from redress.hearing import Draw, verify
from redress.store import audit
from redress.store.db import unit_of_work
from redress.store.models import LedgerPosting
from support.admin import LEGAL_A, open_case, users

D = dt.date
PAYERS = {"sponsor": 700_000_00, "audit_a": 120_000_00, "audit_b": 100_000_00, "law": 80_000_00}


def test_a_hearing_with_a_lot_two_plans_a_comparison_and_a_decision(db, tmp_path):
    url, engine = db
    users(engine)
    case_dir = tmp_path / "case"
    shutil.copytree(LEGAL_A, case_dir)
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", "heard", "Heard case")
    applicants = [f"INV{i:03d}" for i in range(12)]
    h = after.hold_hearing(engine, "heard", case_dir, applicants, ["Sponsor rep", "Auditor rep"], actor="alice",
                           started_on=D(2023, 1, 3), say=lambda _m: None)
    assert h["status"] == "decided" and h["seed"] == after.demo_seed("heard")
    sides = sorted(m["side"] for m in h["members"])
    assert sides == ["investor_lawyer", "investor_representative", "payer", "payer"]   # balanced
    assert all(d["verified"] and verify(Draw.from_json(d["record"])) for d in h["draws"])
    assert [r["plan"] for r in h["comparison"]["table"]] == ["case.toml", "A", "B"]
    assert [p["label"] for p in h["plans"]] == ["A", "B"] and h["decided_on"] <= h["deadline"]


def test_recourse_and_a_fair_fund_after_the_payout(db, tmp_path):
    offers = {f"INV{i:02d}": (i + 1) * 100_00 for i in range(14)}
    w = open_case(db, tmp_path, offers, contributions=PAYERS)
    accepted = [f"INV{i:02d}" for i in range(10)]
    w.decide(*(w.decision(i) for i in accepted), w.decision("INV10", "decline"))
    rows = w.export(w.pay_batch(D(2023, 2, 15)))
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, w.results_file(
            "r.csv", [(r[0], "paid", r[4], "2023-02-17", "") for r in rows]))
        claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
        payments.complete_payments(s, "alice", w.case_id)
        ap = payments.propose_surplus_return(s, "alice", w.case_id, D(2023, 3, 10)).id
    w.approve(ap)
    with w.tx() as s:
        statement_before = fund.statement(s, w.case_id)
    got = after.pursue_recovery(w.engine, w.case_id, actor="alice", on=D(2023, 4, 1))
    with w.tx() as s:
        plan = recovery.plan(s, w.case_id)
    by_party = {r.party_id: r for r in got["report"]}
    issuer_claim = sum(c.amount_fen for c in plan.claims_against("issuer"))
    controller_expected = sum(c.expected_fen for c in plan.claims_against("controller"))
    assert by_party["issuer"].recovered_fen == issuer_claim * 6 // 10
    assert by_party["controller"].recovered_fen == controller_expected < by_party["controller"].claim_fen
    assert by_party["issuer"].latest_stage == "judgment" and by_party["audit_a"].latest_stage is None
    assert sum(got["received"].values()) == issuer_claim * 6 // 10 + controller_expected
    with w.tx() as s:
        assert fund.statement(s, w.case_id) == statement_before      # memorandum entries: the fund is unchanged
        assert s.scalar(select(func.sum(LedgerPosting.amount_fen))) == 0
        payments.close_case(s, "alice", w.case_id, "closed")
        uncompensated = sum(e.loss_fen - e.advance_paid_fen for e in fairfunds.eligible(s, w.case_id))
    assert uncompensated == sum(offers[i] for i in offers if i not in accepted)
    ff = after.run_fair_fund(w.engine, w.case_id, tmp_path / "ff", actor="alice", approver="bob", on=D(2023, 9, 1),
                             fine_fen=uncompensated * 6 // 10, confiscation_fen=uncompensated * 6 // 10)
    assert ff.sources_fen == 2 * (uncompensated * 6 // 10)
    assert ff.transferred_fen == ff.paid_fen and ff.in_flight_fen == ff.awaiting_fen == 0
    assert ff.sources_fen == ff.paid_fen + ff.residual_sent_fen + ff.held_fen
    assert all(ff.paid_by_investor.get(i, 0) == 0 for i in accepted)
    assert all(ff.paid_by_investor.get(i, 0) <= offers[i] for i in offers)
    assert ff.paid_fen == uncompensated                 # 120% of the uncompensated loss came in: all paid
    with w.tx() as s:
        assert audit.verify(s).ok
