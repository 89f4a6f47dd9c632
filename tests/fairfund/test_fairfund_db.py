"""The fair fund of an administered case, on both databases: sources recorded once, rounds distributed over
the investors' net claims (loss minus advance compensation), exact reconciliation, audit and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from redress.admin import claims, fairfunds, payments
from redress.admin.errors import AdminError, BadInput
from redress.cli.main import app
from redress.fairfund.distribution import CARRIED_FORWARD
from redress.ledger.allocation import allocate
from redress.store import audit
from redress.store.models import AuditEvent, FairFundRound, FairFundSource, LedgerEntry
from support.admin import open_case

D = dt.date
OFFERS = {f"INV{i:02d}": (i + 1) * 100_00 + i for i in range(6)}
ACCEPTED = ["INV00", "INV01", "INV02"]
DECLINED = ["INV03", "INV04"]            # INV05 never answers: still owed the whole loss
UNPAID = {i: OFFERS[i] for i in OFFERS if i not in ACCEPTED}


def _case(db, tmp_path):
    """Three accepted awards paid in full (advance compensation), two declined, one unanswered (lapsed); the
    advance compensation complete, so the fair fund's netting is final."""
    w = open_case(db, tmp_path, OFFERS)
    w.decide(*(w.decision(i) for i in ACCEPTED), *(w.decision(i, "decline") for i in DECLINED))
    rows = w.export(w.pay_batch(D(2023, 2, 15)))
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, w.results_file(
            "r.csv", [(r[0], "paid", r[4], "2023-02-17", "") for r in rows]))
        claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
        payments.complete_payments(s, "alice", w.case_id)
    return w


def _ledger_count(s, case_id):
    return s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.case_id == case_id))


def test_two_sources_two_rounds_reconcile_to_the_fen(db, tmp_path):
    w = _case(db, tmp_path)
    cid = w.case_id
    with w.tx() as s:
        ledger_before = _ledger_count(s, cid)
        fairfunds.establish(s, "alice", cid, 0, "treasury", on=D(2023, 5, 1))
        el = {e.investor_id: e for e in fairfunds.eligible(s, cid)}
        assert set(el) == set(OFFERS)
        for inv in ACCEPTED:        # paid in full already: nothing more is due
            assert el[inv].loss_fen == OFFERS[inv] == el[inv].advance_paid_fen
        for inv in UNPAID:
            assert (el[inv].loss_fen, el[inv].advance_paid_fen) == (OFFERS[inv], 0)
        fairfunds.add_source(s, "alice", cid, "fine", 700_00, "罚字[2023]1号", D(2023, 5, 2))
    with w.tx() as s:
        # the same source again changes nothing; the reference with different content is refused
        again = fairfunds.add_source(s, "alice", cid, "fine", 700_00, "罚字[2023]1号", D(2023, 5, 2))
        assert again.amount_fen == 700_00
        with pytest.raises(AdminError, match="already used"):
            fairfunds.add_source(s, "alice", cid, "fine", 700_01, "罚字[2023]1号", D(2023, 5, 2))
        assert len(fairfunds.sources(s, cid)) == 1

    with w.tx() as s:
        r1 = fairfunds.run_round(s, "alice", cid, D(2023, 6, 1))
        p1 = fairfunds.payments(s, r1.id)
        assert (r1.number, r1.available_fen, r1.paid_fen, r1.residual_fen) == (1, 700_00, 700_00, 0)
        assert r1.residual_destination == CARRIED_FORWARD
        assert p1 == {**{i: 0 for i in ACCEPTED}, **allocate(700_00, UNPAID).shares_fen}
        with pytest.raises(AdminError, match="no money"):
            fairfunds.run_round(s, "alice", cid, D(2023, 6, 2))

    with w.tx() as s:
        fairfunds.add_source(s, "alice", cid, "settlement", 2000_00, "和解[2023]7号", D(2023, 7, 1))
        r2 = fairfunds.run_round(s, "alice", cid, D(2023, 7, 15))
        p2 = fairfunds.payments(s, r2.id)
        due = sum(UNPAID.values()) - 700_00
        assert (r2.number, r2.available_fen, r2.carried_in_fen, r2.paid_fen) == (2, 2000_00, 0, due)
        assert (r2.residual_fen, r2.residual_destination) == (2000_00 - due, "treasury")
        assert sum(p2.values()) == r2.paid_fen

    with w.tx() as s:
        st = fairfunds.statement(s, cid)
        assert (st.sources_fen, st.paid_fen, st.residual_sent_fen, st.held_fen) == (
            2700_00, sum(UNPAID.values()), 2000_00 - due, 0)
        assert st.sources_fen == st.paid_fen + st.residual_sent_fen + st.held_fen
        # every unpaid investor is made whole, nobody beyond the net loss, the accepted get nothing
        assert st.paid_by_investor == {**{i: 0 for i in ACCEPTED}, **UNPAID}
        with pytest.raises(AdminError, match="no money"):
            fairfunds.run_round(s, "alice", cid, D(2023, 8, 1))
        # the special fund's books are untouched
        assert _ledger_count(s, cid) == ledger_before
        assert audit.verify(s).ok
        actions = [a for (a,) in s.execute(select(AuditEvent.action).where(AuditEvent.case_id == cid)
                                           .where(AuditEvent.action.like("fairfund.%")).order_by(AuditEvent.seq))]
        assert actions == ["fairfund.establish", "fairfund.source", "fairfund.round", "fairfund.source",
                           "fairfund.round"]


def test_short_fund_with_a_minimum_carries_forward_and_refusals_change_nothing(db, tmp_path):
    w = _case(db, tmp_path)
    cid = w.case_id
    with w.tx() as s:
        with pytest.raises(AdminError, match="no fair fund"):
            fairfunds.add_source(s, "alice", cid, "fine", 1_00, "F-0", D(2023, 5, 1))
        with pytest.raises(BadInput):
            fairfunds.establish(s, "alice", cid, -1, "treasury")
        with pytest.raises(AdminError):
            fairfunds.establish(s, "bob", cid, 0, "treasury")
        fairfunds.establish(s, "alice", cid, 150_00, "investor protection fund", on=D(2023, 5, 1))
        fairfunds.establish(s, "alice", cid, 150_00, "investor protection fund")   # same plan: no-op
        with pytest.raises(AdminError, match="different plan"):
            fairfunds.establish(s, "alice", cid, 0, "treasury")
        with pytest.raises(BadInput):
            fairfunds.add_source(s, "alice", cid, "gift", 1_00, "F-1", D(2023, 5, 1))
        with pytest.raises(BadInput):
            fairfunds.add_source(s, "alice", cid, "fine", 0, "F-1", D(2023, 5, 1))
        fairfunds.add_source(s, "alice", cid, "confiscation", 500_00, "没收[2023]2号", D(2023, 5, 2))
    with w.tx() as s:
        r1 = fairfunds.run_round(s, "alice", cid, D(2023, 6, 1))
        p1 = fairfunds.payments(s, r1.id)
        assert r1.available_fen == r1.paid_fen + r1.residual_fen == 500_00
        # the smallest claim's share (400_03 of 1500_12, times 500_00) is below 150_00: it is spread over the rest
        assert p1["INV03"] == 0 and all(p1[i] >= 150_00 for i in ("INV04", "INV05"))
        assert r1.residual_destination == CARRIED_FORWARD
        for inv, fen in p1.items():
            assert fen <= (UNPAID.get(inv, 0))
    with w.tx() as s:
        fairfunds.add_source(s, "alice", cid, "fine", 3000_00, "罚字[2023]9号", D(2023, 8, 1))
        r2 = fairfunds.run_round(s, "alice", cid, D(2023, 8, 2))
        st = fairfunds.statement(s, cid)
        assert st.paid_by_investor == {**{i: 0 for i in ACCEPTED}, **UNPAID}
        assert st.sources_fen == 3500_00 == st.paid_fen + st.residual_sent_fen + st.held_fen
        assert r2.residual_destination == "investor protection fund" and st.held_fen == 0
    # the fund's history is append-only in the database itself
    with pytest.raises(DatabaseError):
        with w.tx() as s:
            s.execute(update(FairFundRound).where(FairFundRound.case_id == cid).values(paid_fen=0, residual_fen=0))
    with pytest.raises(DatabaseError):
        with w.tx() as s:
            s.execute(update(FairFundSource).where(FairFundSource.case_id == cid).values(amount_fen=1))
    with w.tx() as s:
        assert fairfunds.statement(s, cid).sources_fen == 3500_00
        assert audit.verify(s).ok


def test_cli_establish_source_round_show(db, tmp_path):
    w = _case(db, tmp_path)
    runner = CliRunner()

    def cli(*args: str, code: int = 0):
        res = runner.invoke(app, ["fairfund-case", *args],
                            env={"REDRESS_DATABASE_URL": w.url, "REDRESS_USER": "alice", "COLUMNS": "200"})
        assert res.exit_code == code, res.output
        return res.output

    cli("establish", w.case_id, "--residual-to", "treasury", "--on", "2023-05-01")
    cli("source", w.case_id, "--kind", "fine", "--amount", "700.00", "--ref", "F-1", "--on", "2023-05-02")
    cli("source", w.case_id, "--kind", "fine", "--amount", "700.00", "--ref", "F-1", "--on", "2023-05-02")
    cli("source", w.case_id, "--kind", "fine", "--amount", "1.00", "--ref", "F-1", "--on", "2023-05-02", code=2)
    assert "Round 1" in cli("round", w.case_id, "--on", "2023-06-01")
    cli("round", w.case_id, "--on", "2023-06-02", code=2)
    shown = cli("show", w.case_id)
    assert "F-1" in shown and "INV05" in shown and "700.00" in shown
    with w.tx() as s:
        assert fairfunds.statement(s, w.case_id).paid_fen == 700_00
