"""Levies administered in the database, on SQLite and PostgreSQL: companies and grades, quarterly advance
payments, payments, the annual settlement (balance due and refund), overdue levies, notices, statements and the
fund's other income.  Expected amounts are worked out here, independently of the code under test."""

from __future__ import annotations

import csv
import datetime as dt
import math
from fractions import Fraction

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from redress.admin.errors import AdminError, BadInput, NotFound
from redress.admin.ipf import book, levies
from redress.market.calendar import sessions
from redress.store.db import unit_of_work
from redress.store.models import (AuditEvent, CompanyRating, Levy, LevyPayment, LevyYear, ProtectionEntry,
                                  SecuritiesCompany)
from support.admin import users

BIG_FUND_FEN = 25_000_000_000_000          # 250 billion yuan, above the 20 billion of the 2013 table
D = dt.date


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def tenth_session_after(day: dt.date) -> dt.date:
    table = sessions("XSHG")
    return table.sessions_between(day + dt.timedelta(days=1), day + dt.timedelta(days=60))[9]


def counts(engine) -> dict[str, int]:
    with unit_of_work(engine) as s:
        return {m.__name__: s.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (SecuritiesCompany, CompanyRating, LevyYear, Levy, LevyPayment, ProtectionEntry,
                          AuditEvent)}


def check_books(engine) -> None:
    with unit_of_work(engine) as s:
        assert book.trial(s).balanced
        book.fund_statement(s)          # raises unless assets = capital + income - expenses + liabilities


def balance(engine, account: str) -> int:
    with unit_of_work(engine) as s:
        return book.balances(s).get(account, 0)


@pytest.fixture
def world(db):
    url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        levies.add_company(s, "alice", "citic", "CITIC Securities 中信证券", True)
        levies.add_company(s, "alice", "weak", "Weak Securities 弱证券", False)
        for year in (2016, 2017, 2018):
            levies.rate_company(s, "alice", "citic", year, "AA")
        levies.rate_company(s, "alice", "weak", 2019, "D")
        for year in (2018, 2019, 2020):
            levies.set_levy_year(s, "alice", year, 500, BIG_FUND_FEN, f"CSRC figures for {year} (test)")
    return url, engine


# --- rates and quarterly assessments ------------------------------------------------------------------

def test_aa_three_years_running_pays_half_percent_rounded_half_up(world):
    _, engine = world
    income = 12_345_678_901                    # 123,456,789.01 yuan
    expected = half_up(Fraction(income * 5, 1000))   # 0.5%: 61,728,394.505 fen -> 61,728,395
    assert expected == 61_728_395
    with unit_of_work(engine) as s:
        r = levies.rate(s, "citic", 2018)
        assert (r.rate_bp, r.rule) == (50, "three_years_class_a_aa_or_above")
        assert "〔2013〕22号" in r.source
        lv = levies.assess_quarter(s, "alice", "citic", 2018, 1, income, D(2018, 4, 2))
        assert (lv.amount_fen, lv.rate_bp, lv.rule) == (expected, 50, "three_years_class_a_aa_or_above")
        assert lv.due_on == tenth_session_after(D(2018, 3, 31))
    assert balance(engine, "levy_receivable:citic") == expected
    assert balance(engine, "levy_income") == -expected
    check_books(engine)
    with unit_of_work(engine) as s:
        assert book.fund_statement(s).income_fen["levy_income"] == expected


def test_grade_d_in_2019_pays_seven_tenths_percent(world):
    _, engine = world
    income = 1_000_005_00                      # 1,000,005.00 yuan
    with unit_of_work(engine) as s:
        r = levies.rate(s, "weak", 2019)
        assert r.rate_bp == 70 and r.table == "csrc_2020_levy_2019"
        lv = levies.assess_quarter(s, "alice", "weak", 2019, 2, income, D(2019, 7, 1))
        assert lv.amount_fen == half_up(Fraction(income * 7, 1000))   # 700,003.5 fen -> 700,004
        assert lv.amount_fen == 700_004
    check_books(engine)


def test_2020_q1_due_on_the_tenth_session_after_march_31(world):
    _, engine = world
    with unit_of_work(engine) as s:
        levies.rate_company(s, "alice", "weak", 2020, "D")
        lv = levies.assess_quarter(s, "alice", "weak", 2020, 1, 100_00, D(2020, 4, 1))
    expected = tenth_session_after(D(2020, 3, 31))
    assert expected == D(2020, 4, 15)         # Apr 1-3, 7-10, 13-15 (Qingming closure Apr 4-6)
    assert lv.due_on == expected
    assert lv.amount_fen == 70                # 0.7% of 100 yuan


def test_missing_grade_levy_year_or_table_refused_clearly(world):
    _, engine = world
    with unit_of_work(engine) as s:
        with pytest.raises(AdminError, match="no classification grade for 2020"):
            levies.rate(s, "citic", 2020)
        levies.rate_company(s, "alice", "citic", 2021, "AA")
        with pytest.raises(AdminError, match="levy year 2021 has no recorded loss share"):
            levies.rate(s, "citic", 2021)
        levies.set_levy_year(s, "alice", 2021, 0, BIG_FUND_FEN, "test")
        with pytest.raises(AdminError, match="no levy rate table is recorded for levy year 2021"):
            levies.rate(s, "citic", 2021)
        with pytest.raises(NotFound):
            levies.rate(s, "nobody", 2018)
    before = counts(engine)
    with pytest.raises(AdminError, match="no classification grade"):
        with unit_of_work(engine) as s:
            levies.assess_quarter(s, "alice", "citic", 2020, 1, 100, D(2020, 4, 1))
    assert counts(engine) == before


def test_only_operators_change_anything(world):
    _, engine = world
    with pytest.raises(AdminError, match="operator"):
        with unit_of_work(engine) as s:
            levies.assess_quarter(s, "bob", "citic", 2018, 1, 100, D(2018, 4, 2))


# --- idempotency --------------------------------------------------------------------------------------

def test_idempotent_retries_and_conflicting_retries(world):
    _, engine = world
    with unit_of_work(engine) as s:
        levies.assess_quarter(s, "alice", "citic", 2018, 1, 1_000_000, D(2018, 4, 2))
        levies.record_payment(s, "alice", "citic", 2018, 1, 2_000, D(2018, 4, 10), "BANK-1")
    before = counts(engine)
    with unit_of_work(engine) as s:           # identical retries: the same rows, nothing new
        assert levies.add_company(s, "carol", "citic", "CITIC Securities 中信证券", True).id == "citic"
        assert levies.rate_company(s, "carol", "citic", 2018, "AA").grade == "AA"
        levies.set_levy_year(s, "carol", 2018, 500, BIG_FUND_FEN, "CSRC figures for 2018 (test)")
        assert levies.assess_quarter(s, "carol", "citic", 2018, 1, 1_000_000, D(2018, 4, 2)).amount_fen == 5_000
        assert levies.record_payment(s, "carol", "citic", 2018, 1, 2_000, D(2018, 4, 10), "BANK-1").amount_fen == 2_000
    assert counts(engine) == before
    conflicts = [
        (lambda s: levies.add_company(s, "alice", "citic", "Other name", True), "different name"),
        (lambda s: levies.add_company(s, "alice", "citic", "CITIC Securities 中信证券", False), "different brokerage"),
        (lambda s: levies.rate_company(s, "alice", "citic", 2018, "A"), "already graded AA"),
        (lambda s: levies.set_levy_year(s, "alice", 2018, 1500, BIG_FUND_FEN, "CSRC figures for 2018 (test)"),
         "different loss_share_bp"),
        (lambda s: levies.assess_quarter(s, "alice", "citic", 2018, 1, 1_000_001, D(2018, 4, 2)),
         "different income_fen"),
        (lambda s: levies.assess_quarter(s, "alice", "citic", 2018, 1, 1_000_000, D(2018, 4, 3)),
         "different assessed_on"),
        (lambda s: levies.record_payment(s, "alice", "citic", 2018, 1, 2_001, D(2018, 4, 10), "BANK-1"),
         "different amount_fen"),
        (lambda s: levies.record_payment(s, "alice", "citic", 2018, 1, 2_000, D(2018, 4, 11), "BANK-1"),
         "different paid_on"),
    ]
    for call, message in conflicts:
        with pytest.raises(AdminError, match=message):
            with unit_of_work(engine) as s:
                call(s)
    assert counts(engine) == before
    check_books(engine)


# --- payments, overdue --------------------------------------------------------------------------------

def test_payments_overpayment_refused_and_overdue(world):
    _, engine = world
    due = tenth_session_after(D(2018, 3, 31))
    with unit_of_work(engine) as s:
        q1 = levies.assess_quarter(s, "alice", "citic", 2018, 1, 10_000_000, D(2018, 4, 2))
        assert q1.amount_fen == 50_000
        levies.record_payment(s, "alice", "citic", 2018, 1, 30_000, D(2018, 4, 9), "B-1")
    before = counts(engine)
    with pytest.raises(AdminError, match="more than the 200.00 yuan outstanding"):
        with unit_of_work(engine) as s:
            levies.record_payment(s, "alice", "citic", 2018, 1, 20_001, D(2018, 4, 20), "B-2")
    with pytest.raises(AdminError, match="no levy assessed"):
        with unit_of_work(engine) as s:
            levies.record_payment(s, "alice", "citic", 2018, 2, 100, D(2018, 4, 20), "B-3")
    assert counts(engine) == before
    with unit_of_work(engine) as s:
        assert levies.overdue_report(s, due) == []          # not late on the due date itself
        late = levies.overdue_report(s, due + dt.timedelta(days=7))
        assert [(r.company_id, r.quarter, r.outstanding_fen, r.days_late) for r in late] == [("citic", 1, 20_000, 7)]
        levies.record_payment(s, "alice", "citic", 2018, 1, 20_000, due + dt.timedelta(days=10), "B-4")
    with unit_of_work(engine) as s:
        # paid on day 10 late: still overdue before that day, not after
        assert [r.days_late for r in levies.overdue_report(s, due + dt.timedelta(days=9))] == [9]
        assert levies.overdue_report(s, due + dt.timedelta(days=10)) == []
    assert balance(engine, "levy_receivable:citic") == 0
    assert balance(engine, book.BANK) == 50_000
    check_books(engine)


# --- annual settlement --------------------------------------------------------------------------------

def _four_quarters(engine, company: str, year: int, incomes: list[int]) -> None:
    with unit_of_work(engine) as s:
        for q, income in enumerate(incomes, start=1):
            on = D(year, 12, 31) if q == 4 else D(year, 3 * q + 1, 1)
            levies.assess_quarter(s, "alice", company, year, q, income, on)


def test_settlement_with_balance_due(world):
    _, engine = world
    _four_quarters(engine, "citic", 2018, [10_000_000, 10_000_000, 10_000_000, 0])   # 3 x 500 yuan at 0.5%
    with pytest.raises(AdminError, match="quarter"):
        with unit_of_work(engine) as s:
            levies.settle_year(s, "alice", "weak", 2019, 1, D(2020, 4, 30))  # weak has no quarters at all
    prepaid = 3 * 50_000 + 0
    audited = 45_000_100
    expected_due = half_up(Fraction(audited * 5, 1000))            # 225,000.5 fen -> 225,001
    assert expected_due == 225_001
    settle_on = D(2019, 4, 30)
    with unit_of_work(engine) as s:
        st = levies.settle_year(s, "alice", "citic", 2018, audited, settle_on)
        assert st.quarter == 0 and st.amount_fen == expected_due - prepaid
        assert st.due_on == tenth_session_after(settle_on)
    assert balance(engine, "levy_receivable:citic") == expected_due
    assert balance(engine, "levy_income") == -expected_due
    before = counts(engine)
    with unit_of_work(engine) as s:                                 # identical retry
        assert levies.settle_year(s, "alice", "citic", 2018, audited, settle_on).amount_fen == expected_due - prepaid
    with pytest.raises(AdminError, match="already settled"):
        with unit_of_work(engine) as s:
            levies.settle_year(s, "alice", "citic", 2018, audited + 1, settle_on)
    assert counts(engine) == before
    with unit_of_work(engine) as s:
        levies.record_payment(s, "alice", "citic", 2018, 0, expected_due - prepaid, D(2019, 5, 6), "SET-1")
        st = levies.company_statement(s, "citic", 2018)
        assert st.outstanding_fen == prepaid                        # the quarters are still unpaid
        assert st.rate is not None and st.rate.rule == "three_years_class_a_aa_or_above"
        assert [ln.quarter for ln in st.lines] == [1, 2, 3, 4, 0]
    check_books(engine)


def test_settlement_with_refund_and_refund_paid(world):
    _, engine = world
    _four_quarters(engine, "weak", 2019, [100_000_000] * 4)        # 4 x 0.7% of 1,000,000 yuan = 28,000 yuan
    audited = 300_000_000
    refund = 4 * 700_000 - half_up(Fraction(audited * 7, 1000))   # 2,800,000 - 2,100,000 fen
    assert refund == 700_000
    with unit_of_work(engine) as s:
        st = levies.settle_year(s, "alice", "weak", 2019, audited, D(2020, 5, 6))
        assert st.amount_fen == -refund
    assert balance(engine, "levy_refund_payable:weak") == -refund
    assert balance(engine, "levy_income") == -(4 * 700_000 - refund)
    with pytest.raises(AdminError, match="not fully paid"):
        with unit_of_work(engine) as s:
            levies.pay_refund(s, "alice", "weak", 2019, D(2020, 5, 20), "R-1")
    with unit_of_work(engine) as s:
        for q in (1, 2, 3, 4):
            levies.record_payment(s, "alice", "weak", 2019, q, 700_000, D(2020, 5, 7), f"W-{q}")
    with pytest.raises(AdminError, match="more than the 7000.00 yuan left"):
        with unit_of_work(engine) as s:
            levies.pay_refund(s, "alice", "weak", 2019, D(2020, 5, 20), "R-1", refund + 1)
    with unit_of_work(engine) as s:
        p = levies.pay_refund(s, "alice", "weak", 2019, D(2020, 5, 20), "R-1")
        assert p.amount_fen == -refund
        assert levies.pay_refund(s, "alice", "weak", 2019, D(2020, 5, 20), "R-1").id == p.id   # retry
        st = levies.company_statement(s, "weak", 2019)
        assert (st.refund_fen, st.refund_paid_fen, st.outstanding_fen) == (refund, refund, 0)
    assert balance(engine, "levy_refund_payable:weak") == 0
    assert balance(engine, book.BANK) == 4 * 700_000 - refund
    check_books(engine)


# --- CSV ------------------------------------------------------------------------------------------------

def test_assess_csv_all_or_nothing_with_file_and_line(world, tmp_path):
    _, engine = world
    bad = tmp_path / "q1.csv"
    bad.write_text("company_id,income\ncitic,1000.00\nnobody,5.00\ncitic,1.00\nweak,12.345\n", encoding="utf-8")
    before = counts(engine)
    with pytest.raises(BadInput) as exc:
        with unit_of_work(engine) as s:
            levies.assess_from_csv(s, "alice", bad, 2018, 1, D(2018, 4, 2))
    problems = exc.value.problems
    assert any(p.startswith("q1.csv:4:") and "also on line 2" in p for p in problems)
    assert any(p.startswith("q1.csv:5:") and "more than two decimals" in p for p in problems)
    assert counts(engine) == before
    # the rows parse, but one company has no grade for 2019: refused at its line, nothing recorded
    bad.write_text("company_id,income\nweak,1000.00\ncitic,5.00\nnobody,1.00\n", encoding="utf-8")
    with pytest.raises(BadInput) as exc:
        with unit_of_work(engine) as s:
            levies.assess_from_csv(s, "alice", bad, 2019, 1, D(2019, 4, 2))
    assert [p.split(" ")[0] for p in exc.value.problems] == ["q1.csv:3:", "q1.csv:4:"]
    assert "no classification grade" in exc.value.problems[0]
    assert counts(engine) == before
    good = tmp_path / "q1-2018.csv"
    good.write_text("company_id,income\ncitic,1000.00\n", encoding="utf-8")
    with unit_of_work(engine) as s:
        rows = levies.assess_from_csv(s, "alice", good, 2018, 1, D(2018, 4, 2))
        assert [(r.company_id, r.amount_fen) for r in rows] == [("citic", 500)]


def test_payments_csv_all_or_nothing(world, tmp_path):
    _, engine = world
    with unit_of_work(engine) as s:
        levies.assess_quarter(s, "alice", "citic", 2018, 1, 1_000_000, D(2018, 4, 2))
        levies.assess_quarter(s, "alice", "citic", 2018, 2, 1_000_000, D(2018, 7, 2))
    f = tmp_path / "bank.csv"
    head = "company_id,year,quarter,amount,paid_on,reference\n"
    f.write_text(head + "citic,2018,1,50.00,2018-04-09,P1\ncitic,2018,2,50.01,2018-07-09,P2\n"
                 "citic,2018,2,1.00,2018-13-01,P3\n", encoding="utf-8")
    before = counts(engine)
    with pytest.raises(BadInput) as exc:
        with unit_of_work(engine) as s:
            levies.payments_from_csv(s, "alice", f)
    assert exc.value.problems[0].startswith("bank.csv:4:") and "paid_on" in exc.value.problems[0]
    f.write_text(head + "citic,2018,1,50.00,2018-04-09,P1\ncitic,2018,2,50.01,2018-07-09,P2\n", encoding="utf-8")
    with pytest.raises(BadInput) as exc:
        with unit_of_work(engine) as s:
            levies.payments_from_csv(s, "alice", f)
    assert len(exc.value.problems) == 1 and exc.value.problems[0].startswith("bank.csv:3:")
    assert "outstanding" in exc.value.problems[0]
    assert counts(engine) == before
    f.write_text(head + "citic,2018,1,50.00,2018-04-09,P1\ncitic,2018,2,50.00,2018-07-09,P2\n", encoding="utf-8")
    with unit_of_work(engine) as s:
        assert len(levies.payments_from_csv(s, "alice", f)) == 2
    assert balance(engine, "levy_receivable:citic") == 0
    check_books(engine)


# --- notices, other income --------------------------------------------------------------------------------

def test_notices_csv(world, tmp_path):
    _, engine = world
    with unit_of_work(engine) as s:
        levies.assess_quarter(s, "alice", "citic", 2018, 1, 123_456_789_01, D(2018, 4, 2))
        rows = levies.notices(s, 2018, 1)
    path = levies.write_notices(rows, tmp_path / "n.csv")
    with path.open(encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert len(got) == 1
    assert got[0]["amount"] == "617283.95" and got[0]["due_on"] == tenth_session_after(D(2018, 3, 31)).isoformat()
    assert "617,283.95" in got[0]["text_en"] and "617,283.95元" in got[0]["text_zh"]


def test_other_income(world):
    _, engine = world
    fees = 1_000_000_03
    before = counts(engine)
    with pytest.raises(AdminError, match=r"Art\. 12\(1\)"):
        with unit_of_work(engine) as s:
            levies.exchange_fees(s, "alice", "SSE", "2020-Q1", fees, False, D(2020, 4, 10), "SSE-2020Q1")
    assert counts(engine) == before
    with unit_of_work(engine) as s:
        levies.exchange_fees(s, "alice", "SSE", "2020-Q1", fees, True, D(2020, 4, 10), "SSE-2020Q1")
        levies.exchange_fees(s, "alice", "SSE", "2020-Q1", fees, True, D(2020, 4, 10), "SSE-2020Q1")   # retry
        levies.ipo_interest(s, "alice", 12_345, D(2020, 4, 11), "IPO-1")
        levies.donation(s, "alice", "A donor", 500_00, D(2020, 4, 12), "DON-1")
        levies.donation(s, "alice", "A donor", 500_00, D(2020, 4, 12), "DON-1")
    with pytest.raises(AdminError, match="different"):
        with unit_of_work(engine) as s:
            levies.donation(s, "alice", "A donor", 600_00, D(2020, 4, 12), "DON-1")
    share = half_up(Fraction(fees * 20, 100))                      # 200,000.006 yuan -> 200,000.01
    assert balance(engine, "exchange_fees:SSE") == -share
    assert balance(engine, "ipo_interest") == -12_345
    assert balance(engine, "donation") == -500_00
    assert balance(engine, book.BANK) == share + 12_345 + 500_00
    assert counts(engine)["ProtectionEntry"] == before["ProtectionEntry"] + 3
    check_books(engine)


# --- the command line ----------------------------------------------------------------------------------------

def test_cli_end_to_end(db, tmp_path):
    from redress.cli.main import app

    url, engine = db
    users(engine)
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, ["ipf", *args, "--db", url, "--as", "alice"])
        assert (result.exit_code == 0) == ok, result.output
        return " ".join(result.output.split())

    def ro(*args: str, ok: bool = True):
        result = runner.invoke(app, ["ipf", *args, "--db", url])
        assert (result.exit_code == 0) == ok, result.output
        return " ".join(result.output.split())

    run("company", "add", "citic", "--name", "CITIC 中信")
    for y in ("2016", "2017", "2018"):
        run("company", "rate", "citic", y, "aa")
    assert "2018 AA" in ro("company", "list")
    run("levy", "year", "2018", "--loss-share-bp", "500", "--fund-size", "250000000000", "--source", "test")
    text = ro("levy", "rate", "citic", "2018")
    assert "0.5%" in text and "three_years_class_a_aa_or_above" in text
    assert "〔2013〕22号" in text.replace(" ", "")
    text = run("levy", "assess", "citic", "--year", "2018", "--quarter", "1", "--income", "123456789.01",
               "--on", "2018-04-02")
    assert "617,283.95" in text
    csv_file = tmp_path / "q2.csv"
    csv_file.write_text("company_id,income\ncitic,x\n", encoding="utf-8")
    text = run("levy", "assess", "--file", str(csv_file), "--year", "2018", "--quarter", "2", ok=False)
    assert "q2.csv:2:" in text
    for q in (2, 3, 4):
        run("levy", "assess", "citic", "--year", "2018", "--quarter", str(q), "--income", "0",
            "--on", f"2018-{3 * q + 1:02d}-01" if q < 4 else "2018-12-31")
    run("levy", "pay", "citic", "--year", "2018", "--quarter", "1", "--amount", "617283.96", "--ref", "B1",
        "--on", "2018-04-10", ok=False)
    run("levy", "pay", "citic", "--year", "2018", "--quarter", "1", "--amount", "600000", "--ref", "B1",
        "--on", "2018-04-10")
    due = tenth_session_after(D(2018, 3, 31))
    text = ro("levy", "overdue", "--on", (due + dt.timedelta(days=3)).isoformat())
    assert "17,283.95" in text and "1 overdue" in text
    text = run("levy", "settle", "citic", "2018", "--audited-income", "100000000", "--on", "2019-05-06")
    assert "to refund" in text                                      # 500,000 - 617,283.95 < 0
    run("levy", "refund", "citic", "2018", "--ref", "R1", "--on", "2019-05-20", ok=False)   # Q1 not fully paid
    run("levy", "pay", "citic", "--year", "2018", "--quarter", "1", "--amount", "17283.95", "--ref", "B2",
        "--on", "2019-05-10")
    run("levy", "refund", "citic", "2018", "--ref", "R1", "--on", "2019-05-20")
    text = ro("levy", "statement", "citic", "2018")
    assert "refund 应退 117,283.95 (paid 已退 117,283.95)" in text
    out_csv = tmp_path / "notices.csv"
    ro("levy", "notices", "2018", "1", "--out", str(out_csv))
    assert "617283.95" in out_csv.read_text(encoding="utf-8")
    run("income", "exchange-fees", "SSE", "--period", "2019-Q1", "--fees", "100", "--not-at-cap", "--ref", "E1",
        ok=False)
    run("income", "exchange-fees", "SSE", "--period", "2019-Q1", "--fees", "100", "--at-cap", "--ref", "E1",
        "--on", "2019-04-10")
    run("income", "ipo-interest", "--amount", "1.23", "--ref", "I1", "--on", "2019-04-10")
    run("income", "donation", "--donor", "Someone", "--amount", "5", "--ref", "D1", "--on", "2019-04-10")
    assert balance(engine, book.BANK) == 500_000_00 + 20_00 + 1_23 + 5_00
    check_books(engine)
