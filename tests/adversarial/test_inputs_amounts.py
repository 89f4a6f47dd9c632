"""Amounts: one documented largest amount (``money.MAX_AMOUNT_FEN``), a largest balance and a largest turnover
for the books, so no figure the books can form leaves 64 bits.  ``--amount 92233720368547758.07`` used to be
booked and leave the case's books unreadable ("integer overflow"); ``100000000000000000000000`` printed a
traceback.  Every money option of every command goes through ``parse_yuan``."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from inputs_support import CASE_ID, draft, opened, write_results  # noqa: F401
from redress import money
from redress.admin import approvals, cases, fund
from redress.admin.errors import BadInput
from redress.store.db import fresh_sqlite, make_engine, migrate, unit_of_work

INT64_FEN = "92233720368547758.07"        # 2**63 - 1 fen
ATTACKS = [INT64_FEN, "1e23", "100000000000000000000000", "1000000000000.01", "-1000000000000.01", "NaN",
           "Infinity", "0x10", "1.234", "[/x]", "[bold]1", "9" * 400, "１２３"]

# every money option, with what else the command needs; AMOUNT is replaced by the attack
MONEY_OPTIONS = [
    ("payer", "add", CASE_ID, "p2", "--name", "P2", "--role", "auditor", "--committed", "AMOUNT"),
    ("fund", "contribute", CASE_ID, "--payer", "sponsor", "--amount", "AMOUNT", "--ref", "X"),
    ("fund", "interest", CASE_ID, "--amount", "AMOUNT", "--ref", "X", "--on", "2023-01-05"),
    ("fund", "fee", CASE_ID, "--amount", "AMOUNT", "--ref", "X", "--memo", "m", "--on", "2023-01-05"),
    ("fairfund-case", "establish", CASE_ID, "--residual-to", "ipf", "--minimum", "AMOUNT"),
    ("fairfund-case", "source", CASE_ID, "--kind", "fine", "--amount", "AMOUNT", "--ref", "X"),
    ("recovery", "action", CASE_ID, "issuer", "--stage", "demand", "--ref", "X", "--amount", "AMOUNT"),
    ("recovery", "receipt", CASE_ID, "issuer", "--amount", "AMOUNT", "--ref", "X"),
    ("fairfund", "distribute", "ELIGIBLE", "--available", "AMOUNT"),
    ("fairfund", "distribute", "ELIGIBLE", "--available", "1", "--minimum", "AMOUNT"),
    ("ipf", "book", "capital", "--amount", "AMOUNT", "--ref", "X"),
    ("ipf", "book", "expense", "--amount", "AMOUNT", "--ref", "X", "--memo", "m", "--budget", "B"),
    ("ipf", "firm", "review", "f1", "c1", "--category", "settlement_funds", "--principal", "AMOUNT",
     "--reason", "r"),
    ("ipf", "firm", "recover", "f1", "--amount", "AMOUNT", "--ref", "X"),
    ("ipf", "invest", "propose", "--id", "H1", "--kind", "bank_deposit", "--issuer", "b", "--counterparty",
     "b", "--amount", "AMOUNT"),
    ("ipf", "invest", "income", "H1", "--amount", "AMOUNT", "--ref", "X"),
    ("ipf", "invest", "mature", "H1", "--ref", "X", "--income", "AMOUNT"),
    ("ipf", "levy", "year", "2023", "--loss-share-bp", "100", "--fund-size", "AMOUNT", "--source", "s"),
    ("ipf", "levy", "assess", "co1", "--year", "2023", "--quarter", "1", "--income", "AMOUNT"),
    ("ipf", "levy", "pay", "co1", "--year", "2023", "--quarter", "1", "--amount", "AMOUNT", "--ref", "X"),
    ("ipf", "levy", "settle", "co1", "2023", "--audited-income", "AMOUNT"),
    ("ipf", "levy", "refund", "co1", "2023", "--ref", "X", "--amount", "AMOUNT"),
    ("ipf", "income", "exchange-fees", "SSE", "--period", "2023-Q1", "--fees", "AMOUNT", "--at-cap",
     "--ref", "X"),
    ("ipf", "income", "ipo-interest", "--amount", "AMOUNT", "--ref", "X"),
    ("ipf", "income", "donation", "--donor", "d", "--amount", "AMOUNT", "--ref", "X"),
]


@pytest.mark.parametrize("amount", ATTACKS)
def test_fund_contribute_refuses_any_amount_text_in_one_line_and_the_books_stay_readable(draft, amount):
    message = draft.refused("fund", "contribute", CASE_ID, "--payer", "sponsor", "--amount", amount,
                            "--ref", "B9", "--on", "2023-01-05")
    assert message.startswith("--amount: ")
    assert ("largest amount allowed" in message or "not an amount" in message
            or "more than two decimals" in message), message
    assert "balanced" in draft.ok("fund", "trial-balance", CASE_ID)
    draft.ok("fund", "statement", CASE_ID)


@pytest.mark.parametrize("command", MONEY_OPTIONS, ids=lambda c: " ".join(c[:3]))
@pytest.mark.parametrize("amount", [INT64_FEN, "1e23"])
def test_every_money_option_goes_through_parse_yuan(draft, command, amount):
    eligible = draft.root / "eligible.csv"
    eligible.write_text("investor_id,loss\nA,100\n", encoding="utf-8")
    args = [amount if a == "AMOUNT" else str(eligible) if a == "ELIGIBLE" else a for a in command]
    message = draft.refused(*args)
    assert ("largest amount allowed" if amount == INT64_FEN else "not an amount") in message, message


def test_the_largest_amount_is_booked_and_the_books_can_still_be_read_and_corrected(draft):
    """1 trillion yuan, the most one amount may be: trial balance, statement and a reversal all work."""
    draft.ok("fund", "contribute", CASE_ID, "--payer", "sponsor", "--amount", "1,000,000,000,000.00", "--ref",
             "BIG", "--on", "2023-01-05")
    assert "1,000,000,000,000.00" in draft.ok("fund", "trial-balance", CASE_ID)
    assert "1,000,000,000,000.00" in draft.ok("fund", "statement", CASE_ID)
    out = draft.ok("fund", "reverse", CASE_ID, "contribution:BIG", "--reason", "typed twice",
                   "--on", "2023-01-06")
    draft.ok("approval", "approve", out.split("approval approve ")[1].split("`")[0], user="bob")
    assert "0.00" in draft.ok("fund", "trial-balance", CASE_ID)


def test_a_file_amount_beyond_the_largest_is_refused_naming_the_line(opened):
    sent = opened.root / "pay" / f"{CASE_ID}-batch-0001.csv"
    instruction = next(csv.DictReader(sent.open(encoding="utf-8")))
    path = opened.root / "results-1.csv"
    path.write_text(f"instruction_id,status,amount,settled_on,reason\n{instruction['instruction_id']},paid,"
                    f"{INT64_FEN},2023-02-07,\n", encoding="utf-8")
    message = opened.refused("pay", "import", CASE_ID, str(path), lines=None)
    assert "results-1.csv:2: " in message and "largest amount allowed" in message
    statement = opened.root / "statement.csv"
    statement.write_text(f"date,balance\n2023-01-31,{INT64_FEN}\n", encoding="utf-8")
    message = opened.refused("fund", "bank-statement", CASE_ID, str(statement), lines=None)
    assert "statement.csv:2: " in message and "largest amount allowed" in message


def test_a_results_file_with_amounts_that_are_no_amounts_is_refused_naming_each_line(opened):
    """The engine's results are read as yuan and checked before they become fen: no overflow, no traceback."""
    bad = ["1e23", "inf", "NaN", "-5.00", "abc", INT64_FEN]
    offers = {"A": 100_00, **{f"X{i}": 1 for i in range(len(bad))}}
    results = write_results(opened.root / "amounts.csv", offers, {f"X{i}": b for i, b in enumerate(bad)})
    message = opened.refused("plan", "propose", "c2", "--case-dir", str(opened.root / "case2"), "--results",
                             str(results), "--open-on", "2023-02-01", "--deadline", "2023-03-01",
                             "--no-recompute", lines=None)
    for line, b in enumerate(bad, start=3):
        assert f"amounts.csv:{line}: compensation {b!r} is not an amount" in message, b


# -- the books' limits, through the services -----------------------------------------------------------------

@pytest.fixture
def books(tmp_path):
    engine = make_engine(fresh_sqlite(tmp_path / "books.sqlite3"))
    migrate(engine)
    with unit_of_work(engine) as s:
        cases.bootstrap(s, "root", "root")
        cases.add_user(s, "root", "alice", "Alice", ["operator"])
        cases.add_user(s, "root", "bob", "Bob", ["approver"])
        cases.create_case(s, "alice", "c1", "c1")
        cases.add_payer(s, "alice", "c1", "p", "P", "sponsor", 0)
    yield engine
    engine.dispose()


def test_no_account_may_hold_more_than_the_largest_balance(books):
    on = dt.date(2023, 1, 5)
    for i in range(money.MAX_BALANCE_FEN // money.MAX_AMOUNT_FEN):
        with unit_of_work(books) as s:
            fund.contribute(s, "alice", "c1", "p", money.MAX_AMOUNT_FEN, on, f"R{i}")
    with unit_of_work(books) as s:
        assert fund.balances(s, "c1")[fund.TRUST_CASH] == money.MAX_BALANCE_FEN
    with pytest.raises(BadInput, match="beyond the 10,000,000,000,000.00 yuan any account may hold"):
        with unit_of_work(books) as s:
            fund.contribute(s, "alice", "c1", "p", 1, on, "ONE-MORE")
    with pytest.raises(BadInput, match="largest amount allowed"):
        with unit_of_work(books) as s:
            fund.contribute(s, "alice", "c1", "p", money.MAX_AMOUNT_FEN + 1, on, "TOO-BIG")
    with unit_of_work(books) as s:
        assert fund.trial(s, "c1").balanced
        assert fund.statement(s, "c1").trust_cash_fen == money.MAX_BALANCE_FEN


def test_the_books_may_not_move_more_than_their_turnover(books, monkeypatch):
    """Money booked and reversed again and again keeps balances small; the turnover still bounds every sum."""
    monkeypatch.setattr(money, "MAX_TURNOVER_FEN", 10_000_00)
    on = dt.date(2023, 1, 5)
    with unit_of_work(books) as s:
        fund.contribute(s, "alice", "c1", "p", 2_000_00, on, "A")      # 4,000 yuan moved (two postings)
    with unit_of_work(books) as s:
        ap = fund.propose_reversal(s, "alice", "c1", "contribution:A", on, "wrong payer")
    with unit_of_work(books) as s:
        approvals.decide(s, "bob", ap.id, True)                        # 8,000 yuan moved
    with pytest.raises(BadInput, match="the books would have moved 12,000.00 yuan in all"):
        with unit_of_work(books) as s:
            fund.contribute(s, "alice", "c1", "p", 2_000_00, on, "B")
    with unit_of_work(books) as s:
        assert fund.turnover(s, "c1") == 8_000_00 and fund.balances(s, "c1") == {}


def test_the_sum_of_a_results_file_is_bounded(tmp_path):
    from redress.admin.claims import read_results

    many = {f"I{i}": money.MAX_AMOUNT_FEN for i in range(money.MAX_BALANCE_FEN // money.MAX_AMOUNT_FEN)}
    assert read_results(write_results(tmp_path / "most.csv", many)).table["compensation_fen"].sum() \
        == money.MAX_BALANCE_FEN
    many["one-more"] = 1
    with pytest.raises(BadInput, match="more than the 10,000,000,000,000.00 yuan a fund can hold"):
        read_results(write_results(tmp_path / "huge.csv", many))
