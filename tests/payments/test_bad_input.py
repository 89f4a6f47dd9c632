"""Bad files are refused whole, naming file and line, and change nothing; a file taken twice is taken once; and
no claim can be paid twice, neither through the services nor by writing to the database directly."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text

from paysupport import D, fen, paid_by_investor, reconciles, snapshot
from redress.admin import claims, fund, payments
from redress.admin.errors import AdminError, BadInput
from redress.store import audit
from redress.store.models import Claim, Payment, PaymentBatch
from support.admin import open_case

OFFERS = {"A": 100_00, "B": 2_500_37, "C": 77, "D": 10_000_00, "E": 5_00, "F": 12_34}
HEADER = "instruction_id,status,amount,settled_on,reason"


def refused(call, *where: str, case: str = "") -> str:
    """``call`` raises BadInput whose text names each of ``where`` (``file:line: ...``); returns the text."""
    try:
        call()
    except BadInput as exc:
        message = str(exc)
    else:
        pytest.fail(f"{case}: accepted, should have been refused")
    for w in where:
        assert w in message, f"{case}: {message}"
    return message


# -- payment results -------------------------------------------------------------------------------------------

@pytest.fixture
def released(db, tmp_path):
    """A, B, C and D accepted and in a released batch; E and F have not answered.  Rows: the instruction file."""
    w = open_case(db, tmp_path, OFFERS)
    w.decide(*(w.decision(i) for i in "ABCD"))
    rows = w.export(w.pay_batch(D(2023, 2, 15)))
    assert [r[3] for r in rows] == list("ABCD")
    return w, rows


def line(r, status="paid", amount=None, on="2023-02-17", reason=""):
    return ",".join((r[0], status, amount or r[4], on, reason))


def plus_a_fen(amount: str) -> str:
    f = fen(amount) + 1
    return f"{f // 100}.{f % 100:02d}"


# each: name -> (rows of the instruction file -> lines after the header, the line at fault, words of the reason)
BAD_RESULTS = {
    "unknown_instruction": (lambda r: [line(r[0]), "legal-a-0001-999999-1,paid,1.00,2023-02-17,"],
                            3, "unknown instruction 'legal-a-0001-999999-1'"),
    "amount_differs": (lambda r: [line(r[0]), line(r[1], amount=plus_a_fen(r[1][4]))],
                       3, "differs from the instruction's"),
    "amount_three_decimals": (lambda r: [line(r[0]), line(r[1], amount=r[1][4] + "1")], 3, "more than two decimals"),
    "duplicate_instruction": (lambda r: [line(r[0]), line(r[1]), line(r[0])], 4, "also on line 2"),
    "impossible_date": (lambda r: [line(r[0]), line(r[1], on="2023-02-30")], 3, ""),
    "not_a_date": (lambda r: [line(r[0]), line(r[1], on="17/02/2023")], 3, "17/02/2023"),
    "bad_status": (lambda r: [line(r[0]), line(r[1], status="settled")], 3, "status must be paid or returned"),
    "returned_without_reason": (lambda r: [line(r[0]), line(r[1], status="returned")], 3, "needs a reason"),
    "too_many_fields": (lambda r: [line(r[0]), line(r[1]) + ",extra"], 3, "wrong number of fields"),
    "too_few_fields": (lambda r: [line(r[0]), ",".join(r[1][:1] + ["paid", r[1][4]])], 3,
                       "wrong number of fields"),
}


def test_bad_payment_results_are_refused_with_file_and_line_and_change_nothing(released):
    w, rows = released
    path = w.results_file("r.csv", [])
    before = snapshot(w)
    for case, (body, at, reason) in BAD_RESULTS.items():
        path.write_text(HEADER + "\n" + "\n".join(body(rows)) + "\n", encoding="utf-8")
        with w.tx() as s:
            refused(lambda: payments.import_results(s, "alice", w.case_id, path), f"r.csv:{at}: ", reason,
                    case=case)
        assert snapshot(w) == before, case            # not even the good first line
    # the file was not remembered: corrected, it is taken
    path.write_text(HEADER + "\n" + line(rows[0]) + "\n", encoding="utf-8")
    with w.tx() as s:
        assert payments.import_results(s, "alice", w.case_id, path).paid == 1


def test_a_results_file_without_a_column_is_refused_at_its_header(released):
    w, rows = released
    path = w.results_file("r.csv", [])
    path.write_text("instruction_id,status,amount,reason\n" + f"{rows[0][0]},paid,{rows[0][4]},\n", encoding="utf-8")
    before = snapshot(w)
    with w.tx() as s:
        refused(lambda: payments.import_results(s, "alice", w.case_id, path), "r.csv:1: ", "settled_on")
    assert snapshot(w) == before


def test_a_results_file_that_is_not_utf8_is_refused_at_the_line(released):
    w, rows = released
    path = w.results_file("r.csv", [])
    path.write_bytes((HEADER + "\n" + line(rows[0]) + "\n").encode() + line(rows[1], "returned").encode()
                     + b"compte cl\xf4tur\xe9\n")
    before = snapshot(w)
    with w.tx() as s:
        refused(lambda: payments.import_results(s, "alice", w.case_id, path), "r.csv:3: ", "not UTF-8")
    assert snapshot(w) == before


def test_a_line_contradicting_a_settled_instruction_refuses_the_file(released):
    w, rows = released
    first = w.results_file("r1.csv", [(rows[0][0], "paid", rows[0][4], "2023-02-17", "")])
    with w.tx() as s:
        assert payments.import_results(s, "alice", w.case_id, first).paid == 1
    before = snapshot(w)
    cases = {
        "returned": [(rows[1][0], "paid", rows[1][4], "2023-02-18", ""),
                     (rows[0][0], "returned", rows[0][4], "2023-02-18", "account closed")],
        "another_day": [(rows[1][0], "paid", rows[1][4], "2023-02-18", ""),
                        (rows[0][0], "paid", rows[0][4], "2023-02-18", "")],
    }
    for name, body in cases.items():
        path = w.results_file(f"r2-{name}.csv", body)
        with w.tx() as s:
            refused(lambda p=path: payments.import_results(s, "alice", w.case_id, p),
                    f"r2-{name}.csv:3: ", f"instruction {rows[0][0]} already settled as paid on 2023-02-17")
        assert snapshot(w) == before, name
    assert paid_by_investor(w)["A"] == OFFERS["A"]


def test_the_same_results_file_twice_is_taken_once(released):
    w, rows = released
    path = w.results_file("r.csv", [(r[0], "returned" if r[3] == "B" else "paid", r[4], "2023-02-17",
                                     "account closed" if r[3] == "B" else "") for r in rows])
    with w.tx() as s:
        rep = payments.import_results(s, "alice", w.case_id, path)
    assert (rep.paid, rep.returned, rep.already_imported) == (3, 1, False)
    done = snapshot(w)
    copy = path.with_name("r-copy.csv")
    copy.write_bytes(path.read_bytes())                    # same bytes under another name: the same file
    for p in (path, copy):
        with w.tx() as s:
            again = payments.import_results(s, "alice", w.case_id, p)
        assert again.already_imported and (again.paid, again.returned, again.unchanged) == (0, 0, 0)
    assert snapshot(w) == done
    assert paid_by_investor(w) == {"A": OFFERS["A"], "B": 0, "C": OFFERS["C"], "D": OFFERS["D"], "E": 0, "F": 0}
    assert reconciles(w).ok


# -- no claim paid twice ---------------------------------------------------------------------------------------

def test_a_batch_never_pays_a_claim_twice(released):
    w, rows = released
    path = w.results_file("r.csv", [(r[0], "returned" if r[3] == "D" else "paid", r[4], "2023-02-17",
                                     "wrong account" if r[3] == "D" else "") for r in rows])
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, path)
    w.decide(w.decision("E"))
    # the next batch: the returned payment again and the new acceptance, none of those already paid
    second = w.export(w.pay_batch(D(2023, 2, 20)))
    assert sorted((r[3], fen(r[4])) for r in second) == [("D", OFFERS["D"]), ("E", OFFERS["E"])]
    with pytest.raises(AdminError, match="nothing to pay"):
        with w.tx() as s:
            payments.propose_batch(s, "alice", w.case_id, D(2023, 2, 21))
    with w.tx() as s:
        ids = dict(s.execute(select(Claim.investor_id, Claim.id)).all())
        batch2 = s.execute(select(PaymentBatch.id).where(PaymentBatch.number == 2)).scalar_one()
    before = snapshot(w)

    # the database itself: a second payment in flight for D (one is instructed) is refused ...
    for status in ("pending", "instructed"):
        with pytest.raises(sa_exc.IntegrityError, match=r"uq_payment_claim_in_flight|payment\.claim_id"):
            with w.tx() as s:
                s.execute(text("INSERT INTO payment (batch_id, claim_id, instruction_id, amount_fen, status) "
                               "VALUES (:b, :c, :i, :a, :s)"),
                          {"b": batch2, "c": ids["D"], "i": f"forged-{status}", "a": OFFERS["D"], "s": status})
    # ... and so is paying A (paid in full) or E (unpaid) beyond the award, even by one fen
    for inv, paid in (("A", OFFERS["A"] * 2), ("A", OFFERS["A"] + 1), ("E", OFFERS["E"] + 1)):
        with pytest.raises(sa_exc.IntegrityError, match="paid_within_award"):
            with w.tx() as s:
                s.execute(text("UPDATE claim SET paid_fen = :p WHERE id = :c"), {"p": paid, "c": ids[inv]})
    assert snapshot(w) == before

    # settling the second batch pays D and E once; A's old line sent again changes nothing
    res = w.results_file("r2.csv", [(r[0], "paid", r[4], "2023-02-22", "") for r in second]
                         + [(rows[0][0], "paid", rows[0][4], "2023-02-17", "")])
    with w.tx() as s:
        rep = payments.import_results(s, "alice", w.case_id, res)
    assert (rep.paid, rep.unchanged) == (2, 1)
    assert paid_by_investor(w) == {"A": OFFERS["A"], "B": OFFERS["B"], "C": OFFERS["C"], "D": OFFERS["D"],
                                   "E": OFFERS["E"], "F": 0}
    with w.tx() as s:
        per_claim = s.execute(select(Claim.investor_id, Payment.status).join(Payment, Payment.claim_id == Claim.id)
                              .where(Payment.status == "paid")).all()
    assert sorted(inv for inv, _ in per_claim) == list("ABCDE")
    assert reconciles(w).ok


# -- bank statements -------------------------------------------------------------------------------------------

@pytest.fixture
def funded(db, tmp_path):
    """The fund got its contribution on 2023-01-05; a batch for A and B left the trust account on 2023-02-15."""
    w = open_case(db, tmp_path, OFFERS, contributions={"sponsor": 50_000_00})
    w.decide(w.decision("A"), w.decision("B"))
    w.pay_batch(D(2023, 2, 15))
    return w


def statement(w, name: str, lines: list[str]):
    path = w.root / name
    path.write_text("date,balance,reference\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


AFTER_BATCH = 50_000_00 - OFFERS["A"] - OFFERS["B"]        # 47399.63


def test_a_bad_bank_statement_is_refused_with_file_and_line_and_records_nothing(funded):
    w = funded
    good = ["2023-01-04,0.00,OPEN", "2023-01-05,50000.00,CONTRIB", "2023-02-15,47399.63,BATCH1"]
    bad = {
        "bad_date": (good[:2] + ["2023-02-31,47399.63,BATCH1"], 4, ""),
        "three_decimals": (good[:2] + ["2023-02-15,47399.635,BATCH1", "2023-02-16,47399.631,X"], 5,
                           "more than two decimals"),
        "disagrees": (good[:2] + ["2023-02-15,47399.73,BATCH1"], 4,
                      "statement balance on 2023-02-15 is 47399.73 yuan but the books say 47399.63 yuan "
                      "(difference -0.10)"),
        "disagrees_later": (good + ["2023-03-01,50000.00,LATER"], 5, "(difference -2600.37)"),
    }
    before = snapshot(w)
    for case, (lines, at, reason) in bad.items():
        path = statement(w, "stmt.csv", lines)
        with w.tx() as s:
            message = refused(lambda: fund.import_bank_statement(s, "alice", w.case_id, path), f"stmt.csv:{at}: ",
                              reason, case=case)
        assert "nothing recorded" in message, case
        if case == "three_decimals":                       # every bad line is named, not just the first
            assert "stmt.csv:4: " in message
        assert snapshot(w) == before, case


def test_a_correct_bank_statement_is_checked_once(funded):
    w = funded
    path = statement(w, "stmt.csv", ["2023-01-04,0.00,OPEN", "2023-01-05,50000.00,CONTRIB",
                                     f"2023-02-15,{AFTER_BATCH // 100}.{AFTER_BATCH % 100:02d},BATCH1"])
    with w.tx() as s:
        checks = fund.import_bank_statement(s, "alice", w.case_id, path)
        assert [(c.on, c.expected_fen, c.source) for c in checks] == [
            (D(2023, 1, 4), 0, "stmt.csv:2 OPEN"), (D(2023, 1, 5), 50_000_00, "stmt.csv:3 CONTRIB"),
            (D(2023, 2, 15), AFTER_BATCH, "stmt.csv:4 BATCH1")]
    done = snapshot(w)
    assert len(done["balance_checks"]) == 3 and [f[0] for f in done["files"]] == ["bank_statement"]
    with w.tx() as s:
        assert fund.import_bank_statement(s, "alice", w.case_id, path) == []
    assert snapshot(w) == done


# -- decision files --------------------------------------------------------------------------------------------

DECISIONS_HEADER = "investor_id,decision,decided_on,channel,key,agreement_version,agreement_sha256"


def decisions_file(w, name: str, rows: list[tuple[str, ...]]):
    path = w.root / name
    path.write_text(DECISIONS_HEADER + "\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def accept_row(w, inv, on="2023-02-10", channel="broker", sha=None):
    return (inv, "accept", on, channel, f"b-{inv}", "v1", sha or w.agreement_sha)


BAD_DECISIONS = {
    "unknown_investor": (lambda w: [accept_row(w, "A"), accept_row(w, "NOBODY")], 3,
                         "investor 'NOBODY' has no claim in case legal-a"),
    "duplicate_investor": (lambda w: [accept_row(w, "A"), ("A", "decline", "2023-02-11", "broker", "b-A2", "", "")],
                           3, "investor A appears twice"),
    "bad_decision": (lambda w: [accept_row(w, "A"), ("B", "maybe", "2023-02-10", "broker", "b-B", "", "")], 3,
                     "decision must be accept or decline, not 'maybe'"),
    "wrong_agreement_hash": (lambda w: [accept_row(w, "A"), accept_row(w, "B", sha="0" * 64)], 3,
                             "agreement v1 hash does not match the published text"),
    "after_deadline": (lambda w: [accept_row(w, "A"), accept_row(w, "B", on="2023-03-02")], 3,
                       "decided on 2023-03-02, after the deadline 2023-03-01"),
    "unknown_channel": (lambda w: [accept_row(w, "A"), accept_row(w, "B", channel="pigeon")], 3,
                        "channel must be one of"),
    "bad_date": (lambda w: [accept_row(w, "A"), accept_row(w, "B", on="2023-02-29")], 3,
                 "decided_on '2023-02-29' is not a date"),
}


def test_a_bad_decisions_file_is_refused_with_file_and_line_and_records_nothing(db, tmp_path):
    w = open_case(db, tmp_path, OFFERS)
    before = snapshot(w)
    for case, (rows, at, reason) in BAD_DECISIONS.items():
        path = decisions_file(w, "decisions.csv", rows(w))
        with w.tx() as s:
            message = refused(lambda: claims.import_decisions(s, "alice", w.case_id, path),
                              f"decisions.csv:{at}: ", reason, case=case)
        assert "nothing recorded" in message, case
        assert snapshot(w) == before, case
    # corrected, the file is taken
    path = decisions_file(w, "decisions.csv", [accept_row(w, "A")])
    with w.tx() as s:
        assert claims.import_decisions(s, "alice", w.case_id, path) == (1, False)


def test_a_correct_decisions_file_is_taken_once(db, tmp_path):
    w = open_case(db, tmp_path, OFFERS)
    path = decisions_file(w, "decisions.csv", [accept_row(w, "A"), accept_row(w, "C"),
                                               ("B", "decline", "2023-02-11", "counter", "b-B", "", "")])
    with w.tx() as s:
        assert claims.import_decisions(s, "alice", w.case_id, path) == (3, False)
    done = snapshot(w)
    with w.tx() as s:
        assert claims.import_decisions(s, "alice", w.case_id, path) == (0, True)
        assert audit.verify(s).ok
    assert snapshot(w) == done
    assert {c[0]: c[1] for c in done["claims"]} == {"A": "accepted", "B": "declined", "C": "accepted",
                                                    "D": "offered", "E": "offered", "F": "offered"}
    assert reconciles(w).figures["payable_books_fen"] == OFFERS["A"] + OFFERS["C"]

