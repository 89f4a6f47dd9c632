"""The demo's year of the protection fund on both databases: every service together leaves the books
balanced, every levy paid, the failed firm's claimants paid and the report reconciled."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from redress.admin.ipf import book, levies
from redress.admin.ipf.demo import YEAR, run_protection_fund
from redress.store import audit
from redress.store.db import unit_of_work
from redress.store.models import AuditEvent
from support.admin import users


def test_a_year_of_the_protection_fund(db, tmp_path):
    url, engine = db
    users(engine)
    res = run_protection_fund(engine, tmp_path, operator="alice", approver="bob", say=lambda _m: None)
    st = res["statement"]
    assert res["trial"].balanced and st.in_transit_fen == 0
    assert st.levy_receivable_fen == 0 and st.refunds_payable_fen == 0          # every levy paid, refunds made
    firm = res["firm"]
    assert firm.paid_fen == firm.to_pay_fen and firm.in_flight_fen == firm.owed_fen == 0
    assert firm.held == 0 and st.subrogated_fen == firm.subrogated_fen - firm.recovered_fen
    assert res["xlsx"].read_bytes()[:2] == b"PK" and res["pdf"].read_bytes()[:5] == b"%PDF-"
    with unit_of_work(engine) as s:
        assert audit.verify(s).ok
        assert res["report"].closing == book.fund_statement(s, res["report"].end)   # the report's close is the books'
        assert not levies.overdue_report(s, dt.date(YEAR + 1, 12, 31))
        refused = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "ipf.investment_refused"))
        assert refused == 1                                              # the refused stock purchase is on record
        assert book.fund_statement(s) == st
