"""The protection fund's books and board records, on both databases: entries appended once, the bank never
overdrawn on any day, the statement holding exactly, the tables append-only; meetings and resolutions checked
(5 of 9 present is no meeting, 6 is; 5 of 9 in favour passes, 4 does not) and the decisions that need one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from redress.admin.errors import AdminError, BadInput
from redress.admin.ipf import board, book
from redress.cli.main import app
from redress.ledger.core import Entry, Posting
from redress.protection.book import FundEntry, ProtectionAccount, pa, transfer
from redress.store import audit
from redress.store.db import unit_of_work
from redress.store.models import AuditEvent, ProtectionEntry
from support.admin import users

D = dt.date
DIRECTORS = [f"董事{i} Director {i}" for i in range(1, 10)]
LEVY = pa(ProtectionAccount.LEVY_INCOME)


def _counts(s):
    return s.scalar(select(func.count()).select_from(ProtectionEntry)), s.scalar(select(func.count()).select_from(AuditEvent))


def test_the_books_take_each_entry_once_and_never_overdraw_the_bank(db):
    url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        book.open_capital(s, "alice", 1_000_000_00, D(2021, 1, 4), "CAP-1")
        book.open_capital(s, "alice", 1_000_000_00, D(2021, 1, 4), "CAP-1")   # a retry: nothing new
        book.post(s, transfer(D(2021, 2, 1), "levy", "levy received", "L-1", book.BANK, LEVY, 250_00), "alice")
        before = _counts(s)
        with pytest.raises(AdminError, match="different"):
            book.post(s, transfer(D(2021, 2, 1), "levy", "levy received", "L-1", book.BANK, LEVY, 250_01), "alice")
        # paying out more than the bank holds on 2021-01-10, even if money arrives later, is refused
        payout = transfer(D(2021, 1, 10), "payout", "too early", "P-1", pa(ProtectionAccount.SUBROGATED, "hx"),
                          book.BANK, 1_000_100_00)
        with pytest.raises(AdminError, match="overdraw"):
            book.post(s, payout, "alice")
        with pytest.raises(AdminError, match="not an entry of the protection fund"):
            book.post(s, Entry(D(2021, 2, 1), "x", "special fund entry", (Posting("trust_cash", 1),
                                                                           Posting("fees", -1)), "X-1"), "alice")
        assert _counts(s) == before
        st = book.fund_statement(s)
        assert (st.capital_fen, st.income_fen["levy_income"], st.bank_fen) == (1_000_000_00, 250_00, 1_000_250_00)
        assert st.net_assets_fen == st.capital_fen + 250_00
        assert book.fund_statement(s, D(2021, 1, 31)).bank_fen == 1_000_000_00
        assert book.balances(s, since=D(2021, 2, 1)) == {book.BANK: 250_00, LEVY: -250_00}
        assert book.trial(s).balanced and audit.verify(s).ok
    with pytest.raises(ValueError):      # the chart refuses accounts it does not have
        FundEntry(D(2021, 1, 1), "x", "m", (Posting("trust_cash", 1), Posting(book.BANK, -1)), "K")
    for table in ("ipf_entry", "ipf_posting"):
        with pytest.raises(DatabaseError):
            with unit_of_work(engine) as s:
                s.execute(text(f"UPDATE {table} SET id = id"))
        with pytest.raises(DatabaseError):
            with unit_of_work(engine) as s:
                s.execute(text(f"DELETE FROM {table}"))


@pytest.mark.parametrize("present, in_favour, meeting_valid, passed", [
    (5, 5, False, False),     # 5 of 9 is less than two thirds: no meeting, nothing it resolves stands
    (6, 6, True, True),       # 6 of 9 is two thirds, and "以上" includes the number (Civil Code Art. 1259)
    (6, 4, True, False),      # 4 in favour, 2 against among the 6 present: not more than half of ALL nine
    (7, 5, True, True),       # 7 present; 5 of all 9 in favour is more than half
    (7, 4, True, False),      # 4 in favour, 3 against among the 7 present: not more than half of ALL nine
    (9, 5, True, True),
])
def test_quorum_and_majority_of_all_directors(db, present, in_favour, meeting_valid, passed):
    url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        m = board.record_meeting(s, "alice", D(2021, 3, 1), DIRECTORS, DIRECTORS[:present])
        against = DIRECTORS[in_favour:present]
        r = board.record_resolution(s, "alice", m.id, "use_for_failed_firm", "BR-2021-1", "Pay the clients of X",
                                    DIRECTORS[:in_favour], against)
        assert (m.valid, r.passed) == (meeting_valid, passed)
        if passed:
            assert board.require_resolution(s, "use_for_failed_firm", "BR-2021-1").id == r.id
        else:
            with pytest.raises(AdminError, match="did not pass"):
                board.require_resolution(s, "use_for_failed_firm", "BR-2021-1")
        with pytest.raises(AdminError, match="not 'annual_budget'|is on"):
            board.require_resolution(s, "annual_budget", "BR-2021-1")
        with pytest.raises(AdminError, match="no board resolution"):
            board.require_resolution(s, "annual_budget", "BR-missing")


def test_board_refusals_and_records_that_cannot_change(db):
    url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        with pytest.raises(BadInput):
            board.record_meeting(s, "alice", D(2021, 3, 1), DIRECTORS, DIRECTORS[:7], kind="party")
        m = board.record_meeting(s, "alice", D(2021, 3, 1), DIRECTORS, DIRECTORS[:8])
        r = board.record_resolution(s, "alice", m.id, "annual_budget", "BR-B", "Budget 2021", DIRECTORS[:6])
        # a vote by a director not present, or twice: the resolution is recorded as not passed, with why
        bad = board.record_resolution(s, "alice", m.id, "annual_budget", "BR-C", "Budget", DIRECTORS[:6] + [DIRECTORS[8]])
        assert not bad.passed and any(f["code"] == "absent_voter" for f in board.findings(bad))
        assert board.record_resolution(s, "alice", m.id, "annual_budget", "BR-B", "Budget 2021",
                                       DIRECTORS[:6]).id == r.id
        with pytest.raises(AdminError, match="recorded differently"):
            board.record_resolution(s, "alice", m.id, "annual_budget", "BR-B", "Budget 2022", DIRECTORS[:6])
        with pytest.raises(AdminError):
            board.record_meeting(s, "bob", D(2021, 3, 1), DIRECTORS, DIRECTORS)      # an approver is not an operator
    for table in ("ipf_board_meeting", "ipf_board_resolution"):
        with pytest.raises(DatabaseError):
            with unit_of_work(engine) as s:
                s.execute(text(f"UPDATE {table} SET id = id"))


def test_board_and_book_from_the_command_line(db, tmp_path):
    url, engine = db
    users(engine)
    directors = tmp_path / "directors.txt"
    directors.write_text("\n".join(DIRECTORS) + "\n", encoding="utf-8")
    runner = CliRunner()

    def cli(*args):
        r = runner.invoke(app, ["ipf", *args, "--db", url], env={"REDRESS_USER": "alice", "COLUMNS": "200"})
        assert r.exit_code == 0, r.output
        return r.output

    present = [x for d in DIRECTORS[:7] for x in ("--present", d)]
    assert "could be held" in cli("board", "meeting", "--directors", str(directors), *present, "--on", "2021-03-01")
    votes = [x for d in DIRECTORS[:5] for x in ("--for", d)]
    assert "passed" in cli("board", "resolve", "1", "--subject", "use_for_failed_firm", "--ref", "BR-9",
                           "--text", "pay", *votes)
    assert "BR-9" in cli("board", "list")
    cli("book", "capital", "--amount", "1000000.00", "--ref", "CAP", "--on", "2021-01-04")
    shown = cli("book", "show")
    assert "1,000,000.00" in shown and "balanced" in shown


def test_running_costs_need_the_years_budget(db):
    url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        book.open_capital(s, "alice", 1_000_000_00, D(2020, 1, 2), "CAP")
        with pytest.raises(AdminError, match="no board resolution"):
            book.operating_expense(s, "alice", 500_00, D(2020, 3, 1), "E-1", "rent", "BUDGET-2020")
        thin = board.record_meeting(s, "alice", D(2020, 1, 10), DIRECTORS, DIRECTORS[:5])
        board.record_resolution(s, "alice", thin.id, "annual_budget", "BUDGET-THIN", "2020 budget",
                                DIRECTORS[:5])
        with pytest.raises(AdminError, match="did not pass"):
            book.operating_expense(s, "alice", 500_00, D(2020, 3, 1), "E-1", "rent", "BUDGET-THIN")
        m = board.record_meeting(s, "alice", D(2019, 12, 20), DIRECTORS, DIRECTORS[:7])
        board.record_resolution(s, "alice", m.id, "annual_budget", "BUDGET-2020", "2020 budget", DIRECTORS[:5])
        board.record_resolution(s, "alice", m.id, "use_for_failed_firm", "FF-1", "pay", DIRECTORS[:5])
        with pytest.raises(AdminError, match="is on"):
            book.operating_expense(s, "alice", 500_00, D(2020, 3, 1), "E-1", "rent", "FF-1")
        with pytest.raises(AdminError, match="does not cover"):
            book.operating_expense(s, "alice", 500_00, D(2021, 3, 1), "E-1", "rent", "BUDGET-2020")
        before = _counts(s)[0]
        book.operating_expense(s, "alice", 500_00, D(2020, 3, 1), "E-1", "rent", "BUDGET-2020")
        book.operating_expense(s, "alice", 500_00, D(2020, 3, 1), "E-1", "rent", "BUDGET-2020")   # a retry
        assert _counts(s)[0] == before + 1
        st = book.fund_statement(s)
        assert st.expense_fen["operating_expense"] == 500_00 and st.net_assets_fen == 1_000_000_00 - 500_00
