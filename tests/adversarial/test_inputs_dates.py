"""Dates given to the books have a range: what happened lies between the first day of exchange trading in
China (1990-12-19) and a week from today; what is set ahead (claims periods, deadlines, late windows) at most
five years ahead.  Payments settled in 1990 or 9999 used to back-date and forward-date ledger entries."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from inputs_support import CASE_ID, draft, opened, today_plus  # noqa: F401
from redress.admin import cases, fund
from redress.admin.cases import FIRST_TRADING_DAY, DateKind, check_date, date_range, parse_date
from redress.admin.errors import BadInput
from redress.store.db import fresh_sqlite, make_engine, migrate, unit_of_work

NOT_DATES = ["2023-02-30", "20230105", "2023-W01-1", "2023-1-5", "[/x]", "05/01/2023", "2023-01-05T00:00"]
OUT_OF_RANGE = ["1990-12-18", "1900-01-01", "0001-01-01", "9999-12-31", today_plus(8)]


@pytest.mark.parametrize("on", NOT_DATES + OUT_OF_RANGE)
def test_a_contribution_dated_outside_the_range_or_not_a_date_is_refused(draft, on):
    message = draft.refused("fund", "contribute", CASE_ID, "--payer", "sponsor", "--amount", "100",
                            "--ref", "D1", "--on", on)
    assert message.startswith("--on: ")
    assert any(w in message for w in ("is not a date", "before 1990-12-19", "is after")), message


def test_the_first_trading_day_and_a_week_ahead_are_accepted(draft):
    for i, on in enumerate((FIRST_TRADING_DAY.isoformat(), today_plus(7))):
        draft.ok("fund", "contribute", CASE_ID, "--payer", "sponsor", "--amount", "100", "--ref", f"D{i}",
                 "--on", on)


def test_interest_fees_and_reversals_are_dated_in_range_too(opened):
    assert "--on: 9999-12-31 is after" in opened.refused("fund", "interest", CASE_ID, "--amount", "1",
                                                         "--ref", "I9", "--on", "9999-12-31")
    assert "before 1990-12-19" in opened.refused("fund", "fee", CASE_ID, "--amount", "1", "--ref", "F9",
                                                 "--memo", "bank", "--on", "1989-06-30")
    assert "is after" in opened.refused("fund", "reverse", CASE_ID, "contribution:B1", "--reason", "x",
                                        "--on", "2999-01-01")


def test_plan_dates_and_deadlines_may_be_set_at_most_five_years_ahead(opened):
    base = ["plan", "propose", "c2", "--case-dir", str(opened.root / "case2"), "--results",
            str(opened.root / "results.csv"), "--no-recompute"]
    assert "--deadline: 9999-01-01 is after" in opened.refused(*base, "--open-on", "2023-02-01", "--deadline",
                                                               "9999-01-01")
    assert "--open-on: 1970-01-01 is before" in opened.refused(*base, "--open-on", "1970-01-01", "--deadline",
                                                               "2023-03-01")
    five_years = dt.date.today().replace(year=dt.date.today().year + 6).isoformat()
    assert "set at most 5 years ahead" in opened.refused("claims", "extend", CASE_ID, "--to", five_years,
                                                         "--reason", "more time")
    assert "--until: 9999-01-01" in opened.refused("claims", "reopen", CASE_ID, "--until", "9999-01-01",
                                                   "--reason", "x")


def test_claims_cannot_be_closed_decided_or_batched_on_far_dates(opened):
    assert "--on: 9999-01-01" in opened.refused("claims", "close", CASE_ID, "--on", "9999-01-01")
    assert "--on: " + today_plus(30) in opened.refused("claims", "close", CASE_ID, "--on", today_plus(30))
    assert "--on: 1980-01-01" in opened.refused("claims", "decide", CASE_ID, "B", "--decline", "--key", "k-B",
                                                "--on", "1980-01-01")
    assert "--on: 9999-01-01" in opened.refused("pay", "batch", CASE_ID, "--on", "9999-01-01")
    assert "--on: 9999-01-01" in opened.refused("recovery", "action", CASE_ID, "issuer", "--stage", "demand",
                                                "--ref", "L1", "--on", "9999-01-01")
    assert "--on: 1900-01-01" in opened.refused("fairfund-case", "source", CASE_ID, "--kind", "fine",
                                                "--amount", "1", "--ref", "F1", "--on", "1900-01-01")


@pytest.mark.parametrize("settled_on", ["1989-06-30", "9999-01-01", today_plus(30), "2023-02-30"])
def test_a_results_file_settled_outside_the_range_is_refused_naming_the_line(opened, settled_on):
    sent = opened.root / "pay" / f"{CASE_ID}-batch-0001.csv"
    instruction = next(csv.DictReader(sent.open(encoding="utf-8")))
    path = opened.root / "results-1.csv"
    path.write_text(f"instruction_id,status,amount,settled_on,reason\n{instruction['instruction_id']},paid,"
                    f"{instruction['amount']},{settled_on},\n", encoding="utf-8")
    message = opened.refused("pay", "import", CASE_ID, str(path), lines=None)
    assert f"results-1.csv:2: settled_on" in message and "nothing changed" in message, message


def test_bank_statements_and_decision_files_are_dated_in_range(opened):
    statement = opened.root / "statement.csv"
    statement.write_text("date,balance\n2023-01-31,20000\n9999-12-31,20000\n", encoding="utf-8")
    assert "statement.csv:3: date: 9999-12-31 is after" in opened.refused("fund", "bank-statement", CASE_ID,
                                                                           str(statement), lines=None)
    decisions = opened.root / "decisions.csv"
    decisions.write_text("investor_id,decision,decided_on,channel,key\nB,decline,1980-01-01,online,k-B\n",
                         encoding="utf-8")
    assert "decisions.csv:2: decided_on: 1980-01-01 is before" in opened.refused("claims", "import", CASE_ID,
                                                                                str(decisions), lines=None)


def test_the_protection_funds_commands_refuse_impossible_dates(draft):
    assert "--on: 9999-01-01 is after" in draft.refused("ipf", "book", "capital", "--amount", "1",
                                                        "--ref", "C1", "--on", "9999-01-01")
    assert "--on: 1900-01-01 is before" in draft.refused("ipf", "income", "donation", "--donor", "d",
                                                         "--amount", "1", "--ref", "D1", "--on", "1900-01-01")


# -- the ranges themselves -----------------------------------------------------------------------------------

def test_the_ranges():
    today = dt.date(2026, 12, 6)
    assert date_range(DateKind.EVENT, today) == (dt.date(1990, 12, 19), dt.date(2026, 12, 13))
    assert date_range(DateKind.PLAN, today) == (dt.date(1990, 12, 19), dt.date(2031, 12, 6))
    assert date_range(DateKind.PLAN, dt.date(2024, 2, 29))[1] == dt.date(2029, 2, 28)
    assert check_date(dt.date(2026, 12, 13), "x", today=today) == dt.date(2026, 12, 13)
    with pytest.raises(BadInput, match="x: 2026-12-14 is after 2026-12-13"):
        check_date(dt.date(2026, 12, 14), "x", today=today)
    with pytest.raises(BadInput, match="x: 1990-12-18 is before 1990-12-19"):
        check_date(dt.date(1990, 12, 18), "x", DateKind.PLAN, today=today)
    assert parse_date(" 2031-12-06 ", "x", DateKind.PLAN, today=today) == dt.date(2031, 12, 6)
    with pytest.raises(BadInput, match="is not a date"):
        parse_date("2031-12-06x", "x", DateKind.PLAN, today=today)


def test_the_books_refuse_an_entry_dated_out_of_range_whatever_calls_them(tmp_path):
    """The HTTP API and other services reach the books with dates already parsed: ``post`` checks them too."""
    engine = make_engine(fresh_sqlite(tmp_path / "d.sqlite3"))
    migrate(engine)
    with unit_of_work(engine) as s:
        cases.bootstrap(s, "root", "root")
        cases.add_user(s, "root", "alice", "Alice", ["operator"])
        cases.create_case(s, "alice", "c1", "c1")
        cases.add_payer(s, "alice", "c1", "p", "P", "sponsor", 0)
    for on in (dt.date(9999, 12, 31), dt.date(1990, 1, 1)):
        with pytest.raises(BadInput, match="entry contribution:X: booked on"):
            with unit_of_work(engine) as s:
                fund.contribute(s, "alice", "c1", "p", 100, on, "X")
    with unit_of_work(engine) as s:
        assert fund.entries(s, "c1") == []
    engine.dispose()
