"""Paying a fair fund's allocations, on both databases: when a fair fund may be set up and distributed,
batches released by a second person, instruction files in the special fund's format, returned transfers sent
again, results imported once, and the fair fund's figures reconciling to the fen throughout."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from redress.admin import approvals, cases, claims, fairfunds, payments
from redress.admin.errors import AdminError, BadInput, Forbidden
from redress.cli.main import app
from redress.ledger.allocation import allocate
from redress.store import audit
from redress.store.models import AuditEvent, FairFundTransfer, LedgerEntry
from support.admin import fen_text, open_case

D = dt.date
OFFERS = {f"INV{i:02d}": (i + 1) * 100_00 + i for i in range(6)}
ACCEPTED = ["INV00", "INV01"]
NET = {i: OFFERS[i] for i in OFFERS if i not in ACCEPTED}    # declined or lapsed: the whole loss is still due
FINE = 900_00                                                # short: shared pro rata over NET


def _settled_case(db, tmp_path):
    w = open_case(db, tmp_path, OFFERS)
    w.decide(*(w.decision(i) for i in ACCEPTED), w.decision("INV02", "decline"))
    with w.tx() as s:   # the fund may be set up while claims are open, but not distributed yet
        fairfunds.establish(s, "alice", w.case_id, 0, "treasury", on=D(2023, 2, 5))
        fairfunds.add_source(s, "alice", w.case_id, "fine", FINE, "罚字[2023]5号", D(2023, 2, 6))
        with pytest.raises(AdminError, match="payments_complete"):
            fairfunds.run_round(s, "alice", w.case_id, D(2023, 2, 7))
    rows = w.export(w.pay_batch(D(2023, 2, 15)))
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, w.results_file(
            "r.csv", [(r[0], "paid", r[4], "2023-02-17", "") for r in rows]))
        claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
        payments.complete_payments(s, "alice", w.case_id)
        fairfunds.run_round(s, "alice", w.case_id, D(2023, 3, 10))
    return w


def _export(w, number):
    with w.tx() as s:
        path, manifest = fairfunds.export_batch(s, "alice", w.case_id, number, w.root / "ff")
    return path, [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()[1:]]


def _counts(s, case_id):
    return (s.scalar(select(func.count()).select_from(FairFundTransfer)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
            s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.case_id == case_id)))


def test_a_fair_fund_needs_claims_before_it_is_set_up(db, tmp_path):
    url, engine = db
    from support.admin import users
    from redress.store.db import unit_of_work

    users(engine)
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", "draft-case", "A case in draft")
    with unit_of_work(engine) as s:
        with pytest.raises(AdminError, match="draft"):
            fairfunds.establish(s, "alice", "draft-case", 0, "treasury")


def test_allocations_are_paid_through_released_batches_to_the_fen(db, tmp_path):
    w = _settled_case(db, tmp_path)
    cid = w.case_id
    share = allocate(FINE, NET).shares_fen
    with w.tx() as s:
        st = fairfunds.statement(s, cid)
        assert (st.paid_fen, st.awaiting_fen, st.transferred_fen, st.in_flight_fen) == (FINE, FINE, 0, 0)
        assert st.cash_fen == FINE
        assert sorted(fen for *_k, fen in fairfunds.owed(s, cid)) == sorted(v for v in share.values() if v)
        ledger_before = _counts(s, cid)[2]
        ap_id = fairfunds.propose_batch(s, "alice", cid, D(2023, 3, 12)).id
        with pytest.raises(AdminError, match="not released|proposed"):
            fairfunds.export_batch(s, "alice", cid, 1, w.root / "ff")
    with w.tx() as s:   # four eyes: the maker cannot release their own batch
        with pytest.raises(Forbidden):
            approvals.decide(s, "alice", ap_id, True)
    w.approve(ap_id)
    path, rows = _export(w, 1)
    first = path.read_bytes()
    assert {r[3]: r[4] for r in rows} == {inv: fen_text(fen) for inv, fen in share.items() if fen}
    assert _export(w, 1)[0].read_bytes() == first                    # byte-stable
    with w.tx() as s:
        st = fairfunds.statement(s, cid)
        assert (st.in_flight_fen, st.awaiting_fen, st.cash_fen) == (FINE, 0, 0)
        with pytest.raises(AdminError, match="nothing to pay"):
            fairfunds.propose_batch(s, "alice", cid, D(2023, 3, 13))
    # the bank returns INV05's transfer; the others are paid
    back = next(r for r in rows if r[3] == "INV05")
    res = w.results_file("ff-r1.csv", [(r[0], "returned" if r is back else "paid", r[4], "2023-03-15",
                                        "account closed" if r is back else "") for r in rows])
    with w.tx() as s:
        rep = fairfunds.import_results(s, "alice", cid, res)
        assert (rep.paid, rep.returned, rep.returned_fen) == (len(rows) - 1, 1, share["INV05"])
    with w.tx() as s:
        assert fairfunds.import_results(s, "alice", cid, res).already_imported   # the same file: nothing
        st = fairfunds.statement(s, cid)
        assert (st.transferred_fen, st.in_flight_fen, st.awaiting_fen) == (FINE - share["INV05"], 0, share["INV05"])
        assert st.cash_fen == share["INV05"]
        assert fairfunds.owed(s, cid) == [(st.rounds[0].id, "INV05", share["INV05"])]
        ap2 = fairfunds.propose_batch(s, "alice", cid, D(2023, 3, 20)).id
    w.approve(ap2)
    _path2, rows2 = _export(w, 2)
    assert [(r[3], r[4]) for r in rows2] == [("INV05", fen_text(share["INV05"]))]
    with w.tx() as s:
        fairfunds.import_results(s, "alice", cid, w.results_file("ff-r2.csv", [(rows2[0][0], "paid", rows2[0][4],
                                                                                  "2023-03-22", "")]))
        st = fairfunds.statement(s, cid)
        assert (st.transferred_fen, st.in_flight_fen, st.awaiting_fen, st.cash_fen) == (FINE, 0, 0, 0)
        assert [b.status for b in fairfunds.batches(s, cid)] == ["settled", "settled"]
        assert _counts(s, cid)[2] == ledger_before          # the special fund's books are untouched
        assert audit.verify(s).ok
        actions = list(s.execute(select(AuditEvent.action).where(AuditEvent.action.like("fairfund.%"))
                                 .order_by(AuditEvent.seq)).scalars())
    assert actions.count("fairfund.batch_released") == 2 and actions.count("fairfund.results_imported") == 2


def test_bad_results_and_rejected_batches_change_nothing(db, tmp_path):
    w = _settled_case(db, tmp_path)
    cid = w.case_id
    with w.tx() as s:
        ap = fairfunds.propose_batch(s, "alice", cid, D(2023, 3, 12)).id
    with w.tx() as s:
        approvals.decide(s, "bob", ap, False, "wrong date")
    with w.tx() as s:
        assert [b.status for b in fairfunds.batches(s, cid)] == ["cancelled"]
        assert fairfunds.statement(s, cid).awaiting_fen == FINE     # owed again
        with pytest.raises(AdminError, match="cancelled"):
            fairfunds.export_batch(s, "alice", cid, 1, w.root / "ff")
        ap = fairfunds.propose_batch(s, "alice", cid, D(2023, 3, 13)).id
    w.approve(ap)
    _path, rows = _export(w, 2)
    bad = w.results_file("ff-bad.csv", [(rows[0][0], "paid", rows[0][4], "2023-03-15", ""),
                                        (rows[1][0], "paid", "1.00", "2023-03-15", ""),
                                        ("nope", "paid", "1.00", "2023-03-15", ""),
                                        (rows[2][0], "returned", rows[2][4], "2023-03-15", "")])
    with w.tx() as s:
        before = _counts(s, cid)
    with pytest.raises(BadInput) as exc:
        with w.tx() as s:
            fairfunds.import_results(s, "alice", cid, bad)
    text = str(exc.value)
    assert "ff-bad.csv:3: amount 1.00 differs" in text and "ff-bad.csv:4: unknown instruction 'nope'" in text
    assert "ff-bad.csv:5: a returned payment needs a reason" in text
    with w.tx() as s:
        assert _counts(s, cid) == before
        st = fairfunds.statement(s, cid)
        assert (st.in_flight_fen, st.transferred_fen) == (FINE, 0)


def test_the_database_refuses_a_second_transfer_in_flight_for_one_allocation(db, tmp_path):
    w = _settled_case(db, tmp_path)
    with w.tx() as s:
        fairfunds.propose_batch(s, "alice", w.case_id, D(2023, 3, 12))
        t = s.execute(select(FairFundTransfer).limit(1)).scalar_one()
        row = {"batch_id": t.batch_id, "round_id": t.round_id, "investor_id": t.investor_id,
               "instruction_id": "duplicate", "amount_fen": t.amount_fen, "status": "instructed"}
    with pytest.raises(DatabaseError):
        with w.tx() as s:
            s.execute(insert(FairFundTransfer).values(**row))


def test_fair_fund_payouts_from_the_command_line(db, tmp_path):
    w = _settled_case(db, tmp_path)
    runner = CliRunner()

    def cli(*args, user="alice"):
        r = runner.invoke(app, ["fairfund-case", *args, "--db", w.url, "--as", user])
        assert r.exit_code == 0, r.output
        return r.output

    text = cli("batch", w.case_id, "--on", "2023-03-12")
    assert "redress approval approve" in text
    with w.tx() as s:
        (ap,) = cases.pending_approvals(s, w.case_id)
    r = runner.invoke(app, ["approval", "approve", str(ap.id), "--db", w.url, "--as", "bob"])
    assert r.exit_code == 0, r.output
    out_dir = tmp_path / "cli-out"
    cli("export", w.case_id, "1", "--out", str(out_dir))
    lines = (out_dir / f"{w.case_id}-fairfund-0001.csv").read_text(encoding="utf-8").splitlines()[1:]
    res = w.results_file("cli-r.csv", [(x.split(",")[0], "paid", x.split(",")[4], "2023-03-15", "") for x in lines])
    assert f"{len(lines)} paid" in cli("results", w.case_id, str(res))
    assert "already imported" in cli("results", w.case_id, str(res))
    r = runner.invoke(app, ["fairfund-case", "show", w.case_id, "--db", w.url])
    assert r.exit_code == 0, r.output
    shown = r.output
    assert f"transferred {fen_text(FINE)}" in shown.replace("\n", " ")
