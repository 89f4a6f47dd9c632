"""A process that dies while importing payment results leaves nothing behind, and the import run again applies
every instruction exactly once.  A process that dies just after committing leaves the import whole, and a
different file repeating its lines pays nobody twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from paysupport import D, fen, fifty, outcomes, paid_by_investor, reconciles, run_child, settle_rows, snapshot
from redress.admin import payments
from redress.store import audit
from redress.store.models import Claim, ImportedFile, Payment

DECLINE = ("INV007", "INV023", "INV041")


def paid_world(db, tmp_path):
    """Fifty investors, three decline; one batch released for the other 47; a results file, every 6th returned."""
    w = fifty(db, tmp_path, decline=DECLINE)
    number = w.pay_batch(D(2023, 2, 15))
    rows = w.export(number)
    assert len(rows) == 47
    return w, settle_rows(rows, returned_every=6)


def child_import(w, tmp_path, path, **job):
    return run_child({"url": w.url, "case_id": w.case_id, "name": "importer",
                      "jobs": [{"op": "import_results", "path": str(path), **job}]}, tmp_path)


def assert_applied_once(w, results):
    """Every paid line paid its claim exactly once, every returned line left its claim unpaid, books agree."""
    paid = paid_by_investor(w)
    with w.tx() as s:
        stored = {iid: (st, inv) for iid, st, inv in s.execute(
            select(Payment.instruction_id, Payment.status, Claim.investor_id)
            .join(Claim, Claim.id == Payment.claim_id))}
        files = s.execute(select(ImportedFile).where(ImportedFile.kind == "payment_results")).scalars().all()
        assert audit.verify(s).ok
    for iid, st, amount, _on, _reason in results:
        assert stored[iid][0] == st
        assert paid[stored[iid][1]] == (fen(amount) if st == "paid" else 0), iid
    by_instruction = {iid: (st, fen(amount)) for iid, st, amount, _o, _r in results}
    assert sum(paid.values()) == sum(f for st, f in by_instruction.values() if st == "paid")
    for inv, offer in w.offers.items():
        expected = 0 if inv in DECLINE else offer
        assert paid[inv] in (0, expected), (inv, paid[inv], expected)   # never twice, never a part
    assert sum(1 for v in paid.values() if v) == sum(1 for st, _f in by_instruction.values() if st == "paid")
    rec = reconciles(w)
    assert rec.ok, rec.problems
    assert rec.figures["in_transit_books_fen"] == 0
    assert rec.figures["payments_returned_fen"] == sum(f for st, f in by_instruction.values() if st == "returned")
    return files


@pytest.mark.parametrize("where", ["mid_rows", "before_commit"])
def test_crash_before_commit_applies_nothing_and_the_rerun_applies_everything_once(db, tmp_path, where):
    w, results = paid_world(db, tmp_path)
    path = w.results_file("results-1.csv", results)
    before = snapshot(w)
    job = {"crash_after_rows": 20} if where == "mid_rows" else {"crash": "before_commit"}
    child = child_import(w, tmp_path, path, **job)
    assert child.returncode == 9, child.stderr
    assert [o.get("crashing") for o in outcomes(child.stdout)] == [
        "after 20 rows, before commit" if where == "mid_rows" else "import done, before commit"]
    # the dead process's transaction is gone: no claim paid, no payment settled, no entry, no file, no event
    assert snapshot(w) == before
    assert sum(paid_by_investor(w).values()) == 0

    with w.tx() as s:
        rep = payments.import_results(s, "alice", w.case_id, path)
    n_paid = sum(1 for r in results if r[1] == "paid")
    assert (rep.already_imported, rep.paid, rep.returned, rep.unchanged) == (False, n_paid, 47 - n_paid, 0)
    assert rep.paid_fen == sum(fen(r[2]) for r in results if r[1] == "paid")
    files = assert_applied_once(w, results)
    assert len(files) == 1 and files[0].rows == 47

    done = snapshot(w)
    with w.tx() as s:
        again = payments.import_results(s, "alice", w.case_id, path)
    assert again.already_imported and (again.paid, again.returned, again.unchanged) == (0, 0, 0)
    assert snapshot(w) == done


def test_crash_after_commit_keeps_the_import_and_a_file_repeating_its_lines_pays_nobody_twice(db, tmp_path):
    w, results = paid_world(db, tmp_path)
    first = w.results_file("results-1.csv", results[:30])
    child = child_import(w, tmp_path, first, crash="after_commit")
    assert child.returncode == 9, child.stderr
    assert [o.get("crashing") for o in outcomes(child.stdout)] == ["after commit"]
    applied = snapshot(w)
    paid = paid_by_investor(w)
    assert sum(paid.values()) == sum(fen(r[2]) for r in results[:30] if r[1] == "paid")

    # the same thirty lines in another order, under another name: nothing left to apply
    same = w.results_file("results-1-resent.csv", list(reversed(results[:30])))
    with w.tx() as s:
        rep = payments.import_results(s, "alice", w.case_id, same)
    assert (rep.already_imported, rep.paid, rep.returned, rep.unchanged) == (False, 0, 0, 30)
    after = snapshot(w)
    for k in ("balances", "claims", "payments", "batches", "ledger_entries"):
        assert after[k] == applied[k], k

    # the whole batch: the thirty lines already applied are unchanged, the other seventeen are applied
    whole = w.results_file("results-all.csv", results[15:] + results[:15])
    with w.tx() as s:
        rep = payments.import_results(s, "alice", w.case_id, whole)
    rest = results[30:]
    assert (rep.already_imported, rep.unchanged) == (False, 30)
    assert (rep.paid, rep.returned) == (sum(1 for r in rest if r[1] == "paid"), sum(1 for r in rest if r[1] != "paid"))
    files = assert_applied_once(w, results)
    assert sorted(f.name for f in files) == ["results-1-resent.csv", "results-1.csv", "results-all.csv"]
    with w.tx() as s:
        assert payments.batches(s, w.case_id)[0].status == "settled"

    done = snapshot(w)
    for path in (first, same, whole):
        with w.tx() as s:
            assert payments.import_results(s, "alice", w.case_id, path).already_imported
    assert snapshot(w) == done

