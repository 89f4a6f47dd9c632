"""A failed securities company handled end to end, on both databases: the board resolution (Art. 18), claims
checked against the custodian's records, the 100,000 yuan / 90% rule at and around its threshold, batches a
second person releases, a returned payment paid again, the fund's claim recovered in the liquidation and the
rest written off (Art. 19) -- the books balanced and the fund statement holding at every step."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from math import floor
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from redress.admin import cases
from redress.admin.errors import AdminError, BadInput, Forbidden
from redress.admin.ipf import board, book, firms
from redress.cli.main import app
from redress.store import audit
from redress.store.db import unit_of_work
from redress.store.models import (AuditEvent, FailedFirm, FirmBatch, FirmClaim, FirmCompensation, FirmTransfer,
                                  ProtectionEntry, ProtectionImport)
from support.admin import users

D = dt.date
FIRM = "nf-sec"
DIRECTORS = [f"董事{i} Director {i}" for i in range(1, 10)]
CAPITAL_FEN = 10_000_000_00          # 10 million yuan
THRESHOLD_FEN = 10_000_000           # 100,000 yuan

# claimant, category, principal, interest, reference -- as the liquidation group's registration desk writes them
CLAIMS = """claimant_id,category,principal,interest,reference
i-exact,individual_debt,100000.00,500.00,R-01
i-cent,individual_debt,100000.01,1.00,R-02
i-dime,individual_debt,100000.10,0.00,R-03
i-big,individual_debt,150000.00,1200.00,R-04
i-big,individual_debt,100000.00,0.00,R-05
s-big,settlement_funds,3000000.00,200.00,R-06
i-big,settlement_funds,50000.00,0.00,R-07
d-off,individual_debt,80000.00,0.00,R-08
"""
RECORDS = """claimant_id,category,principal
i-exact,individual_debt,100000.00
i-cent,individual_debt,100000.01
i-dime,individual_debt,100000.10
i-big,individual_debt,250000.00
s-big,settlement_funds,3000000.00
i-big,settlement_funds,50000.00
d-off,individual_debt,70000.00
u-none,settlement_funds,12.34
"""
PRINCIPALS = {("i-exact", "individual_debt"): 10_000_000, ("i-cent", "individual_debt"): 10_000_001,
              ("i-dime", "individual_debt"): 10_000_010, ("i-big", "individual_debt"): 25_000_000,
              ("s-big", "settlement_funds"): 300_000_000, ("i-big", "settlement_funds"): 5_000_000}
INTEREST = {("i-exact", "individual_debt"): 500_00, ("i-cent", "individual_debt"): 1_00,
            ("i-big", "individual_debt"): 1200_00, ("s-big", "settlement_funds"): 200_00}


def expected_paid(category: str, principal_fen: int) -> int:
    """The policy by hand: settlement funds in full; individual debts in full to 100,000 yuan and 90% of the
    excess; interest never; rounded once, half up, to the fen."""
    if category == "settlement_funds" or principal_fen <= THRESHOLD_FEN:
        return principal_fen
    exact = THRESHOLD_FEN + Fraction(9, 10) * (principal_fen - THRESHOLD_FEN)
    return floor(exact + Fraction(1, 2))


EXPECTED = {k: expected_paid(k[1], p) for k, p in PRINCIPALS.items()}
TO_PAY_FEN = sum(EXPECTED.values())


def fen_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def write(root: Path, name: str, content: str) -> Path:
    path = root / name
    path.write_text(content, encoding="utf-8")
    return path


def resolve(s, reference: str, present: int = 7, in_favour: int = 5, subject: str = firms.SUBJECT):
    m = board.record_meeting(s, "alice", D(2021, 3, 1), DIRECTORS, DIRECTORS[:present])
    return board.record_resolution(s, "alice", m.id, subject, reference, "use the fund for NF Securities",
                                   DIRECTORS[:in_favour], DIRECTORS[in_favour:present])


def setup_fund(engine) -> None:
    users(engine)
    with unit_of_work(engine) as s:
        cases.add_user(s, "root", "dave", "Dave Operator-Approver", ["operator", "approver"])
        book.open_capital(s, "alice", CAPITAL_FEN, D(2021, 1, 4), "CAP-1")


def opened(engine, root: Path) -> None:
    setup_fund(engine)
    with unit_of_work(engine) as s:
        resolve(s, "BR-2021-07")
        firms.open_firm(s, "alice", FIRM, "NF Securities", "revoked", D(2021, 3, 10), "BR-2021-07")
        firms.register_claims(s, "alice", FIRM, write(root, "claims.csv", CLAIMS))
        firms.import_custodian_records(s, "alice", FIRM, write(root, "records.csv", RECORDS))


def verified(engine, root: Path) -> None:
    opened(engine, root)
    with unit_of_work(engine) as s:
        firms.verify_firm(s, "alice", FIRM, D(2021, 5, 1))


def holds(s) -> None:
    """The books balance and the fund's statement holds exactly (it raises otherwise)."""
    st = book.fund_statement(s)
    assert book.trial(s).balanced
    assert st.net_assets_fen == st.capital_fen + sum(st.income_fen.values()) - sum(st.expense_fen.values())


def results(root: Path, name: str, rows: list[tuple[str, str, int, str, str]]) -> Path:
    lines = ["instruction_id,status,amount,settled_on,reason"]
    lines += [f"{iid},{status},{fen_text(fen)},{on},{reason}" for iid, status, fen, on, reason in rows]
    return write(root, name, "\n".join(lines) + "\n")


def counts(s) -> tuple[int, ...]:
    statuses = tuple(s.scalar(select(func.count()).select_from(FirmTransfer).where(FirmTransfer.status == st))
                     for st in ("pending", "instructed", "paid", "returned", "cancelled"))
    return statuses + tuple(s.scalar(select(func.count()).select_from(t))
                            for t in (ProtectionEntry, AuditEvent, ProtectionImport, FirmClaim, FirmBatch))


# -- the whole flow ---------------------------------------------------------------------------------------------

def test_threshold_rule_through_the_whole_flow(db, tmp_path):
    url, engine = db
    opened(engine, tmp_path)
    with unit_of_work(engine) as s:
        # the same claims file again changes nothing
        again = firms.register_claims(s, "alice", FIRM, tmp_path / "claims.csv")
        assert again.already_imported
        summary = firms.verify_firm(s, "alice", FIRM, D(2021, 5, 1))
        assert summary.paid_fen == summary.subrogated_fen == TO_PAY_FEN
        assert (summary.held, summary.held_fen, summary.unclaimed_records) == (1, 80_000_00, 1)
        assert summary.claimants == 6 and summary.compensations == 7
        assert summary.not_paid_fen == sum(PRINCIPALS[k] + INTEREST.get(k, 0) - EXPECTED[k] for k in PRINCIPALS)
        comps = {(c.claimant_id, c.category): c for c in s.scalars(select(FirmCompensation))}
        for key, fen in EXPECTED.items():
            assert comps[key].pay_fen == fen and not comps[key].held
            assert comps[key].claimed_fen == PRINCIPALS[key] + INTEREST.get(key, 0)
        # at and around the threshold, by hand: 100,000.00 -> 100,000.00; .01 -> .01; .10 -> .09; 250,000 -> 235,000
        assert [EXPECTED[(c, "individual_debt")] for c in ("i-exact", "i-cent", "i-dime", "i-big")] == \
            [10_000_000, 10_000_001, 10_000_009, 23_500_000]
        assert EXPECTED[("s-big", "settlement_funds")] == 300_000_000     # settlement funds in full, no cap
        held = comps[("d-off", "individual_debt")]
        assert held.held and held.pay_fen == 0 and "80,000.00" in held.note and "70,000.00" in held.note
        assert "不符" in held.note
        with pytest.raises(AdminError, match="verified"):
            firms.verify_firm(s, "alice", FIRM, D(2021, 5, 2))
        with pytest.raises(AdminError, match="registered before verification"):
            firms.register_claims(s, "alice", FIRM, write(tmp_path, "late.csv", CLAIMS.replace("R-0", "L-0")))
        holds(s)

    with unit_of_work(engine) as s:
        b1 = firms.propose_batch(s, "alice", FIRM, D(2021, 5, 10))
        assert (b1.number, b1.count, b1.total_fen) == (1, 6, TO_PAY_FEN)
        with pytest.raises(AdminError, match="nothing to pay"):        # everything is in flight
            firms.propose_batch(s, "carol", FIRM, D(2021, 5, 10))
    with unit_of_work(engine) as s:
        firms.release_batch(s, "bob", FIRM, 1, D(2021, 5, 11))
        firms.release_batch(s, "bob", FIRM, 1, D(2021, 5, 11))           # a retry changes nothing
        bal = book.balances(s)
        assert bal[book.IN_TRANSIT] == TO_PAY_FEN and bal[book.BANK] == CAPITAL_FEN - TO_PAY_FEN
        holds(s)
        path, manifest = firms.export_batch(s, "alice", FIRM, 1, tmp_path / "out")
        first = path.read_bytes()
    with unit_of_work(engine) as s:
        path, _ = firms.export_batch(s, "carol", FIRM, 1, tmp_path / "out2")
        assert path.read_bytes() == first                                 # byte-stable
    lines = [ln.split(",") for ln in first.decode().splitlines()]
    assert lines[0] == ["instruction_id", "case_id", "batch", "investor_id", "amount", "currency"]
    sent = {(row[3], row[0]): int(row[4].replace(".", "")) for row in lines[1:]}
    # one instruction per claimant and category, numbered in claimant order: i-big twice, then i-cent, i-dime
    assert sorted(sent) == sorted(zip([r[3] for r in lines[1:]], [f"{FIRM}-P0001-{k:06d}" for k in range(1, 7)]))
    assert sent[("i-dime", f"{FIRM}-P0001-000004")] == 10_000_009
    assert {inv for inv, _iid in sent} == {"i-exact", "i-cent", "i-dime", "i-big", "s-big"}   # not d-off, u-none

    # all paid except i-cent's, returned by the bank
    ids = [iid for _inv, iid in sent]
    rows = [(iid, "returned" if inv == "i-cent" else "paid", fen, "2021-05-12",
             "account closed" if inv == "i-cent" else "") for (inv, iid), fen in sorted(sent.items())]
    res1 = results(tmp_path, "results-1.csv", rows)
    with unit_of_work(engine) as s:
        r = firms.import_results(s, "alice", FIRM, res1)
        assert (r.paid, r.returned, r.returned_fen) == (5, 1, 10_000_001)
        bal = book.balances(s)
        assert bal.get(book.IN_TRANSIT, 0) == 0
        assert bal[firms.subrogated(FIRM)] == TO_PAY_FEN - 10_000_001
        assert bal[book.BANK] == CAPITAL_FEN - TO_PAY_FEN + 10_000_001
        holds(s)
        before = counts(s)
    with unit_of_work(engine) as s:
        assert firms.import_results(s, "alice", FIRM, res1).already_imported     # twice: a no-op
        assert counts(s) == before
        rep = firms.report(s, FIRM)
        assert (rep.paid_fen, rep.owed_fen, rep.in_flight_fen) == (TO_PAY_FEN - 10_000_001, 10_000_001, 0)
    with unit_of_work(engine) as s:
        b2 = firms.propose_batch(s, "carol", FIRM, D(2021, 5, 20))
        assert (b2.number, b2.count, b2.total_fen) == (2, 1, 10_000_001)
        t = s.scalar(select(FirmTransfer).where(FirmTransfer.batch_id == b2.id))
        assert t.instruction_id == f"{FIRM}-P0002-000001" and t.instruction_id not in ids
        firms.release_batch(s, "bob", FIRM, 2, D(2021, 5, 21))
    with unit_of_work(engine) as s:
        firms.import_results(s, "alice", FIRM, results(tmp_path, "results-2.csv",
                                                       [(t.instruction_id, "paid", 10_000_001, "2021-05-22", "")]))
        rep = firms.report(s, FIRM)
        assert (rep.paid_fen, rep.owed_fen, rep.in_flight_fen, rep.subrogated_fen) == (TO_PAY_FEN, 0, 0, TO_PAY_FEN)
        assert rep.to_pay_fen == TO_PAY_FEN and rep.held == 1 and rep.held_fen == 80_000_00
        cats = {c.category: c for c in rep.categories}
        assert cats["settlement_funds"].paid_fen == 305_000_000
        assert cats["individual_debt"].paid_fen == TO_PAY_FEN - 305_000_000
        assert [b[1] for b in rep.batches] == ["settled", "settled"]
        st = firms.claimant_statement(s, FIRM, "i-cent")[0]
        assert (st.to_pay_fen, st.paid_fen, st.owed_fen) == (10_000_001, 10_000_001, 0)
        assert [x[2] for x in st.transfers] == ["returned", "paid"]
        assert any("90% of the excess" in ln for ln in st.lines)
        assert any("interest 1.00 yuan excluded" in ln for ln in st.lines)
        holds(s)

    # the liquidation: a dividend, then the rest written off
    with unit_of_work(engine) as s:
        firms.record_recovery(s, "alice", FIRM, 100_000_00, D(2022, 6, 1), "LIQ-DIV-1")
        firms.record_recovery(s, "alice", FIRM, 100_000_00, D(2022, 6, 1), "LIQ-DIV-1")   # a retry
        with pytest.raises(AdminError, match="exceeds the fund's claim"):
            firms.record_recovery(s, "alice", FIRM, TO_PAY_FEN, D(2022, 7, 1), "LIQ-DIV-2")
        with pytest.raises(AdminError, match="different"):
            firms.record_recovery(s, "alice", FIRM, 100_000_01, D(2022, 6, 1), "LIQ-DIV-1")
        holds(s)
    with unit_of_work(engine) as s:
        firms.close_firm(s, "alice", FIRM, D(2023, 1, 31), "liquidation ended by court ruling")
        rep = firms.report(s, FIRM)
        assert (rep.state, rep.recovered_fen, rep.written_off_fen, rep.claim_outstanding_fen) == \
            ("closed", 100_000_00, TO_PAY_FEN - 100_000_00, 0)
        st = book.fund_statement(s)
        assert st.expense_fen["liquidation_loss"] == TO_PAY_FEN - 100_000_00
        assert st.bank_fen == CAPITAL_FEN - TO_PAY_FEN + 100_000_00 and st.subrogated_fen == 0
        assert st.net_assets_fen == CAPITAL_FEN - (TO_PAY_FEN - 100_000_00)
        holds(s)
        assert audit.verify(s).ok
        with pytest.raises(AdminError, match="closed"):
            firms.record_recovery(s, "alice", FIRM, 1, D(2023, 2, 1), "LIQ-LATE")


# -- the board (Art. 18) ----------------------------------------------------------------------------------------

def test_using_the_fund_needs_a_passed_resolution(db, tmp_path):
    url, engine = db
    setup_fund(engine)
    with unit_of_work(engine) as s:
        with pytest.raises(AdminError, match="no board resolution"):
            firms.open_firm(s, "alice", FIRM, "NF Securities", "closed", D(2021, 3, 10), "BR-NONE")
        resolve(s, "BR-5-OF-9", present=5, in_favour=5)           # 5 of 9 present: no meeting
        resolve(s, "BR-4-FOR", present=7, in_favour=4)            # 4 of 9 in favour: not passed
        resolve(s, "BR-BUDGET", subject="annual_budget")
    for ref, msg in (("BR-5-OF-9", "did not pass"), ("BR-4-FOR", "did not pass"),
                     ("BR-BUDGET", "not 'use_for")):
        with unit_of_work(engine) as s:
            with pytest.raises(AdminError, match=msg):
                firms.open_firm(s, "alice", FIRM, "NF Securities", "closed", D(2021, 3, 10), ref)
    with unit_of_work(engine) as s:
        assert s.scalar(select(func.count()).select_from(FailedFirm)) == 0
        resolve(s, "BR-OK")
        firms.open_firm(s, "alice", FIRM, "NF Securities", "closed", D(2021, 3, 10), "BR-OK")
        firms.open_firm(s, "alice", FIRM, "NF Securities", "closed", D(2021, 3, 10), "BR-OK")     # a retry
        with pytest.raises(AdminError, match="different name"):
            firms.open_firm(s, "alice", FIRM, "Other Securities", "closed", D(2021, 3, 10), "BR-OK")
        with pytest.raises(BadInput, match="event"):
            firms.open_firm(s, "alice", "x2", "X", "merged", D(2021, 3, 10), "BR-OK")
        with pytest.raises(BadInput, match="firm id"):
            firms.open_firm(s, "alice", "a-firm-id-that-is-too-long", "X", "closed", D(2021, 3, 10), "BR-OK")
        with pytest.raises(Forbidden):
            firms.open_firm(s, "bob", "x3", "X", "closed", D(2021, 3, 10), "BR-OK")
        assert s.get(FailedFirm, FIRM).state == "registering"


# -- files ------------------------------------------------------------------------------------------------------

def test_bad_claims_files_change_nothing_and_name_the_line(db, tmp_path):
    url, engine = db
    opened(engine, tmp_path)
    bad = ("claimant_id,category,principal,interest,reference\n"
           "x1,individual_debt,10.00,0,N-1\n"
           "x2,loans,10.00,0,N-2\n"
           "x3,individual_debt,10.001,0,N-3\n"
           "x4,individual_debt,-5.00,0,N-4\n"
           "x5,individual_debt,5.00,0,R-01\n"            # R-01 is i-exact's: a different claim
           "x6,individual_debt,5.00,0,N-1\n")            # N-1 again, different
    with unit_of_work(engine) as s:
        before = counts(s)
        with pytest.raises(BadInput) as exc:
            firms.register_claims(s, "alice", FIRM, write(tmp_path, "bad.csv", bad))
        assert counts(s) == before
    msg = str(exc.value)
    for line in (3, 4, 5, 6, 7):
        assert f"bad.csv:{line}:" in msg
    assert "bad.csv:2:" not in msg
    repeat = ("claimant_id,category,principal,interest,reference\n"
              "i-exact,individual_debt,100000.00,500.00,R-01\n"     # identical to a registered claim: skipped
              "n-new,settlement_funds,1.00,0,N-9\n")
    with unit_of_work(engine) as s:
        r = firms.register_claims(s, "alice", FIRM, write(tmp_path, "repeat.csv", repeat))
        assert (r.added, r.repeated, r.principal_fen) == (1, 1, 100)


# -- batches: four eyes, a bad results file, the database's guard -----------------------------------------------

def test_the_maker_cannot_release_and_bad_results_change_nothing(db, tmp_path):
    url, engine = db
    verified(engine, tmp_path)
    with unit_of_work(engine) as s:
        firms.propose_batch(s, "dave", FIRM, D(2021, 5, 10))
    for who, err in (("alice", Forbidden), ("dave", Forbidden)):
        with unit_of_work(engine) as s:
            with pytest.raises(err):
                firms.release_batch(s, who, FIRM, 1, D(2021, 5, 11))
    with unit_of_work(engine) as s:                    # the database refuses it too
        with pytest.raises(IntegrityError):
            s.execute(text("UPDATE ipf_batch SET released_by = proposed_by"))
            s.flush()
    with unit_of_work(engine) as s:
        with pytest.raises(AdminError, match="only a released batch"):
            firms.export_batch(s, "alice", FIRM, 1, tmp_path / "out")
        firms.cancel_batch(s, "alice", FIRM, 1)
        b = firms.propose_batch(s, "dave", FIRM, D(2021, 5, 10))
        assert b.number == 2 and b.total_fen == TO_PAY_FEN
        iids = sorted(s.scalars(select(FirmTransfer.instruction_id).where(FirmTransfer.batch_id == b.id)))
    with unit_of_work(engine) as s:
        # a bank that cannot cover the batch on the day refuses the release
        with pytest.raises(AdminError, match="exceeds the fund's bank balance"):
            firms.release_batch(s, "bob", FIRM, 2, D(2020, 12, 31))
        firms.release_batch(s, "bob", FIRM, 2, D(2021, 5, 11))
        fen = s.scalar(select(FirmTransfer.amount_fen).where(FirmTransfer.instruction_id == iids[0]))
        before = counts(s)
        bal = book.balances(s)
    bad = results(tmp_path, "bad-results.csv", [
        (iids[0], "paid", fen, "2021-05-12", ""),                 # fine on its own
        (iids[1], "paid", 1, "2021-05-12", ""),                   # wrong amount
        ("nope-P0002-000099", "paid", 1, "2021-05-12", ""),       # unknown
        (iids[2], "returned", fen, "2021-05-12", ""),             # returned without a reason (and wrong amount)
        (iids[3], "paid", fen, "2021-05-01", "")])                # before the release
    with unit_of_work(engine) as s:
        with pytest.raises(BadInput) as exc:
            firms.import_results(s, "alice", FIRM, bad)
        assert counts(s) == before and book.balances(s) == bal
    for line in (3, 4, 5, 6):
        assert f"bad-results.csv:{line}:" in str(exc.value)
    with unit_of_work(engine) as s:
        assert counts(s) == before and book.balances(s) == bal
        with pytest.raises(AdminError, match="in flight"):
            firms.close_firm(s, "alice", FIRM, D(2021, 6, 1), "too early")
        holds(s)


def test_the_database_refuses_a_second_transfer_in_flight(db, tmp_path):
    url, engine = db
    verified(engine, tmp_path)
    with unit_of_work(engine) as s:
        b = firms.propose_batch(s, "alice", FIRM, D(2021, 5, 10))
        t = s.scalar(select(FirmTransfer).where(FirmTransfer.batch_id == b.id).order_by(FirmTransfer.id))
        comp_id, bid = t.compensation_id, b.id
    with pytest.raises(IntegrityError):
        with unit_of_work(engine) as s:
            s.add(FirmTransfer(batch_id=bid, compensation_id=comp_id, instruction_id="dup-1", amount_fen=1,
                               status="instructed"))
            s.flush()
    with unit_of_work(engine) as s:          # a settled one beside it is fine
        s.add(FirmTransfer(batch_id=bid, compensation_id=comp_id, instruction_id="old-1", amount_fen=1,
                           status="returned"))
        s.flush()


# -- the command line ---------------------------------------------------------------------------------------------

def test_cli_end_to_end(db, tmp_path):
    url, engine = db
    setup_fund(engine)
    with unit_of_work(engine) as s:
        resolve(s, "BR-CLI")
    write(tmp_path, "claims.csv", CLAIMS)
    write(tmp_path, "records.csv", RECORDS)
    runner = CliRunner()

    def run(*args: str, user: str | None = "alice", code: int = 0) -> str:
        r = runner.invoke(app, ["ipf", "firm", *args, "--db", url, *(["--as", user] if user else [])])
        assert r.exit_code == code, r.output
        return " ".join(r.output.split())

    assert "opened" in run("open", FIRM, "--name", "NF Securities", "--event", "revoked", "--event-on",
                           "2021-03-10", "--resolution", "BR-CLI")
    assert "8 claim(s)" in run("claims", FIRM, str(tmp_path / "claims.csv"))
    assert "already" in run("claims", FIRM, str(tmp_path / "claims.csv"))
    assert "8 record(s)" in run("records", FIRM, str(tmp_path / "records.csv"))
    assert fen_text(TO_PAY_FEN) in run("verify", FIRM, "--on", "2021-05-01").replace(",", "")
    assert "Batch 1 proposed" in run("batch", FIRM, "--on", "2021-05-10")
    assert "Refused" in run("release", FIRM, "1", "--on", "2021-05-11", code=2)
    assert "released by bob" in run("release", FIRM, "1", "--on", "2021-05-11", user="bob")
    run("export", FIRM, "1", "--out", str(tmp_path / "out"))
    rows = (tmp_path / "out" / f"{FIRM}-batch-0001.csv").read_text(encoding="utf-8").splitlines()[1:]
    res = results(tmp_path, "res.csv", [(r.split(",")[0], "paid", int(r.split(",")[4].replace(".", "")),
                                         "2021-05-12", "") for r in rows])
    assert "6 paid" in run("results", FIRM, str(res))
    assert "already imported" in run("results", FIRM, str(res))
    assert "Recovered" in run("recover", FIRM, "--amount", "1000.00", "--ref", "DIV-1", "--on", "2022-01-05")
    shown = run("show", FIRM, user=None)
    assert "NF Securities" in shown and fen_text(TO_PAY_FEN - 100_000).replace(".", "") in shown.replace(",", "") \
        .replace(".", "")
    assert "90% of the excess" in run("claimant", FIRM, "i-dime", user=None)
    assert "closed" in run("close", FIRM, "--reason", "liquidation ended", "--on", "2023-01-31")
    with unit_of_work(engine) as s:
        rep = firms.report(s, FIRM)
        assert (rep.state, rep.written_off_fen) == ("closed", TO_PAY_FEN - 100_000)
        holds(s)


# -- a held claim decided after review ----------------------------------------------------------------------------

def test_a_held_claim_is_decided_by_an_approver_and_paid_in_the_next_batch(db, tmp_path):
    url, engine = db
    verified(engine, tmp_path)
    # d-off registered 80,000 yuan, the records show 70,000: held.  The review accepts 105,000.50 yuan (a
    # supplementary record) so the threshold rule applies to the decided principal; interest is never paid.
    accepted = 10_500_050
    expected = expected_paid("individual_debt", accepted)
    with unit_of_work(engine) as s:
        assert [c.claimant_id for c, _fen in firms.owed(s, FIRM)].count("d-off") == 0
        before = counts(s)
        with pytest.raises(Forbidden):
            firms.resolve_held(s, "alice", FIRM, "d-off", "individual_debt", accepted, D(2021, 5, 20), "ledger")
        with pytest.raises(AdminError, match="not held"):
            firms.resolve_held(s, "bob", FIRM, "i-big", "individual_debt", 1, D(2021, 5, 20), "ledger")
        with pytest.raises(BadInput, match="say why"):
            firms.resolve_held(s, "bob", FIRM, "d-off", "individual_debt", accepted, D(2021, 5, 20), " ")
        assert counts(s) == before
        r = firms.resolve_held(s, "bob", FIRM, "d-off", "individual_debt", accepted, D(2021, 5, 20),
                               "supplementary custodian record")
        assert (r.eligible_fen, r.pay_fen) == (accepted, expected)
        assert firms.resolve_held(s, "bob", FIRM, "d-off", "individual_debt", accepted, D(2021, 5, 20),
                                  "supplementary custodian record").id == r.id          # the same decision again
        with pytest.raises(AdminError, match="already decided"):
            firms.resolve_held(s, "bob", FIRM, "d-off", "individual_debt", 1, D(2021, 5, 20), "other")
        owed = {(c.claimant_id, c.category): fen for c, fen in firms.owed(s, FIRM)}
        assert owed[("d-off", "individual_debt")] == expected
        assert sum(owed.values()) == TO_PAY_FEN + expected
        rep = firms.report(s, FIRM)
        assert (rep.held, rep.held_fen, rep.to_pay_fen) == (0, 0, TO_PAY_FEN + expected)
        batch = firms.propose_batch(s, "alice", FIRM, D(2021, 5, 21))
        firms.release_batch(s, "bob", FIRM, batch.number, D(2021, 5, 21))
        (line,) = [ln for ln in firms.claimant_statement(s, FIRM, "d-off")]
        assert (line.to_pay_fen, line.held, line.in_flight_fen) == (expected, False, expected)
        assert any("reviewed on 2021-05-20 by bob" in t for t in line.lines)
        holds(s)
    cli = CliRunner().invoke(app, ["ipf", "firm", "review", FIRM, "d-off", "--category", "individual_debt",
                                   "--principal", "105000.50", "--reason", "supplementary custodian record",
                                   "--on", "2021-05-20", "--db", url, "--as", "bob"])
    assert cli.exit_code == 0, cli.output                                       # the same decision: accepted
    for table in ("ipf_review",):
        with pytest.raises(Exception):
            with unit_of_work(engine) as s:
                s.execute(text(f"UPDATE {table} SET pay_fen = 0"))
