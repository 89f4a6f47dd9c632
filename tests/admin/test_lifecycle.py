"""The whole lifecycle on both databases, and the state machine refusing what is out of order."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from redress.admin import approvals, cases, claims, fund, payments
from redress.admin.errors import AdminError, Forbidden
from redress.claims.lifecycle import TRANSITIONS, CaseState, IllegalTransition, check_transition
from redress.store import audit
from redress.store.models import Assignment, Claim, Transition
from support.admin import open_case

D = dt.date


def test_full_lifecycle_pays_every_acceptor_once_and_returns_the_surplus(db, tmp_path):
    offers = {"INV1": 100_00, "INV2": 2_500_37, "INV3": 77, "INV4": 10_000_00, "INV5": 5_00}
    w = open_case(db, tmp_path, offers, contributions={"sponsor": 20_000_00, "auditor": 5_000_00})
    w.decide(w.decision("INV1"), w.decision("INV2"), w.decision("INV3", "decline"), w.decision("INV4"))
    with w.tx() as s:
        fund.interest(s, "alice", w.case_id, 1_01, D(2023, 2, 20), "INT-1")
    number = w.pay_batch(D(2023, 2, 15))
    rows = w.export(number)
    assert sorted(r[3] for r in rows) == ["INV1", "INV2", "INV4"]
    returned = next(r for r in rows if r[3] == "INV2")
    res = w.results_file("r1.csv", [(r[0], "returned" if r is returned else "paid", r[4], "2023-02-17",
                                     "account closed" if r is returned else "") for r in rows])
    with w.tx() as s:
        rep = payments.import_results(s, "alice", w.case_id, res)
    assert (rep.paid, rep.returned) == (2, 1)
    with w.tx() as s:
        out = claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
        assert out["lapsed"] == 1                       # INV5 never answered
        claims.distribute_interest(s, "alice", w.case_id, D(2023, 3, 3))
    number = w.pay_batch(D(2023, 3, 4))
    rows = w.export(number)
    assert sorted(r[3] for r in rows) == ["INV1", "INV2", "INV4"]   # INV2 retried; interest for all three
    res = w.results_file("r2.csv", [(r[0], "paid", r[4], "2023-03-06", "") for r in rows])
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, res)
        assert payments.reconcile(s, w.case_id).ok
        payments.complete_payments(s, "alice", w.case_id)
        ap_id = payments.propose_surplus_return(s, "alice", w.case_id, D(2023, 3, 10)).id
    w.approve(ap_id)
    with w.tx() as s:
        payments.close_case(s, "alice", w.case_id, "all paid, surplus returned")
        st = fund.statement(s, w.case_id)
        paid = {c.investor_id: c.paid_fen for c in s.execute(select(Claim)).scalars()}
        assert audit.verify(s).ok
        assert [t.to_state for t in s.execute(select(Transition).order_by(Transition.id)).scalars()] == [
            "fund_established", "plan_approved", "claims_open", "claims_closed", "payments_complete", "liquidated",
            "closed"]
        assigned = s.execute(select(Assignment)).scalars().all()
    accepted = offers["INV1"] + offers["INV2"] + offers["INV4"]
    assert st.compensation_awarded_fen == accepted
    assert st.interest_awarded_fen == 1_01
    assert sum(paid.values()) == accepted + 1_01 and paid["INV3"] == paid["INV5"] == 0
    assert all(paid[i] >= offers[i] for i in ("INV1", "INV2", "INV4"))
    surplus = 25_000_00 - accepted
    assert st.returned_fen == surplus and st.trust_cash_fen == 0
    # returned in proportion to contributions (4:1), to the fen
    assert abs(st.surplus_returned_fen["sponsor"] - surplus * 4 / 5) <= 1
    # claims against the other liable parties pass to the payers, in proportion, to the fen
    by_claim: dict[int, int] = {}
    for a in assigned:
        by_claim[a.claim_id] = by_claim.get(a.claim_id, 0) + a.amount_fen
    assert sorted(by_claim.values()) == sorted(offers[i] for i in ("INV1", "INV2", "INV4"))


def test_state_machine_allows_only_the_listed_transitions():
    for current in CaseState:
        for target in CaseState:
            if target in TRANSITIONS[current]:
                check_transition("c", current, target)
            else:
                with pytest.raises(IllegalTransition):
                    check_transition("c", current, target)


def test_out_of_order_operations_are_refused_and_change_nothing(db, tmp_path):
    w = open_case(db, tmp_path, {"INV1": 100_00})
    with pytest.raises(AdminError, match="claims_open: cannot complete payments"):
        with w.tx() as s:
            payments.complete_payments(s, "alice", w.case_id)
    with pytest.raises(AdminError, match="deadline is 2023-03-01"):
        with w.tx() as s:
            claims.close_claims(s, "alice", w.case_id, D(2023, 2, 20))
    with pytest.raises(AdminError, match="cannot add a payer"):
        with w.tx() as s:
            cases.add_payer(s, "alice", w.case_id, "late", "Late Payer", "law_firm", 1)
    with w.tx() as s:
        assert cases.get_case(s, w.case_id).state == "claims_open"
        assert audit.verify(s).ok


def test_maker_cannot_check_their_own_request(db, tmp_path):
    w = open_case(db, tmp_path, {"INV1": 100_00})
    w.decide(w.decision("INV1"))
    with w.tx() as s:
        cases.add_user(s, "root", "dave", "Dave", ["operator", "approver"])
    with w.tx() as s:
        ap_id = payments.propose_batch(s, "dave", w.case_id, D(2023, 2, 15)).id
    with pytest.raises(Forbidden, match="cannot also approve"):
        with w.tx() as s:
            approvals.decide(s, "dave", ap_id, True)
    with pytest.raises(Forbidden, match="approver role"):
        with w.tx() as s:
            approvals.decide(s, "carol", ap_id, True)
    with pytest.raises(AdminError, match="waiting for approval"):
        with w.tx() as s:
            payments.export_batch(s, "alice", w.case_id, 1, tmp_path / "out")
    assert w.approve(ap_id).status == "released"


def test_deadline_extension_late_window_and_lapse(db, tmp_path):
    w = open_case(db, tmp_path, {"INV1": 100_00, "INV2": 200_00, "INV3": 300_00})
    with pytest.raises(Exception, match="never shortened"):
        with w.tx() as s:
            claims.extend_deadline(s, "alice", w.case_id, D(2023, 2, 20), "typo")
    with w.tx() as s:
        claims.extend_deadline(s, "alice", w.case_id, D(2023, 3, 15), "many investors asked for time")
    w.decide(w.decision("INV1", on=D(2023, 3, 10)))     # after the original deadline, within the extension
    with pytest.raises(Exception, match="after the deadline"):
        w.decide(w.decision("INV2", on=D(2023, 3, 16)))
    with w.tx() as s:
        assert claims.close_claims(s, "alice", w.case_id, D(2023, 3, 16))["lapsed"] == 2
        claims.reopen_late_window(s, "alice", w.case_id, D(2023, 4, 15), "second chance for lapsed investors")
    with pytest.raises(Exception, match="already accepted"):
        w.decide(w.decision("INV1", on=D(2023, 4, 1), key="again"))
    w.decide(w.decision("INV2", on=D(2023, 4, 1)))
    with w.tx() as s:
        claims.close_late_window(s, "alice", w.case_id, D(2023, 4, 16))
        statuses = {c.investor_id: (c.status, c.late, c.awarded_fen) for c in s.execute(select(Claim)).scalars()}
    assert statuses == {"INV1": ("accepted", False, 100_00), "INV2": ("accepted", True, 200_00),
                        "INV3": ("lapsed", False, 0)}


def test_short_fund_is_allocated_pro_rata_to_the_fen(db, tmp_path):
    offers = {"A": 1_00, "B": 1_00, "C": 1_00, "D": 7_00}
    w = open_case(db, tmp_path, offers, contributions={"sponsor": 5_00})   # half of what was offered
    w.decide(*(w.decision(i) for i in ("A", "B", "C")))
    with w.tx() as s:
        assert not cases.get_case(s, w.case_id).fully_funded
        out = claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
        awarded = {c.investor_id: c.awarded_fen for c in s.execute(select(Claim)).scalars()}
    # 3.00 yuan claimed by acceptors, 5.00 in the fund: paid in full
    assert out["allocated_fen"] == 3_00 and awarded == {"A": 1_00, "B": 1_00, "C": 1_00, "D": 0}


def test_short_fund_with_remainders(db, tmp_path):
    offers = {"A": 1_00, "B": 1_00, "C": 1_00}
    w = open_case(db, tmp_path, offers, contributions={"sponsor": 2_00})
    w.decide(*(w.decision(i) for i in offers))
    with w.tx() as s:
        out = claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
        awarded = {c.investor_id: c.awarded_fen for c in s.execute(select(Claim)).scalars()}
    assert out == {"lapsed": 0, "budget_fen": 2_00, "claimed_fen": 3_00, "allocated_fen": 2_00, "shortfall_fen": 1_00}
    assert sorted(awarded.values()) == [66, 67, 67] and sum(awarded.values()) == 2_00


def test_a_rejected_batch_is_cancelled_and_its_claims_go_in_the_next(db, tmp_path):
    w = open_case(db, tmp_path, {"INV1": 100_00, "INV2": 50_00})
    w.decide(w.decision("INV1"), w.decision("INV2"))
    with w.tx() as s:
        ap_id = payments.propose_batch(s, "alice", w.case_id, D(2023, 2, 15)).id
    with pytest.raises(AdminError, match="nothing to pay"):
        with w.tx() as s:
            payments.propose_batch(s, "alice", w.case_id, D(2023, 2, 15))
    with w.tx() as s:
        approvals.decide(s, "bob", ap_id, False, "wrong date")
    with pytest.raises(AdminError, match="cancelled"):
        with w.tx() as s:
            payments.export_batch(s, "alice", w.case_id, 1, tmp_path / "out")
    number = w.pay_batch(D(2023, 2, 16))
    rows = w.export(number)
    assert number == 2 and sorted((r[3], r[4]) for r in rows) == [("INV1", "100.00"), ("INV2", "50.00")]
    assert all(r[0].endswith("-2") for r in rows)            # second attempt for each claim
    with w.tx() as s:
        assert payments.reconcile(s, w.case_id).ok
        assert fund.statement(s, w.case_id).in_transit_fen == 150_00
