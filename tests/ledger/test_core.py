"""The pure double-entry core: entries balance, corrections reverse, balances replay, statements add up."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from redress.ledger.core import (AccountKind, BalanceAssertion, Entry, LedgerError, Posting, account,
                                 account_kind, balances, check_assertion, fund_statement, natural, reversal,
                                 transfer, trial_balance)

D = dt.date
TC = account(AccountKind.TRUST_CASH)
IT = account(AccountKind.IN_TRANSIT)
INT = account(AccountKind.INTEREST)
COMP = account(AccountKind.COMPENSATION)
IAW = account(AccountKind.INTEREST_AWARDED)
FEES = account(AccountKind.FEES)
PAY = account(AccountKind.PAYABLE)


def contrib(party: str) -> str:
    return account(AccountKind.CONTRIBUTION, party)


def returned(party: str) -> str:
    return account(AccountKind.SURPLUS_RETURNED, party)


# -- accounts ------------------------------------------------------------------------------------------------

def test_account_names_and_their_kinds():
    assert account(AccountKind.TRUST_CASH) == "trust_cash"
    assert account(AccountKind.CONTRIBUTION, "sponsor") == "contribution:sponsor"
    assert account_kind("contribution:sponsor") is AccountKind.CONTRIBUTION
    assert account_kind("payable") is AccountKind.PAYABLE
    for kind in AccountKind:
        name = account(kind, "p") if kind.per_party else account(kind)
        assert account_kind(name) is kind
        assert kind.label_zh


@pytest.mark.parametrize("call", [lambda: account(AccountKind.CONTRIBUTION),
                                  lambda: account(AccountKind.TRUST_CASH, "sponsor"),
                                  lambda: account_kind("contribution"),
                                  lambda: account_kind("trust_cash:sponsor"),
                                  lambda: account_kind("petty_cash")])
def test_bad_account_names_refused(call):
    with pytest.raises(ValueError):
        call()


def test_natural_sign_shows_each_account_on_its_normal_side():
    assert natural(TC, 500) == 500            # asset, debit-normal
    assert natural(contrib("s"), -500) == 500  # equity, credit-normal
    assert natural(PAY, -70) == 70
    assert natural(FEES, 3) == 3
    assert natural(INT, 9) == -9               # a debit balance on a credit-normal account shows negative


# -- entries -------------------------------------------------------------------------------------------------

def test_a_balanced_entry_is_accepted():
    e = Entry(D(2023, 1, 5), "contribution", "m", (Posting(TC, 100), Posting(contrib("s"), -60),
                                                  Posting(contrib("t"), -40)), "k1")
    assert sum(p.amount_fen for p in e.postings) == 0


@pytest.mark.parametrize("postings, match", [
    ((Posting(TC, 100), Posting(contrib("s"), -99)), "differ by 1 fen"),
    ((Posting(TC, 100), Posting(contrib("s"), 100)), "differ by 200 fen"),
    ((Posting(TC, 100), Posting(contrib("s"), -60), Posting(contrib("t"), -41)), "differ by -1 fen"),
    ((Posting(TC, 100),), "at least two postings"),
    ((), "at least two postings"),
    ((Posting(TC, 100), Posting(FEES, 0), Posting(contrib("s"), -100)), "zero posting"),
    ((Posting(TC, 100.0), Posting(contrib("s"), -100)), "not an integer"),
    ((Posting(TC, Decimal("100")), Posting(contrib("s"), -100)), "not an integer"),
    ((Posting(TC, True), Posting(contrib("s"), -1)), "not an integer"),
    ((Posting(TC, "100"), Posting(contrib("s"), -100)), "not an integer"),
    ((Posting("petty_cash", 100), Posting(contrib("s"), -100)), "petty_cash"),
])
def test_entries_that_would_break_the_books_are_refused(postings, match):
    with pytest.raises(ValueError, match=match):
        Entry(D(2023, 1, 5), "x", "m", postings, "k1")


def test_an_entry_needs_a_key():
    with pytest.raises(LedgerError, match="idempotency key"):
        Entry(D(2023, 1, 5), "x", "m", (Posting(TC, 1), Posting(INT, -1)), "")


@pytest.mark.parametrize("amount", [0, -1, -100])
def test_transfer_amount_must_be_positive(amount):
    with pytest.raises(LedgerError, match="positive"):
        transfer(D(2023, 1, 5), "fee", "m", "k", FEES, TC, amount)


def test_transfer_debits_one_account_and_credits_the_other():
    e = transfer(D(2023, 1, 5), "fee", "bank fee", "fee:1", FEES, TC, 250)
    assert e.postings == (Posting(FEES, 250), Posting(TC, -250))
    assert (e.kind, e.memo, e.key, e.reverses) == ("fee", "bank fee", "fee:1", None)


def test_entries_are_immutable():
    e = transfer(D(2023, 1, 5), "fee", "bank fee", "fee:1", FEES, TC, 250)
    with pytest.raises(AttributeError):
        e.postings = ()          # type: ignore[misc]
    with pytest.raises(AttributeError):
        e.postings[0].amount_fen = 1   # type: ignore[misc]


# -- random balanced entries ---------------------------------------------------------------------------------

PARTIES = st.sampled_from(["sponsor", "auditor", "law_firm"])
ACCOUNTS = st.one_of(st.sampled_from([TC, IT, INT, COMP, IAW, FEES, PAY]), PARTIES.map(contrib),
                     PARTIES.map(returned))
NONZERO = st.integers(-10**12, 10**12).filter(bool)
DATES = st.dates(D(2023, 1, 1), D(2023, 12, 31))


@st.composite
def entries(draw, key: str = "e") -> Entry:
    """Any balanced entry: random non-zero postings plus one closing posting that makes them sum to zero."""
    n = draw(st.integers(1, 5))
    postings = [Posting(draw(ACCOUNTS), draw(NONZERO)) for _ in range(n)]
    rest = -sum(p.amount_fen for p in postings)
    if rest == 0:
        postings.append(Posting(draw(ACCOUNTS), 1))
        postings.append(Posting(draw(ACCOUNTS), -1))
    else:
        postings.append(Posting(draw(ACCOUNTS), rest))
    return Entry(draw(DATES), "x", "memo", tuple(draw(st.permutations(postings))), key)


@st.composite
def journals(draw) -> list[Entry]:
    n = draw(st.integers(0, 15))
    return [draw(entries(key=f"e{i}")) for i in range(n)]


def nonzero(amounts) -> dict[str, int]:
    return {k: v for k, v in amounts.items() if v}


def naive_balances(journal: list[Entry], through: dt.date | None = None) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in journal:
        if through is None or e.booked_on <= through:
            for p in e.postings:
                out[p.account] = out.get(p.account, 0) + p.amount_fen
    return out


@given(entries(), DATES)
def test_reversal_negates_every_posting_and_links_to_the_original(original, on):
    r = reversal(original, on, "typo", "reversal:e")
    assert r.reverses == original.key
    assert (r.kind, r.key, r.booked_on, r.memo) == ("reversal", "reversal:e", on, "typo")
    assert ([(p.account, p.amount_fen) for p in r.postings]
            == [(p.account, -p.amount_fen) for p in original.postings])
    assert all(b == 0 for b in balances([original, r]).values())
    assert trial_balance(balances([original, r])).lines == ()


@given(journals())
def test_balances_replay_the_postings_and_always_sum_to_zero(journal):
    bal = balances(journal)
    assert bal == naive_balances(journal)
    assert sum(bal.values()) == 0
    # replay order does not matter
    assert balances(list(reversed(journal))) == bal


@given(journals(), DATES)
def test_balances_through_a_date_ignore_later_entries(journal, through):
    bal = balances(journal, through=through)
    assert bal == naive_balances(journal, through)
    assert bal == balances([e for e in journal if e.booked_on <= through])
    assert sum(bal.values()) == 0


@given(journals())
def test_trial_balance_debits_equal_credits(journal):
    tb = trial_balance(balances(journal))
    assert tb.balanced and tb.debit_fen == tb.credit_fen
    assert tb.debit_fen == sum(b for b in balances(journal).values() if b > 0)
    assert [line.account for line in tb.lines] == sorted(line.account for line in tb.lines)
    for line in tb.lines:
        assert line.debit_fen >= 0 and line.credit_fen >= 0
        assert (line.debit_fen == 0) != (line.credit_fen == 0)   # one side only, never a zero line
        assert line.debit_fen - line.credit_fen == balances(journal)[line.account]


def test_trial_balance_of_unbalanced_balances_says_so():
    tb = trial_balance({TC: 100, INT: -99})
    assert not tb.balanced
    assert (tb.debit_fen, tb.credit_fen) == (100, 99)


# -- the fund statement over random valid histories ----------------------------------------------------------

@dataclass
class Model:
    """What the fund should show, kept by hand alongside the entries."""

    cash: int = 0
    in_transit: int = 0
    owed: int = 0                       # awarded, not yet paid
    contributed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    returned: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    interest: int = 0
    compensation: int = 0
    interest_awarded: int = 0
    fees: int = 0
    min_cash: int = 0


OPS = ["contribution", "interest", "fee", "award", "interest_award", "release", "settlement",
       "surplus_return", "reverse"]


@st.composite
def histories(draw) -> tuple[list[Entry], Model]:
    """A random sequence of valid fund operations built with ``transfer`` (settlements: three postings)."""
    m = Model()
    journal: list[Entry] = []
    day = D(2023, 1, 1)
    amount = st.integers(1, 10**9)
    for i in range(draw(st.integers(0, 25))):
        day += dt.timedelta(days=draw(st.integers(0, 3)))
        op = draw(st.sampled_from(OPS + ["release", "settlement"] * 2))   # paying out needs more tries
        key = f"{op}:{i}"
        e: Entry | None = None
        if op == "contribution":
            party, a = draw(PARTIES), draw(amount)
            e = transfer(day, op, "in", key, TC, contrib(party), a)
            m.cash += a
            m.contributed[party] += a
        elif op == "interest":
            a = draw(amount)
            e = transfer(day, op, "bank interest", key, TC, INT, a)
            m.cash += a
            m.interest += a
        elif op == "fee" and m.cash > 0:
            a = draw(st.integers(1, m.cash))
            e = transfer(day, op, "bank fee", key, FEES, TC, a)
            m.cash -= a
            m.fees += a
        elif op == "award":
            a = draw(amount)
            e = transfer(day, op, "accepted", key, COMP, PAY, a)
            m.owed += a
            m.compensation += a
        elif op == "interest_award" and m.interest > m.interest_awarded:
            a = draw(st.integers(1, m.interest - m.interest_awarded))
            e = transfer(day, op, "interest to investors", key, IAW, PAY, a)
            m.owed += a
            m.interest_awarded += a
        elif op == "release" and min(m.cash, m.owed - m.in_transit) > 0:
            a = draw(st.integers(1, min(m.cash, m.owed - m.in_transit)))
            e = transfer(day, op, "batch", key, IT, TC, a)
            m.cash -= a
            m.in_transit += a
        elif op == "settlement" and m.in_transit > 0:
            paid = draw(st.integers(0, m.in_transit))
            back = draw(st.integers(0, m.in_transit - paid))
            postings = [Posting(PAY, paid)] if paid else []
            postings += [Posting(TC, back)] if back else []
            if postings:
                postings.append(Posting(IT, -(paid + back)))
                e = Entry(day, op, "results", tuple(postings), key)
                m.owed -= paid
                m.in_transit -= paid + back
                m.cash += back
        elif op == "surplus_return" and m.cash > 0:
            party, a = draw(PARTIES), draw(st.integers(1, m.cash))
            e = transfer(day, op, "surplus", key, returned(party), TC, a)
            m.cash -= a
            m.returned[party] += a
        elif op == "reverse":
            candidates = [x for x in journal if x.kind in ("contribution", "interest", "fee")
                          and not any(y.reverses == x.key for y in journal)]
            if candidates:
                original = draw(st.sampled_from(candidates))
                cash_delta = -sum(p.amount_fen for p in original.postings if p.account == TC)
                if m.cash + cash_delta >= 0 and (original.kind != "interest"
                                                 or m.interest - original.postings[0].amount_fen
                                                 >= m.interest_awarded):
                    e = reversal(original, day, "mistake", f"reversal:{original.key}")
                    m.cash += cash_delta
                    for p in e.postings:
                        if account_kind(p.account) is AccountKind.CONTRIBUTION:
                            m.contributed[p.account.split(":", 1)[1]] -= p.amount_fen   # a debit undoes it
                        elif p.account == INT:
                            m.interest -= p.amount_fen
                        elif p.account == FEES:
                            m.fees += p.amount_fen
        if e is not None:
            journal.append(e)
            m.min_cash = min(m.min_cash, m.cash)
    return journal, m


@settings(max_examples=300)
@given(histories())
def test_fund_statement_of_any_valid_history_balances_and_matches_the_operations(history):
    journal, m = history
    note([(e.kind, e.postings) for e in journal])
    bal = balances(journal)
    assert sum(bal.values()) == 0
    assert trial_balance(bal).balanced
    st_ = fund_statement(bal)          # runs the identity check itself
    st_.check()
    assert st_.trust_cash_fen == m.cash >= 0
    assert st_.in_transit_fen == m.in_transit >= 0
    assert st_.payable_fen == m.owed >= 0
    assert nonzero(st_.contributions_fen) == nonzero(m.contributed)
    assert nonzero(st_.surplus_returned_fen) == nonzero(m.returned)
    assert st_.contributed_fen == sum(m.contributed.values())
    assert st_.returned_fen == sum(m.returned.values())
    assert st_.interest_earned_fen == m.interest
    assert st_.compensation_awarded_fen == m.compensation
    assert st_.interest_awarded_fen == m.interest_awarded
    assert st_.fees_fen == m.fees
    assert st_.paid_out_fen == m.compensation + m.interest_awarded - m.owed
    assert st_.interest_undistributed_fen == m.interest - m.interest_awarded >= 0
    assert st_.surplus_fen == m.cash + m.in_transit - m.owed - (m.interest - m.interest_awarded)
    # the identity, spelled out: what came in = what went out + what is still held
    assert (st_.contributed_fen + st_.interest_earned_fen
            == st_.paid_out_fen + st_.fees_fen + st_.returned_fen + st_.trust_cash_fen + st_.in_transit_fen)
    # trust cash never went negative, replaying in booking order
    running = 0
    for e in journal:
        running += sum(p.amount_fen for p in e.postings if p.account == TC)
        assert running >= 0


def test_fund_statement_refuses_balances_that_do_not_add_up():
    with pytest.raises(LedgerError, match="does not balance"):
        fund_statement({TC: 100_00, contrib("sponsor"): -99_99})
    with pytest.raises(LedgerError, match="does not balance"):
        fund_statement({TC: 1})


def test_fund_statement_example():
    journal = [
        transfer(D(2023, 1, 5), "contribution", "in", "c1", TC, contrib("sponsor"), 1_000_00),
        transfer(D(2023, 1, 6), "contribution", "in", "c2", TC, contrib("auditor"), 500_00),
        transfer(D(2023, 1, 20), "interest", "int", "i1", TC, INT, 1_23),
        transfer(D(2023, 1, 21), "fee", "fee", "f1", FEES, TC, 10),
        transfer(D(2023, 2, 1), "award", "aw", "a1", COMP, PAY, 800_00),
        transfer(D(2023, 2, 2), "release", "rel", "r1", IT, TC, 800_00),
        Entry(D(2023, 2, 3), "settlement", "res", (Posting(PAY, 700_00), Posting(TC, 100_00),
                                                    Posting(IT, -800_00)), "s1"),
    ]
    st_ = fund_statement(balances(journal))
    assert st_.contributions_fen == {"auditor": 500_00, "sponsor": 1_000_00}
    assert st_.trust_cash_fen == 1_500_00 + 1_23 - 10 - 800_00 + 100_00
    assert st_.payable_fen == 800_00 - 700_00
    assert st_.paid_out_fen == 700_00
    assert st_.surplus_fen == st_.trust_cash_fen - 100_00 - 1_23


# -- balance assertions --------------------------------------------------------------------------------------

def test_check_assertion_compares_the_books_at_the_end_of_the_day():
    journal = [
        transfer(D(2023, 1, 5), "contribution", "in", "c1", TC, contrib("sponsor"), 1_000_00),
        transfer(D(2023, 1, 5), "fee", "fee", "f1", FEES, TC, 5_00),
        transfer(D(2023, 1, 9), "interest", "int", "i1", TC, INT, 2_00),
    ]
    assert check_assertion(journal, BalanceAssertion(D(2023, 1, 4), TC, 0, "stmt:1")) == 0
    assert check_assertion(journal, BalanceAssertion(D(2023, 1, 5), TC, 995_00, "stmt:2")) == 0
    assert check_assertion(journal, BalanceAssertion(D(2023, 1, 8), TC, 995_00, "stmt:3")) == 0
    assert check_assertion(journal, BalanceAssertion(D(2023, 1, 9), TC, 997_00, "stmt:4")) == 0
    # books minus statement: positive when the books show more than the bank
    assert check_assertion(journal, BalanceAssertion(D(2023, 1, 9), TC, 996_99, "stmt:5")) == 1
    assert check_assertion(journal, BalanceAssertion(D(2023, 1, 9), TC, 1_000_00, "stmt:6")) == -3_00
    # an account the books never touched is zero
    assert check_assertion(journal, BalanceAssertion(D(2023, 1, 9), IT, 0, "stmt:7")) == 0
    assert check_assertion(journal, BalanceAssertion(D(2023, 1, 9), IT, 1, "stmt:8")) == -1


@given(journals(), DATES, st.integers(-10**6, 10**6))
def test_check_assertion_is_the_difference_from_the_replayed_balance(journal, on, off):
    books = naive_balances(journal, on).get(TC, 0)
    assert check_assertion(journal, BalanceAssertion(on, TC, books, "s")) == 0
    assert check_assertion(journal, BalanceAssertion(on, TC, books + off, "s")) == -off
