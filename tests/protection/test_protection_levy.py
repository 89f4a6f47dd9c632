"""Levies on securities companies: the published rate tables, instalments, settlement, overdue instalments
and the exchanges' fee share."""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.market.calendar import sessions
from redress.protection import (
    Grade,
    ProtectionDataError,
    ProtectionError,
    annual_settlement,
    exchange_fee_share_fen,
    levy_fen,
    levy_rules,
    overdue,
    parse_levy_rules,
    quarterly_schedule,
    rate_for,
)
from redress.protection._common import read_data

BIG_FUND_FEN = 25_000_000_000_000   # 250 billion yuan
TWENTY_BN_FEN = 2_000_000_000_000

# CSRC Announcement [2013] No. 22, Art. 2(1): the rate by grade, in basis points
TABLE_2013 = {"AAA": 50, "AA": 75, "A": 100, "BBB": 150, "BB": 175, "B": 200,
              "CCC": 250, "CC": 275, "C": 300, "D": 350}
# the 2019 levy year (applied to 2020 as well), by class
TABLE_2019 = {"A": 50, "B": 60, "C": 70, "D": 70}


def rate(year: int, grade: str, history: dict[int, str] | None = None, loss_share_bp: int = 0,
         fund_size_fen: int = BIG_FUND_FEN):
    return rate_for(year, grade, grades_history=history or {}, loss_share_bp=loss_share_bp,
                    fund_size_fen=fund_size_fen)


# --- rates ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("grade,rate_bp", sorted(TABLE_2013.items()))
def test_2013_table_every_grade(grade, rate_bp):
    r = rate(2016, grade)
    assert r.rate_bp == rate_bp
    assert r.rule == "grade_table"
    assert "〔2013〕22号" in r.source


def test_fund_of_exactly_20_bn_applies_the_table():
    assert rate(2016, "B", fund_size_fen=TWENTY_BN_FEN).rate_bp == 200


def test_below_20_bn_is_refused():
    with pytest.raises(ProtectionError, match="no rate table is recorded") as exc:
        rate(2016, "B", fund_size_fen=TWENTY_BN_FEN - 1)
    assert exc.value.field == "fund_size_fen"
    assert "未记录" in str(exc.value)


def test_three_class_a_years_and_aa_pays_half_percent():
    r = rate(2016, "AA", {2014: "A", 2015: "AAA"})
    assert (r.rate_bp, r.rule) == (50, "three_years_class_a_aa_or_above")
    assert rate(2016, "AAA", {2014: "AA", 2015: "A"}).rate_bp == 50   # already 0.5% by the table


def test_three_class_a_years_and_grade_a_pays_075():
    r = rate(2016, "A", {2014: "AA", 2015: "A"})
    assert (r.rate_bp, r.rule) == (75, "three_years_class_a_grade_a")


@pytest.mark.parametrize("history", [{2015: "A"}, {2014: "BBB", 2015: "A"}, {2013: "A", 2015: "A"}, {}])
def test_consecutive_rule_needs_both_previous_years_in_class_a(history):
    r = rate(2016, "AA", history)
    assert (r.rate_bp, r.rule) == (75, "grade_table")


def test_consecutive_rule_ignores_older_years():
    assert rate(2016, "A", {2010: "D", 2014: "A", 2015: "A"}).rate_bp == 75


@pytest.mark.parametrize("loss_share_bp", [1000, 2000, 3000])
@pytest.mark.parametrize("grade,expected", [("AAA", 50), ("AA", 50), ("A", 50), ("BBB", 75), ("BB", 75),
                                            ("B", 75), ("CCC", 100), ("CC", 100), ("C", 100), ("D", 125)])
def test_loss_share_10_to_30_inclusive(loss_share_bp, grade, expected):
    r = rate(2016, grade, loss_share_bp=loss_share_bp)
    assert r.rate_bp == expected
    if grade not in ("AAA",):
        assert r.rule == "loss_share_10_to_30_pct"


def test_loss_share_below_10_does_not_apply():
    assert rate(2016, "D", loss_share_bp=999).rate_bp == 350


@pytest.mark.parametrize("loss_share_bp", [3001, 5000, 10000])
@pytest.mark.parametrize("grade", list(TABLE_2013))
def test_loss_share_above_30_everyone_pays_minimum(loss_share_bp, grade):
    r = rate(2016, grade, loss_share_bp=loss_share_bp)
    assert r.rate_bp == 50
    if grade != "AAA":
        assert r.rule == "loss_share_above_30_pct"


def test_lowest_rule_wins_and_every_candidate_is_listed():
    r = rate(2016, "A", {2014: "A", 2015: "A"}, loss_share_bp=1500)
    # table 1%, three class-A years with grade A 0.75%, loss share band 0.5%
    assert [(c.rule, c.rate_bp) for c in r.candidates] == [
        ("grade_table", 100), ("three_years_class_a_grade_a", 75), ("loss_share_10_to_30_pct", 50)]
    assert (r.rate_bp, r.rule) == (50, "loss_share_10_to_30_pct")
    assert "第三条" in r.source
    assert "lowest rate" in r.explain()


def test_tie_names_the_first_rule():
    r = rate(2016, "AAA")
    assert (r.rate_bp, r.rule) == (50, "grade_table")


@pytest.mark.parametrize("year", [2019, 2020])
@pytest.mark.parametrize("grade", list(TABLE_2013))
def test_2019_table_applies_to_2019_and_2020(year, grade):
    r = rate(year, grade, loss_share_bp=5000, fund_size_fen=0)
    assert r.rate_bp == TABLE_2019[Grade(grade).klass]
    assert r.table == "csrc_2020_levy_2019"


@pytest.mark.parametrize("year", [2012, 2021, 2030])
def test_year_without_table_is_refused(year):
    with pytest.raises(ProtectionError, match=f"no levy rate table is recorded for levy year {year}"):
        rate(year, "A")


@pytest.mark.parametrize("bad", [{"grade": "AAAA"}, {"loss_share_bp": 10001}, {"loss_share_bp": -1},
                                 {"fund_size_fen": 1.5}, {"history": {2016: "A"}}, {"history": {2015: "E"}}])
def test_bad_inputs_are_refused(bad):
    args = {"grade": "A", "history": {}, "loss_share_bp": 0, "fund_size_fen": BIG_FUND_FEN} | bad
    with pytest.raises(ProtectionError):
        rate(2016, args["grade"], args["history"], args["loss_share_bp"], args["fund_size_fen"])


# --- amounts -------------------------------------------------------------------------------------------

def test_levy_rounds_half_up_once():
    assert levy_fen(1_000_000_00, 50) == 500_000     # 0.5% of 1,000,000 yuan = 5,000 yuan
    assert levy_fen(100, 50) == 1                    # 0.5 fen -> 1
    assert levy_fen(99, 50) == 0                     # 0.495 fen -> 0
    assert levy_fen(300, 75) == 2                    # 2.25 fen -> 2
    assert levy_fen(0, 350) == 0


@given(st.integers(0, 10**15), st.integers(0, 10_000))
def test_levy_matches_exact_reference(income_fen, rate_bp):
    exact = Fraction(income_fen * rate_bp, 10_000)
    got = levy_fen(income_fen, rate_bp)
    assert got - Fraction(1, 2) <= exact < got + Fraction(1, 2)


def test_levy_refuses_floats_and_negatives():
    with pytest.raises(ProtectionError):
        levy_fen(100.0, 50)  # type: ignore[arg-type]
    with pytest.raises(ProtectionError):
        levy_fen(-1, 50)


def tenth_session_after(day: dt.date) -> dt.date:
    found = sessions("XSHG").sessions_between(day + dt.timedelta(days=1), day + dt.timedelta(days=60))
    return found[9]


def test_quarterly_schedule_due_dates_follow_the_calendar():
    schedule = quarterly_schedule(2023, [1_000_000_00, 2_000_000_00, 3_000_000_00, 4_000_000_00], 50)
    ends = [dt.date(2023, 3, 31), dt.date(2023, 6, 30), dt.date(2023, 9, 30), dt.date(2023, 12, 31)]
    assert [i.quarter for i in schedule] == [1, 2, 3, 4]
    assert [i.quarter_end for i in schedule] == ends
    assert [i.due_date for i in schedule] == [tenth_session_after(e) for e in ends]
    assert [i.amount_fen for i in schedule] == [500_000, 1_000_000, 1_500_000, 2_000_000]
    assert all("第十五条" in i.source for i in schedule)


def test_national_day_2023_hand_checked():
    # 2023-09-29 .. 2023-10-06 closed (Mid-Autumn + National Day); 2023-10-07/08 were make-up working days
    # but not exchange sessions.  Sessions after 2023-09-30: 10-09 (1), 10-10, 10-11, 10-12, 10-13 (5),
    # 10-16, 10-17, 10-18, 10-19 (9), 10-20 (10).
    between = sessions("XSHG").sessions_between(dt.date(2023, 9, 29), dt.date(2023, 10, 8))
    assert between == []
    q3 = quarterly_schedule(2023, {1: 0, 2: 0, 3: 123_45, 4: 0}, 100)[2]
    assert q3.due_date == dt.date(2023, 10, 20)
    assert q3.amount_fen == 123   # 1% of 123.45 yuan = 1.2345 yuan -> 123 fen


def test_schedule_needs_four_quarters():
    with pytest.raises(ProtectionError, match="quarters 1, 2, 3 and 4"):
        quarterly_schedule(2023, [1, 2, 3], 50)


def test_schedule_beyond_the_calendar_is_refused():
    with pytest.raises(ProtectionError, match="trading calendar ends"):
        quarterly_schedule(2099, [0, 0, 0, 0], 50)


def test_schedule_accepts_a_levy_rate():
    r = rate(2016, "BBB")
    schedule = quarterly_schedule(2016, [10_000, 0, 0, 0], r)
    assert schedule[0].rate_bp == 150 and schedule[0].amount_fen == 150


def test_annual_settlement_balance_due():
    s = annual_settlement(1_000_000_000_00, 75, prepaid_fen=6_000_000_00)
    assert s.due_fen == 7_500_000_00
    assert s.balance_fen == 1_500_000_00
    assert (s.owed_fen, s.refund_fen) == (1_500_000_00, 0)


def test_annual_settlement_refund():
    s = annual_settlement(800_000_000_00, 50, prepaid_fen=5_000_000_00)
    assert s.due_fen == 4_000_000_00
    assert s.balance_fen == -1_000_000_00
    assert (s.owed_fen, s.refund_fen) == (0, 1_000_000_00)


def test_annual_settlement_exact():
    s = annual_settlement(1_000, 50, prepaid_fen=5)
    assert (s.due_fen, s.balance_fen) == (5, 0)


def test_overdue_lists_unpaid_instalments_with_days_late():
    schedule = quarterly_schedule(2023, [100_000, 100_000, 100_000, 100_000], 100)  # 1,000 fen each
    q3_due = schedule[2].due_date
    on = dt.date(2023, 10, 25)
    late = overdue(schedule, {1: 1_000, 2: 400}, on)
    assert [(o.quarter, o.paid_fen, o.outstanding_fen) for o in late] == [(2, 400, 600), (3, 0, 1_000)]
    assert late[1].days_late == (on - q3_due).days == 5
    assert late[0].days_late == (on - schedule[1].due_date).days


def test_not_overdue_on_the_due_date():
    schedule = quarterly_schedule(2023, [100_000] * 4, 100)
    assert overdue(schedule, {}, schedule[0].due_date) == []
    assert [o.days_late for o in overdue(schedule, {}, schedule[0].due_date + dt.timedelta(days=1))] == [1]


def test_overpayment_does_not_cover_another_quarter():
    schedule = quarterly_schedule(2023, [100_000] * 4, 100)
    late = overdue(schedule, {1: 5_000}, dt.date(2023, 8, 1))
    assert [o.quarter for o in late] == [2]


def test_overdue_payment_for_unknown_quarter_is_refused():
    schedule = quarterly_schedule(2023, [100_000] * 4, 100)
    with pytest.raises(ProtectionError, match="no instalment for quarter 5"):
        overdue(schedule, {5: 1}, dt.date(2024, 1, 1))


# --- exchange fees -------------------------------------------------------------------------------------

def test_exchange_fee_share():
    assert exchange_fee_share_fen(1_000_000_00, risk_fund_at_cap=True) == 200_000_00
    assert exchange_fee_share_fen(1_000_000_00, risk_fund_at_cap=False) == 0
    assert exchange_fee_share_fen(3, risk_fund_at_cap=True) == 1      # 0.6 fen -> 1
    assert exchange_fee_share_fen(2, risk_fund_at_cap=True) == 0      # 0.4 fen -> 0
    assert levy_rules().exchange_fee_share().share_bp == 2000


# --- the data file -------------------------------------------------------------------------------------

def test_data_file_loads_with_sources():
    rules = levy_rules()
    assert [(t.first_levy_year, t.last_levy_year) for t in rules.tables] == [(2013, 2018), (2019, 2020)]
    for t in rules.tables:
        assert t.source and t.effective
        for r in t.rules:
            assert r.source


def _mutated(old: str, new: str) -> str:
    text, _ = read_data("levy_rates")
    assert old in text
    return text.replace(old, new, 1)


def test_unknown_key_names_file_and_key():
    text = _mutated("last_levy_year = 2018", "last_levy_year = 2018\nmaximum_rate = 3")
    with pytest.raises(ProtectionDataError, match="levy_rates.toml: table 1: maximum_rate"):
        parse_levy_rules(text, "law/data/levy_rates.toml")


def test_unknown_top_level_key_is_an_error():
    text, origin = read_data("levy_rates")
    with pytest.raises(ProtectionDataError, match="levy_rates.toml: surprise"):
        parse_levy_rules("surprise = 1\n" + text, origin)


def test_rate_outside_legal_range_is_an_error():
    text = _mutated("AAA = 50, AA = 75", "AAA = 40, AA = 75")
    with pytest.raises(ProtectionDataError, match="outside the legal range"):
        parse_levy_rules(text, "levy_rates.toml")


def test_empty_source_is_an_error():
    text, _ = read_data("levy_rates")
    text = re.sub(r'source = "中国证监会2020年3月6日[^"]*"', 'source = " "', text)
    with pytest.raises(ProtectionDataError, match="table 2: source"):
        parse_levy_rules(text, "levy_rates.toml")


def test_overlapping_tables_are_an_error():
    text = _mutated("first_levy_year = 2019", "first_levy_year = 2018")
    with pytest.raises(ProtectionDataError, match="overlap"):
        parse_levy_rules(text, "levy_rates.toml")


def test_schedule_refuses_a_rate_of_another_year():
    with pytest.raises(ProtectionError, match="levy year 2016"):
        quarterly_schedule(2017, [0, 0, 0, 0], rate(2016, "A"))
