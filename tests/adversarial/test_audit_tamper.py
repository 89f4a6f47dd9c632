"""Careful tampering behind the application's back, by someone with the database owner's rights but not the
audit key file: the trial balance and the reconciliation still pass, and `audit verify` names what was
changed.  On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from adversarial.audit_support import (CONTRIBUTIONS, HUNDRED_THOUSAND_YUAN, OFFERS, TEN_THOUSAND_YUAN, check, key_file,
                                       liquidated_case, posting_ids, rechain, seq_of, shift, unprotect)
from redress.admin import fund, payments
from redress.store.audit import canonical
from redress.store.models import Claim, LedgerEntry


@pytest.fixture
def case(db, tmp_path, monkeypatch):
    monkeypatch.setenv("REDRESS_AUDIT_KEY_FILE", str(key_file(tmp_path)))
    return liquidated_case(db, tmp_path)


def books_still_look_right(w) -> None:
    """What the careful tamperer makes sure of: the books balance and reconcile as before."""
    with w.tx() as s:
        assert fund.trial(s, w.case_id).balanced
        assert payments.reconcile(s, w.case_id).ok


def test_the_untouched_case_verifies_against_its_books(case):
    v = check(case.engine)
    assert v.ok, v.problems
    assert v.keyed_from == 1 and len(v.keys) == 1 and v.notes == ()
    with case.tx() as s:
        entries = len(s.execute(select(LedgerEntry.id)).all())
    assert v.entries == entries > 10 and v.claims == len(OFFERS)


def test_moving_returned_surplus_between_payers_is_named(case):
    engine = case.engine
    sponsor = posting_ids(engine, case.case_id, "surplus_return:sponsor")
    auditor = posting_ids(engine, case.case_id, "surplus_return:auditor")
    unprotect(engine, "ledger_posting")
    # 10,000 yuan of the auditor's share booked as the sponsor's; each entry still balances
    shift(engine, sponsor["surplus_returned:sponsor"], TEN_THOUSAND_YUAN)
    shift(engine, sponsor["trust_cash"], -TEN_THOUSAND_YUAN)
    shift(engine, auditor["surplus_returned:auditor"], -TEN_THOUSAND_YUAN)
    shift(engine, auditor["trust_cash"], TEN_THOUSAND_YUAN)
    books_still_look_right(case)
    v = check(engine)
    assert not v.ok
    assert len(v.problems) == 2, v.problems
    auditor_first, sponsor_next = v.problems      # in the books' order: the auditor's entry was booked first
    assert "(case legal-a, surplus_return:auditor) differs from audit event" in auditor_first
    assert "posting to surplus_returned:auditor is " in auditor_first
    assert "(case legal-a, surplus_return:sponsor) differs from audit event" in sponsor_next
    with case.tx() as s:
        said = s.execute(text("SELECT detail FROM audit_event WHERE action = 'ledger.surplus_return' "
                              "AND subject = 'surplus_return:sponsor'")).scalar_one()
    was = dict(json.loads(said)["postings"])["surplus_returned:sponsor"]
    assert (f"posting to surplus_returned:sponsor is {_yuan(was + TEN_THOUSAND_YUAN)} in the books but "
            f"{_yuan(was)} in the log") in sponsor_next


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def test_lowering_both_sides_of_a_contribution_is_named(case):
    engine = case.engine
    ids = posting_ids(engine, case.case_id, "contribution:BANK-sponsor")
    unprotect(engine, "ledger_posting")
    shift(engine, ids["trust_cash"], -HUNDRED_THOUSAND_YUAN)
    shift(engine, ids["contribution:sponsor"], HUNDRED_THOUSAND_YUAN)
    with case.tx() as s:
        assert fund.trial(s, case.case_id).balanced
        assert fund.balances(s, case.case_id).get("trust_cash") == -HUNDRED_THOUSAND_YUAN
    v = check(engine)
    assert len(v.problems) == 1, v.problems
    p = v.problems[0]
    assert p.startswith("ledger entry ") and "(case legal-a, contribution:BANK-sponsor) differs from audit event" in p
    assert f"posting to trust_cash is {_yuan(CONTRIBUTIONS['sponsor'] - HUNDRED_THOUSAND_YUAN)} in the books but " \
           f"{_yuan(CONTRIBUTIONS['sponsor'])} in the log" in p


@pytest.mark.parametrize("from_", ["the edit", "the start"])
def test_an_edited_event_with_the_chain_recomputed_without_the_key_is_caught(case, from_):
    """The tamperer also edits the audit event to match the books and recomputes every later hash; without the
    key only plain SHA-256 hashes can be made, which a keyed log does not accept."""
    engine = case.engine
    ids = posting_ids(engine, case.case_id, "contribution:BANK-sponsor")
    unprotect(engine, "ledger_posting", "audit_event")
    shift(engine, ids["trust_cash"], -HUNDRED_THOUSAND_YUAN)
    shift(engine, ids["contribution:sponsor"], HUNDRED_THOUSAND_YUAN)
    k = seq_of(engine, "ledger.contribution", "contribution:BANK-sponsor")
    with case.tx() as s:
        detail = json.loads(s.execute(text("SELECT detail FROM audit_event WHERE seq = :k"), {"k": k}).scalar_one())
    detail["postings"] = [[a, f - HUNDRED_THOUSAND_YUAN if f > 0 else f + HUNDRED_THOUSAND_YUAN]
                          for a, f in detail["postings"]]
    rechain(engine, k if from_ == "the edit" else 1, edit={k: canonical(detail)})
    v = check(engine)
    assert not v.ok
    if from_ == "the edit":
        assert v.problems[0].startswith(f"event {k} (ledger.contribution contribution:BANK-sponsor) has no key, but "
                                        f"the log was keyed with {v.keys[0]} before it"), v.problems
    else:
        assert any(p.startswith("none of the ") and "although the key file" in p for p in v.problems), v.problems
    assert not any(p.startswith("ledger entry") for p in v.problems)      # the books now match the forged log


def test_a_deleted_event_with_the_chain_recomputed_is_caught(case):
    engine = case.engine
    k = seq_of(engine, "ledger.surplus_return", "surplus_return:auditor")
    unprotect(engine, "audit_event")
    rechain(engine, k, drop=k)
    v = check(engine)
    assert v.problems[0].startswith(f"event {k} (") and "has no key" in v.problems[0], v.problems
    assert any(p.startswith("ledger entry ") and "(case legal-a, surplus_return:auditor) has no audit event" in p
               for p in v.problems), v.problems


def test_a_deleted_event_is_caught_without_any_rechaining(case):
    engine = case.engine
    k = seq_of(engine, "claims.decided")
    unprotect(engine, "audit_event")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = :k"), {"k": k})
    v = check(engine)
    assert v.problems[:2] == (f"event {k} missing (deleted?)", f"event {k + 1}: link to the previous event is broken")
    # the file's acceptance is gone from the log: there INV2 never answered and lapsed at close
    assert any("investor INV2): status is accepted in the table but lapsed by the audit log" in p
               for p in v.problems), v.problems


def _claim(w, investor: str) -> Claim:
    with w.tx() as s:
        return s.execute(select(Claim).where(Claim.investor_id == investor)).scalar_one()


def test_a_declined_claim_turned_into_an_acceptance_is_named(case):
    with case.engine.begin() as conn:
        conn.execute(text("UPDATE claim SET status = 'accepted' WHERE investor_id = 'INV3'"))
    v = check(case.engine)
    assert v.problems == (f"claim {_claim(case, 'INV3').id} (case legal-a, investor INV3): status is accepted in the "
                          f"table but declined by the audit log",), v.problems


def test_interest_and_payment_raised_together_are_named(case):
    """A claim's interest and paid amount raised by the same 1.00 yuan: its own check constraint still holds."""
    before = _claim(case, "INV1")
    with case.engine.begin() as conn:
        conn.execute(text("UPDATE claim SET interest_fen = interest_fen + 100, paid_fen = paid_fen + 100 "
                          "WHERE investor_id = 'INV1'"))
    v = check(case.engine)
    where = f"claim {before.id} (case legal-a, investor INV1)"
    assert v.problems == (
        f"{where}: interest_fen is {_yuan(before.interest_fen + 100)} in the table but {_yuan(before.interest_fen)} "
        f"by the audit log",
        f"{where}: paid_fen is {_yuan(before.paid_fen + 100)} in the table but {_yuan(before.paid_fen)} by the "
        f"audit log"), v.problems


def test_a_claim_added_behind_the_logs_back_is_named(case):
    with case.engine.begin() as conn:
        conn.execute(text("INSERT INTO claim (case_id, investor_id, offered_fen, status, awarded_fen, interest_fen, "
                          "paid_fen, late) VALUES ('legal-a', 'MALLORY', 500000, 'accepted', 500000, 0, 0, false)"))
    v = check(case.engine)
    assert len(v.problems) == 1 and "(case legal-a, investor MALLORY) is not in the audit log" in v.problems[0]
