"""The fund's books in the database, on SQLite and PostgreSQL: random operation sequences keep them straight.

A Hypothesis state machine books contributions, interest, fees and corrections through the services, retries
and conflicts included, and after every step checks the books against a model kept by hand: debits equal
credits, trust cash is never negative, replaying the stored entries gives the balances the database sums, and
the fund statement adds up.  A refused operation must change nothing: balances, entries and the audit head.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, invariant, precondition, rule,
                                 run_state_machine_as_test)
from sqlalchemy import select

from redress.admin import cases, fund
from redress.admin.errors import AdminError, BadInput, NotFound
from redress.claims.lifecycle import CaseState
from redress.ledger import core
from redress.store import audit
from redress.store.db import unit_of_work
from redress.store.models import AuditHead, BalanceCheck, LedgerEntry
from support.admin import reverse, users

D = dt.date
TC = fund.TRUST_CASH
PAYERS = ("sponsor", "auditor")
START = D(2023, 1, 5)


def new_case(engine, payers=PAYERS) -> str:
    case_id = f"c-{uuid.uuid4().hex[:12]}"
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", case_id, "Property case", custodian="Custodian Bank")
        for i, p in enumerate(payers):
            cases.add_payer(s, "alice", case_id, p, p.title(), "sponsor" if i == 0 else "auditor", 0)
    return case_id


def snapshot(engine, case_id: str) -> tuple:
    """Everything a refused operation must leave as it was."""
    with unit_of_work(engine) as s:
        head = s.get(AuditHead, 1)
        case = cases.get_case(s, case_id)
        return (fund.balances(s, case_id), [(e.key, e.postings) for e in fund.entries(s, case_id)],
                (head.seq, head.hash) if head else None, case.state, case.version)


def refused(engine, case_id: str, op, exc=AdminError, match: str | None = None) -> AdminError:
    before = snapshot(engine, case_id)
    with pytest.raises(exc, match=match) as info:
        with unit_of_work(engine) as s:
            op(s)
    assert snapshot(engine, case_id) == before, "a refused operation changed something"
    return info.value


def nonzero(bal: dict[str, int]) -> dict[str, int]:
    return {a: b for a, b in bal.items() if b != 0}


# -- the state machine ---------------------------------------------------------------------------------------

def fund_machine(engine):
    class FundBooks(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.case_id = new_case(engine)
            self.day = START
            self.cash = 0
            self.contributed: dict[str, int] = defaultdict(int)
            self.interest = 0
            self.fees = 0
            self.n_entries = 0
            self.state = CaseState.DRAFT
            # entry key -> (kind, change to trust cash, booked on, payer)
            self.booked: dict[str, tuple[str, int, dt.date, str | None]] = {}
            self.reversed: dict[str, dt.date] = {}
            self.serial = 0

        def _ref(self) -> str:
            self.serial += 1
            return f"R{self.serial}"

        def _contributions(self) -> list[str]:
            return sorted(k for k, v in self.booked.items() if v[0] == "contribution")

        def _book(self, key, kind, delta, on, payer=None):
            self.booked[key] = (kind, delta, on, payer)
            self.cash += delta
            self.n_entries += 1

        # -- operations that succeed ---------------------------------------------------------------------

        @rule(payer=st.sampled_from(PAYERS), amount=st.integers(1, 10**10), days=st.integers(0, 3))
        def contribute(self, payer, amount, days):
            self.day += dt.timedelta(days=days)
            ref = self._ref()
            with unit_of_work(engine) as s:
                row = fund.contribute(s, "alice", self.case_id, payer, amount, self.day, ref)
                assert (row.key, row.kind, row.booked_on) == (f"contribution:{ref}", "contribution", self.day)
            self._book(f"contribution:{ref}", "contribution", amount, self.day, payer)
            self.contributed[payer] += amount

        @rule(amount=st.integers(1, 10**6), days=st.integers(0, 3))
        def interest_credited(self, amount, days):
            self.day += dt.timedelta(days=days)
            ref = self._ref()
            with unit_of_work(engine) as s:
                fund.interest(s, "alice", self.case_id, amount, self.day, ref)
            self._book(f"interest:{ref}", "interest", amount, self.day)
            self.interest += amount

        @rule(share=st.integers(1, 150), days=st.integers(0, 3))
        def fee_charged(self, share, days):
            """``share`` percent of the cash: over 100 it would overdraw and must be refused."""
            self.day += dt.timedelta(days=days)
            amount = max(1, self.cash * share // 100)
            ref = self._ref()

            def op(s):
                return fund.fee(s, "alice", self.case_id, amount, self.day, ref, "custody fee")

            if amount > self.cash:
                event("fee refused: would overdraw")
                err = refused(engine, self.case_id, op, match="overdraw")
                assert "托管账户余额不足" in str(err)
                return
            with unit_of_work(engine) as s:
                op(s)
            self._book(f"fee:{ref}", "fee", -amount, self.day)
            self.fees += amount

        @precondition(lambda self: any(k not in self.reversed for k in self.booked))
        @rule(data=st.data(), days=st.integers(0, 3))
        def correct(self, data, days):
            key = data.draw(st.sampled_from(sorted(k for k in self.booked if k not in self.reversed)))
            kind, delta, _on, payer = self.booked[key]
            self.day += dt.timedelta(days=days)

            def op(s):
                return reverse(s, self.case_id, key, self.day, "keyed in twice")

            if self.cash - delta < 0:
                event("correction refused: would overdraw")
                refused(engine, self.case_id, op, match="overdraw")
                return
            event(f"{kind} corrected")
            with unit_of_work(engine) as s:
                row = op(s)
                assert (row.key, row.kind, row.reverses) == (f"reversal:{key}", "reversal", key)
            self.reversed[key] = self.day
            self.cash -= delta
            self.n_entries += 1
            if kind == "contribution":
                self.contributed[payer] -= delta
            elif kind == "interest":
                self.interest -= delta
            else:
                self.fees += delta      # delta is minus the fee

        @precondition(lambda self: self.state == CaseState.DRAFT)
        @rule()
        def establish(self):
            def op(s):
                fund.establish(s, "alice", self.case_id)

            if self.cash <= 0:
                event("establish refused: no money")
                refused(engine, self.case_id, op, match="no money in the trust account")
                return
            event("fund established")
            with unit_of_work(engine) as s:
                op(s)
            self.state = CaseState.FUND_ESTABLISHED

        # -- retries and conflicts -----------------------------------------------------------------------

        @precondition(lambda self: any(v[0] == "contribution" for v in self.booked.values()))
        @rule(data=st.data())
        def retry_contribution(self, data):
            """The same bank reference again (a double-click, a re-run import) books nothing new."""
            key = data.draw(st.sampled_from(self._contributions()))
            _kind, amount, on, payer = self.booked[key]
            ref = key.split(":", 1)[1]
            before = snapshot(engine, self.case_id)
            with unit_of_work(engine) as s:
                first_id = s.execute(select(LedgerEntry.id).where(LedgerEntry.case_id == self.case_id,
                                                                  LedgerEntry.key == key)).scalar_one()
                row = fund.contribute(s, "alice", self.case_id, payer, amount, on, ref)
                assert row.id == first_id
            assert snapshot(engine, self.case_id) == before

        @precondition(lambda self: any(v[0] == "contribution" for v in self.booked.values()))
        @rule(data=st.data(), change=st.integers(-10**6, 10**6).filter(bool))
        def conflicting_contribution(self, data, change):
            key = data.draw(st.sampled_from(self._contributions()))
            _kind, amount, on, payer = self.booked[key]
            other = max(1, amount + change)
            if other == amount:
                other = amount + 1
            ref = key.split(":", 1)[1]
            err = refused(engine, self.case_id,
                          lambda s: fund.contribute(s, "alice", self.case_id, payer, other, on, ref),
                          match="already booked with a different postings")
            assert key in str(err)

        @precondition(lambda self: bool(self.reversed))
        @rule(data=st.data())
        def retry_or_undo_a_correction(self, data):
            key = data.draw(st.sampled_from(sorted(self.reversed)))
            on = self.reversed[key]
            before = snapshot(engine, self.case_id)
            # the same correction again is refused: the entry is already corrected
            refused(engine, self.case_id, lambda s: reverse(s, self.case_id, key, on, "keyed in twice"),
                    match="already been reversed")
            assert snapshot(engine, self.case_id) == before
            # a correction is not itself corrected by hand
            refused(engine, self.case_id,
                    lambda s: reverse(s, self.case_id, f"reversal:{key}", self.day, "undo"),
                    match="reversal entry")

        # -- plainly bad requests ------------------------------------------------------------------------

        @rule(amount=st.integers(-10**6, 0))
        def non_positive_amount(self, amount):
            refused(engine, self.case_id,
                    lambda s: fund.contribute(s, "alice", self.case_id, "sponsor", amount, self.day,
                                              self._ref()),
                    exc=BadInput, match="positive")

        @rule()
        def unknown_payer(self):
            refused(engine, self.case_id,
                    lambda s: fund.contribute(s, "alice", self.case_id, "nobody", 100, self.day, self._ref()),
                    exc=NotFound, match="nobody")

        @rule()
        def approver_cannot_book(self):
            refused(engine, self.case_id,
                    lambda s: fund.interest(s, "bob", self.case_id, 100, self.day, self._ref()),
                    match="operator role")

        # -- invariants ----------------------------------------------------------------------------------

        @invariant()
        def books_agree_with_the_model(self):
            with unit_of_work(engine) as s:
                bal = fund.balances(s, self.case_id)
                journal = fund.entries(s, self.case_id)
                tb = fund.trial(s, self.case_id)
                st_ = fund.statement(s, self.case_id)        # raises if the identity fails
                problems = fund.check_ledger(s, self.case_id)
                state = cases.get_case(s, self.case_id).state
            assert sum(bal.values()) == 0
            assert tb.balanced and tb.debit_fen == tb.credit_fen
            assert bal.get(TC, 0) == self.cash >= 0
            assert nonzero(core.balances(journal)) == bal
            assert len(journal) == self.n_entries
            assert all(sum(p.amount_fen for p in e.postings) == 0 for e in journal)
            assert problems == []
            st_.check()
            assert st_.trust_cash_fen == self.cash
            assert nonzero(st_.contributions_fen) == nonzero(self.contributed)
            assert st_.interest_earned_fen == self.interest
            assert st_.fees_fen == self.fees
            assert st_.contributed_fen + st_.interest_earned_fen - st_.fees_fen == st_.trust_cash_fen
            assert state == self.state

        def teardown(self):
            with unit_of_work(engine) as s:
                journal = fund.entries(s, self.case_id)
                for on in sorted({e.booked_on for e in journal}):
                    assert fund.balances(s, self.case_id, through=on) == nonzero(core.balances(journal, on))
                v = audit.verify(s)
            assert v.ok, v.problems

    return FundBooks


def test_random_fund_operations_keep_the_books_straight(db):
    _url, engine = db
    users(engine)
    machine = fund_machine(engine)
    run_state_machine_as_test(machine,
                              settings=settings(max_examples=20, stateful_step_count=20, deadline=None))
    # every example left its own case in the same database; none leaked into another
    with unit_of_work(engine) as s:
        case_ids = s.execute(select(LedgerEntry.case_id).distinct()).scalars().all()
        for cid in case_ids:
            assert sum(fund.balances(s, cid).values()) == 0
            assert fund.check_ledger(s, cid) == []
        assert audit.verify(s).ok


# -- the same properties, spelled out ------------------------------------------------------------------------

@pytest.fixture
def books(db):
    _url, engine = db
    users(engine)
    return engine, new_case(engine)


def test_retrying_a_contribution_returns_the_same_entry_and_a_different_one_is_refused(books):
    engine, cid = books
    with unit_of_work(engine) as s:
        first = fund.contribute(s, "alice", cid, "sponsor", 1_000_00, START, "BANK-1")
        first_id = first.id
    before = snapshot(engine, cid)
    with unit_of_work(engine) as s:
        again = fund.contribute(s, "alice", cid, "sponsor", 1_000_00, START, "BANK-1")
        assert again.id == first_id
    assert snapshot(engine, cid) == before                   # no second entry, no audit event
    err = refused(engine, cid,
                  lambda s: fund.contribute(s, "alice", cid, "sponsor", 1_000_01, START, "BANK-1"),
                  match="different postings")
    assert "contribution:BANK-1" in str(err)
    refused(engine, cid,
            lambda s: fund.contribute(s, "alice", cid, "sponsor", 1_000_00, D(2023, 1, 6), "BANK-1"),
            match="different booked_on")
    refused(engine, cid, lambda s: fund.contribute(s, "alice", cid, "auditor", 1_000_00, START, "BANK-1"),
            match="different memo")
    # the same reference in another case is another entry
    other = new_case(engine)
    with unit_of_work(engine) as s:
        assert fund.contribute(s, "alice", other, "sponsor", 1_00, START, "BANK-1").id != first_id
        assert fund.balances(s, cid) == {TC: 1_000_00, "contribution:sponsor": -1_000_00}
        assert fund.balances(s, other) == {TC: 1_00, "contribution:sponsor": -1_00}


def test_an_overdrawing_fee_is_refused_and_changes_nothing(books):
    engine, cid = books
    with unit_of_work(engine) as s:
        fund.contribute(s, "alice", cid, "sponsor", 100_00, START, "BANK-1")
    err = refused(engine, cid, lambda s: fund.fee(s, "alice", cid, 100_01, START, "FEE-1", "custody"),
                  match="overdraw the trust account by 0.01 yuan")
    assert isinstance(err, AdminError)
    with unit_of_work(engine) as s:           # exactly the balance is fine
        fund.fee(s, "alice", cid, 100_00, START, "FEE-1", "custody")
        assert fund.balances(s, cid).get(TC, 0) == 0
    refused(engine, cid, lambda s: fund.fee(s, "alice", cid, 1, START, "FEE-2", "custody"), match="overdraw")


def test_a_contribution_already_spent_cannot_be_reversed(books):
    engine, cid = books
    with unit_of_work(engine) as s:
        fund.contribute(s, "alice", cid, "sponsor", 100_00, START, "BANK-1")
        fund.contribute(s, "alice", cid, "auditor", 50_00, START, "BANK-2")
        fund.fee(s, "alice", cid, 60_00, START, "FEE-1", "custody")
    refused(engine, cid, lambda s: reverse(s, cid, "contribution:BANK-1", START, "typo"),
            match="overdraw")
    with unit_of_work(engine) as s:
        reverse(s, cid, "fee:FEE-1", START, "charged to the wrong fund")
        reverse(s, cid, "contribution:BANK-1", START, "typo")
        st_ = fund.statement(s, cid)
    assert st_.contributions_fen == {"auditor": 50_00, "sponsor": 0}   # a payer reversed to nothing stays listed
    assert (st_.fees_fen, st_.trust_cash_fen) == (0, 50_00)
    refused(engine, cid, lambda s: reverse(s, cid, "contribution:NOPE", START, "typo"),
            exc=NotFound)
    refused(engine, cid, lambda s: reverse(s, cid, "contribution:BANK-2", START, "  "),
            exc=BadInput, match="reason")


@pytest.mark.parametrize("amount", [0, -1, -100_00])
def test_non_positive_amounts_are_refused_as_bad_input(books, amount):
    engine, cid = books
    refused(engine, cid, lambda s: fund.contribute(s, "alice", cid, "sponsor", amount, START, "B"),
            exc=BadInput)
    refused(engine, cid, lambda s: fund.interest(s, "alice", cid, amount, START, "I"), exc=BadInput)
    refused(engine, cid, lambda s: fund.fee(s, "alice", cid, amount, START, "F", "fee"), exc=BadInput)


def test_bank_statement_agrees_with_the_books_to_the_fen(books, tmp_path):
    engine, cid = books
    with unit_of_work(engine) as s:
        fund.contribute(s, "alice", cid, "sponsor", 1_000_00, D(2023, 1, 5), "BANK-1")
        fund.fee(s, "alice", cid, 1_50, D(2023, 1, 6), "FEE-1", "custody")
        fund.interest(s, "alice", cid, 37, D(2023, 1, 9), "INT-1")
    good = tmp_path / "stmt.csv"
    good.write_text("date,balance,reference\n"
                    "2023-01-05,1000.00,a\n2023-01-08,998.50,b\n2023-01-09,998.87,c\n", encoding="utf-8")
    with unit_of_work(engine) as s:
        checks = fund.import_bank_statement(s, "alice", cid, good)
        assert [(c.on, c.expected_fen) for c in checks] == [
            (D(2023, 1, 5), 1_000_00), (D(2023, 1, 8), 1_000_00 - 1_50),
            (D(2023, 1, 9), 1_000_00 - 1_50 + 37)]
        journal = fund.entries(s, cid)
        for c in checks:
            assertion = core.BalanceAssertion(c.on, c.account, c.expected_fen, c.source)
            assert core.check_assertion(journal, assertion) == 0
    before = snapshot(engine, cid)
    with unit_of_work(engine) as s:      # the same file again: nothing new
        assert fund.import_bank_statement(s, "alice", cid, good) == []
    assert snapshot(engine, cid) == before
    bad = tmp_path / "stmt2.csv"
    bad.write_text("date,balance\n2023-01-08,998.51\n", encoding="utf-8")
    err = refused(engine, cid, lambda s: fund.import_bank_statement(s, "alice", cid, bad), exc=BadInput)
    assert "stmt2.csv:2" in str(err) and "difference -0.01" in str(err)
    with unit_of_work(engine) as s:
        assert len(s.execute(select(BalanceCheck).where(BalanceCheck.case_id == cid)).scalars().all()) == 3


def test_a_back_dated_fee_cannot_overdraw_an_earlier_day(db, tmp_path):
    """Money that arrived on the 10th cannot pay a fee dated the 5th: the bank would have bounced it."""
    import datetime as dt

    from redress.admin import cases, fund
    from redress.admin.errors import AdminError
    from redress.store.db import unit_of_work
    from support.admin import users

    _url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", "bd", "Back-dated")
        cases.add_payer(s, "alice", "bd", "sponsor", "Sponsor", "sponsor", 100)
        fund.contribute(s, "alice", "bd", "sponsor", 100, dt.date(2023, 1, 3), "C1")
        fund.contribute(s, "alice", "bd", "sponsor", 500, dt.date(2023, 1, 10), "C2")
    with pytest.raises(AdminError, match="on 2023-01-05"):
        with unit_of_work(engine) as s:
            fund.fee(s, "alice", "bd", 160, dt.date(2023, 1, 5), "F1", "custody fee")
    with unit_of_work(engine) as s:
        fund.fee(s, "alice", "bd", 100, dt.date(2023, 1, 5), "F2", "custody fee")     # exactly what was there
        assert fund.check_ledger(s, "bd") == []
        with pytest.raises(AdminError, match="on 2023-01-05"):
            fund.fee(s, "alice", "bd", 1, dt.date(2023, 1, 4), "F3", "one fen too many")


def test_a_payer_reversed_to_zero_stays_on_the_statement(db, tmp_path):
    import datetime as dt

    from redress.admin import cases, fund
    from redress.store.db import unit_of_work
    from support.admin import reverse, users

    _url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", "rv", "Reversed")
        cases.add_payer(s, "alice", "rv", "sponsor", "Sponsor", "sponsor", 100)
        cases.add_payer(s, "alice", "rv", "law", "Law Firm", "law_firm", 100)
        fund.contribute(s, "alice", "rv", "sponsor", 100, dt.date(2023, 1, 3), "C1")
        fund.contribute(s, "alice", "rv", "law", 50, dt.date(2023, 1, 3), "C2")
        reverse(s, "rv", "contribution:C2", dt.date(2023, 1, 4), "booked to the wrong case")
        st = fund.statement(s, "rv")
    assert st.contributions_fen == {"law": 0, "sponsor": 100}
