"""Administered recourse on both databases: liable parties, recoveries booked and passed on to the payers to
the fen, the books and the fund statement untouched, refusals that change nothing, the report and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from redress.admin import claims, fund, payments, recovery
from redress.admin.errors import AdminError
from redress.cli import recovery_cli
from redress.cli.main import app
from redress.ledger.allocation import allocate
from redress.store import audit
from redress.store.models import AuditEvent, LedgerEntry
from support.admin import open_case

D = dt.date
OFFERS = {f"INV{i:02d}": (i + 1) * 100_00 + i for i in range(12)}
ACCEPTED = [f"INV{i:02d}" for i in range(10)]
PAID = sum(OFFERS[i] for i in ACCEPTED)   # 5500_45 fen of compensation actually paid


def _paid_case(db, tmp_path):
    """A case in claims_closed: ten awards paid, split 3:1 between the payers sponsor and law."""
    w = open_case(db, tmp_path, OFFERS, contributions={"sponsor": 300_000_00, "law": 100_000_00})
    w.decide(*(w.decision(i) for i in ACCEPTED), w.decision("INV10", "decline"))
    rows = w.export(w.pay_batch(D(2023, 2, 15)))
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, w.results_file(
            "r.csv", [(r[0], "paid", r[4], "2023-02-17", "") for r in rows]))
        claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
    return w


def _parties(w):
    with w.tx() as s:
        recovery.add_party(s, "alice", w.case_id, "issuer", "发行人 Issuer", "issuer", 6000)
        recovery.add_party(s, "alice", w.case_id, "sponsor", "保荐机构 Sponsor", "sponsor", 2000, payer_id="sponsor")
        recovery.add_party(s, "alice", w.case_id, "auditor", "会计师事务所 Auditor", "auditor", 2000)


def _counts(s, case_id):
    return (s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.case_id == case_id)),
            s.scalar(select(func.count()).select_from(AuditEvent)))


def test_recoveries_are_passed_on_to_the_payers_to_the_fen(db, tmp_path):
    w = _paid_case(db, tmp_path)
    cid = w.case_id
    with w.tx() as s:
        st0 = fund.statement(s, cid)
        assert st0.compensation_awarded_fen - st0.payable_fen == PAID
    _parties(w)
    with w.tx() as s:
        # shares are capped at 100% over the case
        with pytest.raises(AdminError, match="10000"):
            recovery.add_party(s, "alice", cid, "lawyer", "Law firm", "law_firm", 1)
    with w.tx() as s:
        paid = recovery.paid_by_payer(s, cid)
        assert paid == allocate(PAID, {"sponsor": 300_000_00, "law": 100_000_00}).shares_fen
        rp = recovery.plan(s, cid)
        # the sponsor bears its own 20% and claims the rest; the law firm (no fault) claims everything
        assert rp.payer("sponsor").own_share_fen == round(paid["sponsor"] * 0.2)
        assert rp.payer("law").recoverable_fen == paid["law"]
        against_issuer = {c.payer_id: c.amount_fen for c in rp.claims_against("issuer")}
        assert set(against_issuer) == {"sponsor", "law"}
        claimable = sum(against_issuer.values())
        recovery.record_action(s, "alice", cid, "issuer", "demand", D(2023, 4, 1), claimable, "L-1")
        recovery.record_action(s, "alice", cid, "issuer", "lawsuit", D(2023, 5, 1), claimable, "C-1", "filed")
        recovery.record_action(s, "alice", cid, "auditor", "settlement", D(2023, 4, 20), 0, "S-1")

    first, second = 1000_01, 2000_00
    with w.tx() as s:
        recovery.record_recovery(s, "alice", cid, "issuer", first, D(2023, 6, 1), "R-1")
    with w.tx() as s:
        got = recovery.received_by_payer(s, cid)
        assert got == allocate(first, against_issuer).shares_fen
        assert sum(got.values()) == first
        # a retry of the same recovery changes nothing
        before = _counts(s, cid)
        recovery.record_recovery(s, "alice", cid, "issuer", first, D(2023, 6, 1), "R-1")
        assert _counts(s, cid) == before
        with pytest.raises(AdminError, match="already booked"):
            recovery.record_recovery(s, "alice", cid, "issuer", first + 1, D(2023, 6, 1), "R-1")

    with w.tx() as s:   # a top-up: the distribution covers every recovery to date
        recovery.record_recovery(s, "alice", cid, "issuer", second, D(2023, 7, 1), "R-2")
    with w.tx() as s:
        got = recovery.received_by_payer(s, cid)
        assert got == allocate(first + second, against_issuer).shares_fen
        assert all(got[p] <= against_issuer[p] for p in got)
        before = _counts(s, cid)
    # more than may be claimed from the issuer is refused, and nothing changes
    with pytest.raises(AdminError, match="more than"):
        with w.tx() as s:
            recovery.record_recovery(s, "alice", cid, "issuer", claimable - first - second + 1, D(2023, 8, 1), "R-3")
    with w.tx() as s:
        assert _counts(s, cid) == before
        assert recovery.received_by_payer(s, cid) == got
    with w.tx() as s:   # exactly the rest is accepted: every payer then has its full claim on the issuer
        recovery.record_recovery(s, "alice", cid, "issuer", claimable - first - second, D(2023, 8, 1), "R-3")
        recovery.record_recovery(s, "alice", cid, "auditor", 500_00, D(2023, 8, 2), "R-4")

    with w.tx() as s:
        bal = fund.balances(s, cid)
        assert sum(bal.values()) == 0
        assert -bal["recovered:issuer"] == claimable and -bal["recovered:auditor"] == 500_00
        assert bal["recovery_paid:sponsor"] + bal["recovery_paid:law"] == claimable + 500_00
        assert fund.trial(s, cid).balanced and not fund.check_ledger(s, cid)
        assert fund.statement(s, cid) == st0      # recoveries never touch the fund's own accounts
        assert audit.verify(s).ok
        kinds = [e.kind for e in fund.entries(s, cid) if e.key.startswith("recovery:")]
        assert kinds == ["recovery"] * 4
        rep = {r.party_id: r for r in recovery.report(s, cid)}
        auditor_claim = sum(c.amount_fen for c in rp.claims_against("auditor"))
        sponsor_claim = sum(c.amount_fen for c in rp.claims_against("sponsor"))
        assert (rep["issuer"].claim_fen, rep["issuer"].recovered_fen, rep["issuer"].outstanding_fen) == \
            (claimable, claimable, 0)
        assert (rep["auditor"].recovered_fen, rep["auditor"].outstanding_fen) == (500_00, auditor_claim - 500_00)
        assert (rep["sponsor"].recovered_fen, rep["sponsor"].outstanding_fen) == (0, sponsor_claim)
        assert sponsor_claim == rp.payer("law").claim_against("sponsor").amount_fen   # only law claims on it
        assert (rep["issuer"].latest_stage, rep["issuer"].latest_on) == ("lawsuit", D(2023, 5, 1))
        assert rep["auditor"].latest_stage == "settlement" and rep["sponsor"].latest_stage is None
        assert sum(r.claim_fen for r in rep.values()) == rp.recoverable_fen


def test_recovery_refusals(db, tmp_path):
    w = _paid_case(db, tmp_path)
    cid = w.case_id
    with w.tx() as s:
        recovery.add_party(s, "alice", cid, "issuer", "Issuer", "issuer", 6000)
    with w.tx() as s:
        with pytest.raises(AdminError, match="10000 bp"):   # the shares are incomplete
            recovery.plan(s, cid)
        with pytest.raises(AdminError, match="unknown stage"):
            recovery.record_action(s, "alice", cid, "issuer", "prayer", D(2023, 4, 1), 0, "X")
        with pytest.raises(AdminError, match="no liable party"):
            recovery.record_recovery(s, "alice", cid, "nobody", 100, D(2023, 4, 1), "X")
        with pytest.raises(AdminError, match="operator"):
            recovery.add_party(s, "bob", cid, "auditor", "Auditor", "auditor", 1000)
        with pytest.raises(AdminError, match="not one of"):
            recovery.add_party(s, "alice", cid, "auditor", "Auditor", "astrologer", 1000)
        with pytest.raises(AdminError, match="no payer"):
            recovery.add_party(s, "alice", cid, "auditor", "Auditor", "auditor", 1000, payer_id="ghost")


@pytest.fixture
def wide_console():
    saved = recovery_cli.out._width
    recovery_cli.out.width = 200
    yield
    recovery_cli.out._width = saved


def test_recovery_from_the_command_line(db, tmp_path, wide_console):
    w = _paid_case(db, tmp_path)
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        res = runner.invoke(app, ["recovery", *args], env={"REDRESS_DATABASE_URL": w.url, "REDRESS_USER": "alice"})
        assert res.exit_code == code, f"{args} -> {res.exit_code}\n{res.output}"
        return res.output

    cli("party", w.case_id, "issuer", "--name", "Issuer", "--kind", "issuer", "--share-bp", "6000")
    cli("party", w.case_id, "sponsor", "--name", "Sponsor", "--kind", "sponsor", "--share-bp", "2000",
        "--payer", "sponsor")
    cli("party", w.case_id, "auditor", "--name", "Auditor", "--kind", "auditor", "--share-bp", "2000")
    cli("party", w.case_id, "extra", "--name", "X", "--kind", "other", "--share-bp", "1", code=2)
    cli("action", w.case_id, "issuer", "--stage", "judgment", "--ref", "J-1", "--amount", "1000", "--on",
        "2023-05-01")
    text = cli("receipt", w.case_id, "issuer", "--amount", "1000.01", "--ref", "R-1", "--on", "2023-06-01")
    assert "recovery:R-1" in text
    cli("receipt", w.case_id, "issuer", "--amount", "99999", "--ref", "R-2", code=2)
    report = cli("report", w.case_id)
    assert "outstanding 未收回" in report and "1000.01" in report
    assert "judgment 2023-05-01" in report
