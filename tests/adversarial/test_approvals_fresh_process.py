"""Every maker-checker action decided by `redress approval approve|reject` in a fresh process, on SQLite and
PostgreSQL.  A process that decides an approval must know every action, whatever it happened to import: the
registry is explicit, and a rejected payment batch gives its claims back to the next batch.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from redress.admin import cases, claims, fairfunds, fund, payments
from redress.admin.approvals import REGISTRY
from redress.admin.cases import ApprovalAction
from redress.claims.lifecycle import CaseState
from redress.store.models import Approval, Case, LedgerEntry, Payment, PaymentBatch
from support.admin import CASE_ID, open_case

REDRESS = str(Path(sys.executable).with_name("redress"))


def redress(url: str, *args: str, user: str = "bob") -> subprocess.CompletedProcess:
    env = {**os.environ, "REDRESS_DATABASE_URL": url, "REDRESS_USER": user}
    return subprocess.run([REDRESS, *args], env=env, capture_output=True, text=True, timeout=120)


def decided(url: str, approval_id: int, verb: str = "approve", *extra: str) -> str:
    res = redress(url, "approval", verb, str(approval_id), *extra)
    output = res.stdout + res.stderr
    assert res.returncode == 0, output
    assert "Traceback" not in output
    return output


def test_the_registry_covers_every_action():
    assert set(REGISTRY) == set(ApprovalAction)


def test_every_action_is_decided_in_a_fresh_process(db, tmp_path):
    url, engine = db
    w = open_case(db, tmp_path, {"INV001": 1_000_00, "INV002": 2_500_00, "INV003": 30_00})
    w.decide(w.decision("INV001"), w.decision("INV002"), w.decision("INV003", "decline"))

    # a correction of the books: proposed here, approved by a second person in a fresh process
    with w.tx() as s:
        fund.fee(s, "alice", CASE_ID, 12_00, dt.date(2023, 2, 2), "FEE-1", "custody")
        rev = fund.propose_reversal(s, "alice", CASE_ID, "fee:FEE-1", dt.date(2023, 2, 3), "charged twice").id
    decided(url, rev)
    with w.tx() as s:
        assert s.execute(select(LedgerEntry.reverses).where(LedgerEntry.key == "reversal:fee:FEE-1")
                         ).scalar_one() == "fee:FEE-1"

    # a payment batch rejected in a fresh process: its payments are cancelled and the claims wait for the next
    with w.tx() as s:
        first = payments.propose_batch(s, "alice", CASE_ID, dt.date(2023, 2, 15)).id
    out = redress(url, "approval", "reject", str(first))
    assert out.returncode != 0 and "note" in (out.stdout + out.stderr) and "Traceback" not in out.stderr
    decided(url, first, "reject", "--note", "wrong settlement date")
    with w.tx() as s:
        batch = s.execute(select(PaymentBatch).where(PaymentBatch.approval_id == first)).scalar_one()
        assert batch.status == "cancelled"
        assert set(s.execute(select(Payment.status).where(Payment.batch_id == batch.id)).scalars()) == {"cancelled"}
        second = payments.propose_batch(s, "alice", CASE_ID, dt.date(2023, 2, 16))
        second_id, total = second.id, cases.payload(second)["total_fen"]
    assert total == 3_500_00
    decided(url, second_id)
    with w.tx() as s:
        assert s.execute(select(PaymentBatch.status).where(PaymentBatch.approval_id == second_id)).scalar_one() \
            == "released"
        assert fund.statement(s, CASE_ID).in_transit_fen == 3_500_00
    with w.tx() as s:
        number = s.execute(select(PaymentBatch.number).where(PaymentBatch.approval_id == second_id)).scalar_one()
    rows = w.export(number)
    with w.tx() as s:
        payments.import_results(s, "alice", CASE_ID, w.results_file(
            "results-1.csv", [(r[0], "paid", r[4], "2023-02-17", "") for r in rows]))
        claims.close_claims(s, "alice", CASE_ID, dt.date(2023, 3, 2))
        payments.complete_payments(s, "alice", CASE_ID)
        ret = payments.propose_surplus_return(s, "alice", CASE_ID, dt.date(2023, 3, 5)).id
    decided(url, ret)
    with w.tx() as s:
        assert s.get(Case, CASE_ID).state == CaseState.LIQUIDATED
        assert fund.statement(s, CASE_ID).trust_cash_fen == 0
        pending = s.execute(select(func.count()).select_from(Approval).where(Approval.status == "pending")
                            ).scalar_one()
    assert pending == 0


def test_a_fair_fund_batch_is_released_in_a_fresh_process(db, tmp_path):
    """The fair-fund batch's executor lives in its own module, which `redress approval` does not import itself;
    a rejected fair-fund batch is cancelled and what it held is owed again."""
    url, _engine = db
    w = open_case(db, tmp_path, {"INV001": 1_000_00, "INV002": 2_500_00})
    w.decide(w.decision("INV001"), w.decision("INV002", "decline"))     # the fair fund pays INV002's loss
    with w.tx() as s:
        fairfunds.establish(s, "alice", CASE_ID, 0, "treasury", on=dt.date(2023, 2, 5))
        fairfunds.add_source(s, "alice", CASE_ID, "fine", 700_00, "罚字[2023]5号", dt.date(2023, 2, 6))
    rows = w.export(w.pay_batch(dt.date(2023, 2, 15)))
    with w.tx() as s:
        payments.import_results(s, "alice", CASE_ID, w.results_file(
            "r.csv", [(r[0], "paid", r[4], "2023-02-17", "") for r in rows]))
        claims.close_claims(s, "alice", CASE_ID, dt.date(2023, 3, 2))
        payments.complete_payments(s, "alice", CASE_ID)
        fairfunds.run_round(s, "alice", CASE_ID, dt.date(2023, 3, 10))
        first = fairfunds.propose_batch(s, "alice", CASE_ID, dt.date(2023, 3, 12)).id
    decided(url, first, "reject", "--note", "wrong date")
    with w.tx() as s:
        assert [b.status for b in fairfunds.batches(s, CASE_ID)] == ["cancelled"]
        assert fairfunds.statement(s, CASE_ID).awaiting_fen == 700_00
        second = fairfunds.propose_batch(s, "alice", CASE_ID, dt.date(2023, 3, 13)).id
    decided(url, second)
    with w.tx() as s:
        assert [b.status for b in fairfunds.batches(s, CASE_ID)] == ["cancelled", "released"]
        assert fairfunds.statement(s, CASE_ID).in_flight_fen == 700_00
