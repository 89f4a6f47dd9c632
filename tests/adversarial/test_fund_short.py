"""Money reversed out of a fund while claims are open: a second person must approve it, money already owed to
investors cannot leave, and a fund that no longer covers the offers stops awarding in full (pro rata at close),
with an alert for staff.  On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from redress.admin import approvals, claims, fund
from redress.admin.errors import AdminError, BadInput, Forbidden
from redress.claims.lifecycle import ClaimStatus
from redress.store import audit
from redress.store.models import AuditEvent, Claim
from support.admin import CASE_ID, open_case

OFFERS = {"INV001": 40_000_00, "INV002": 30_000_00, "INV003": 20_000_00, "INV004": 10_000_00}
D = dt.date


def test_one_operator_cannot_reverse_a_contribution_alone(db, tmp_path):
    w = open_case(db, tmp_path, OFFERS, {"sponsor": 100_000_00})
    with w.tx() as s:
        ap = fund.propose_reversal(s, "alice", CASE_ID, "contribution:BANK-sponsor", D(2023, 2, 2), "typo").id
        assert fund.statement(s, CASE_ID).trust_cash_fen == 100_000_00      # nothing moved yet
    with pytest.raises(Forbidden):
        with w.tx() as s:
            approvals.decide(s, "alice", ap, True)
    with pytest.raises(BadInput, match="note"):
        with w.tx() as s:
            approvals.decide(s, "bob", ap, False)
    with w.tx() as s:
        approvals.decide(s, "bob", ap, False, "the bank confirms the money arrived")
        assert fund.statement(s, CASE_ID).trust_cash_fen == 100_000_00


def test_money_owed_to_investors_cannot_be_reversed_out(db, tmp_path):
    w = open_case(db, tmp_path, OFFERS, {"sponsor": 100_000_00, "law": 5_000_00})
    w.decide(w.decision("INV001"), w.decision("INV002"))          # 70,000 yuan now owed
    with w.tx() as s:
        ap = fund.propose_reversal(s, "alice", CASE_ID, "contribution:BANK-sponsor", D(2023, 2, 12), "typo").id
    with pytest.raises(AdminError, match="short of what it already owes"):
        with w.tx() as s:
            approvals.decide(s, "bob", ap, True)
    with w.tx() as s:
        assert fund.statement(s, CASE_ID).payable_fen == 70_000_00
        assert fund.statement(s, CASE_ID).trust_cash_fen == 105_000_00


def test_a_fund_that_falls_short_switches_to_pro_rata(db, tmp_path):
    w = open_case(db, tmp_path, OFFERS, {"sponsor": 60_000_00, "law": 40_000_00})
    w.decide(w.decision("INV001"))                                # 40,000 awarded in full; 60,000 free
    with w.tx() as s:
        assert claims.funding_alerts(s, CASE_ID) == []
        ap = fund.propose_reversal(s, "alice", CASE_ID, "contribution:BANK-law", D(2023, 2, 12),
                                   "paid into the wrong fund").id
    with w.tx() as s:
        approvals.decide(s, "bob", ap, True)                       # 20,000 free against 60,000 still offered
        alerts = claims.funding_alerts(s, CASE_ID)
    assert len(alerts) == 1 and "20,000.00" in alerts[0] and "60,000.00" in alerts[0]

    w.decide(w.decision("INV002"), w.decision("INV003"))          # 50,000 accepted: more than is free
    with w.tx() as s:
        by_id = {c.investor_id: c for c in s.execute(select(Claim).where(Claim.case_id == CASE_ID)).scalars()}
        assert by_id["INV001"].awarded_fen == 40_000_00            # the award made before stands
        assert by_id["INV002"].awarded_fen == by_id["INV003"].awarded_fen == 0
        assert "pro rata" in claims.funding_alerts(s, CASE_ID)[0]
        short = s.execute(select(AuditEvent).where(AuditEvent.action == "fund.short")).scalar_one()
        assert '"free_fen":2000000' in short.detail
    w.decide(w.decision("INV004"))
    with w.tx() as s:
        result = claims.close_claims(s, "alice", CASE_ID, D(2023, 3, 2))
        by_id = {c.investor_id: c for c in s.execute(select(Claim).where(Claim.case_id == CASE_ID)).scalars()}
        st = fund.statement(s, CASE_ID)
        assert audit.verify(s).ok
    # 20,000 yuan free shared over 60,000 accepted after the switch: a third each, to the fen
    assert result["allocated_fen"] == 20_000_00 and result["claimed_fen"] == 60_000_00
    assert {i: c.awarded_fen for i, c in by_id.items()} == {"INV001": 40_000_00, "INV002": 10_000_00,
                                                            "INV003": 6_666_67, "INV004": 3_333_33}
    assert all(c.status == ClaimStatus.ACCEPTED for c in by_id.values())
    assert st.payable_fen == 60_000_00 == st.trust_cash_fen and st.surplus_fen == 0
