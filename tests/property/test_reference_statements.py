"""Checks of the reference on hand-made cases for loss-rules.md section 2 (spc2003 without a cap on the
100% turnover day) and section 9 (several false statements).  Every expected number is worked out by hand.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.property.strategies import CaseSpec, write_case
from tests.property.test_reference_selfcheck import (
    base_date_case,
    day,
    iso,
    make_case,
    mean_close,
    run_base_dates,
    trade,
)
from tests.reference.loss_reference import STATEMENT_OUTPUT_COLUMNS, base_dates, compute_reference

# --------------------------------------------------------------------------------------------------
# Section 2: spc2003, B = day k* wherever it falls
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "volume", "last", "day_number", "turnover", "flags"),
    [
        # 20,000 of 1,000,000 a day: cum_50 = 1 exactly -> k* = 50 (D = session 20, B = session 69).
        ("spc2003", 20_000, 120, 50, Fraction(1), []),
        ("spc2022", 20_000, 120, 30, Fraction(6, 10), []),  # spc2022 still stops at day 30
        # 4,700 a day: cum_212 = 0.9964, cum_213 = 1.0011 -> k* = 213, far past day 30.
        ("spc2003", 4_700, 240, 213, Fraction(4_700 * 213, 1_000_000), []),
        # 31,000 a day: cum_32 = 0.992, cum_33 = 1.023 -> k* = 33 (one of the first days past the old cap).
        ("spc2003", 31_000, 70, 33, Fraction(1023, 1000), []),
        # 5,000 a day over 101 trading days: cum = 0.505, never 100% in the file -> B = day 30.
        ("spc2003", 5_000, 120, 30, Fraction(15, 100), []),
        # Never 100% and only 12 trading days in the file: B = the last day, truncated.
        ("spc2003", 5_000, 31, 12, Fraction(6, 100), ["base_date_truncated"]),
    ],
)
def test_spc2003_base_date_has_no_cap(
    rules: str, volume: int, last: int, day_number: int, turnover: Fraction, flags: list[str]
) -> None:
    result = run_base_dates(base_date_case(rules, volume, last=last))
    assert result["trading_days"] == day_number
    assert result["base_date"] == day(20 + day_number - 1)
    assert result["cumulative_turnover"] == turnover
    assert result["base_price"] == mean_close(20, 20 + day_number - 1)
    assert result["flags"] == flags


def test_spc2003_late_base_date_reaches_the_rows() -> None:
    # Buy day 5 1,000 @ 11.00 (eligible, I = day 3, D = day 20); sell day 60 600 @ 10.00.
    # k* = 50 -> B = session 69: the day-60 sell is inside [D, B] (with a day-30 cap it would not be).
    # Closes: session n closes 10.00 + (n - 20) fen, so P_B = mean of 10.00 .. 10.49 = 10.245.
    # difference = (11 - 10) * 600 + (11 - 10.245) * 400 = 600 + 302 = 902.
    spec = base_date_case("spc2003", 20_000, last=120)
    spec.trades = [trade(5, "B", 1000, "11.00"), trade(60, "S", 600, "10.00")]
    spec.plan["interest"] = False
    row = run_rows(spec)[0]
    assert (row["q_sold"], row["q_held"]) == (600, 400)
    assert row["base_price"] == Decimal("10.2450")
    assert row["difference_loss"] == Decimal("902.00")
    assert row["flags"] == ""


# --------------------------------------------------------------------------------------------------
# Section 9: several statements
# --------------------------------------------------------------------------------------------------


def statement_case(statements: list[dict[str, Any]], rule: str | None, trades: list[dict[str, str]],
                   **files: Any) -> CaseSpec:
    spec = make_case(trades=trades, base_day=None, base_price=None, **files)
    for key in ("implementation_date", "disclosure_date"):
        del spec.case[key]
    if rule is not None:
        spec.case["statements_rule"] = rule
    spec.statements = statements
    return spec


def statement(sid: str, i_day: int, d_day: int, base_day: int | None = None, base_price: str | None = None
              ) -> dict[str, Any]:
    table: dict[str, Any] = {"id": sid, "implementation_date": iso(i_day), "disclosure_date": iso(d_day)}
    if base_day is not None:
        table["base_date"] = iso(base_day)
    if base_price is not None:
        table["base_price"] = Decimal(base_price)
    return table


def run_rows(spec: CaseSpec) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        return compute_reference(write_case(Path(tmp), spec))


# s1: buy window [day 3, day 10), B = day 15, P_B = 9.00; s2: [day 10, day 20), B = day 30, P_B = 7.50.
S1 = statement("s1", 3, 10, base_day=15, base_price="9.00")
S2 = statement("s2", 10, 20, base_day=30, base_price="7.50")
# Day 5 B 1,000 @ 10.00 (eligible under s1, pre under s2); day 12 B 1,000 @ 11.00 (post under s1,
# eligible under s2); day 25 S 500 @ 8.00 (after B under s1; under s2 FIFO takes it from the day-5 lot).
CHAINED_TRADES = [trade(5, "B", 1000, "10.00"), trade(12, "B", 1000, "11.00"), trade(25, "S", 500, "8.00")]


def test_each_gives_one_row_per_statement_in_case_order() -> None:
    rows = run_rows(statement_case([S2, S1], "each", CHAINED_TRADES))
    assert [list(r) for r in rows] == [STATEMENT_OUTPUT_COLUMNS] * 2
    assert STATEMENT_OUTPUT_COLUMNS[:4] == ["investor_id", "security", "statement", "status"]
    # "in the order (investor_id, security, statement's position in case.toml)": s2 is listed first.
    s2, s1 = rows
    assert (s2["statement"], s1["statement"]) == ("s2", "s1")
    # s1: q_held 1,000, (10.00 - 9.00) * 1,000 = 1,000; + 0.30 + 1.00 = 1,001.30.
    assert (s1["eligible_bought"], s1["q_sold"], s1["q_held"]) == (1000, 0, 1000)
    assert s1["base_price"] == Decimal("9.0000")
    assert s1["difference_loss"] == Decimal("1000.00")
    assert s1["compensation"] == Decimal("1001.30")
    # s2: the sell consumed the pre lot: q_held 1,000, (11.00 - 7.50) * 1,000 = 3,500; + 1.05 + 3.50.
    assert (s2["eligible_bought"], s2["q_sold"], s2["q_held"]) == (1000, 0, 1000)
    assert s2["avg_buy"] == Decimal("11.0000")
    assert s2["difference_loss"] == Decimal("3500.00")
    assert s2["compensation"] == Decimal("3504.55")


def test_each_is_the_default_rule() -> None:
    assert run_rows(statement_case([S1, S2], None, CHAINED_TRADES)) == run_rows(
        statement_case([S1, S2], "each", CHAINED_TRADES)
    )


def test_best_for_investor_takes_the_highest_compensation() -> None:
    rows = run_rows(statement_case([S1, S2], "best_for_investor", CHAINED_TRADES))
    assert len(rows) == 1
    assert rows[0]["statement"] == "s2"
    assert rows[0]["compensation"] == Decimal("3504.55")


def test_best_for_investor_ties() -> None:
    a = statement("a", 3, 10, base_day=30, base_price="7.50")
    b = statement("b", 10, 20, base_day=30, base_price="7.50")
    trades = [
        # GAIN: bought day 5 @ 7.00: under a no_loss (-50.00), under b no_eligible_shares (pre):
        # both pay 0; no_loss is the better status although b is listed first.
        trade(5, "B", 100, "7.00", investor="GAIN"),
        # NONE: bought before both windows: no_eligible_shares under both -> the first listed (b).
        trade(1, "B", 100, "9.00", investor="NONE"),
        # EXCL: excluded under both -> the first listed (b).
        trade(5, "B", 100, "9.00", investor="EXCL"),
    ]
    spec = statement_case([b, a], "best_for_investor", trades,
                          exclusions=[{"investor_id": "EXCL", "reason": "director"}])
    rows = {r["investor_id"]: r for r in run_rows(spec)}
    assert (rows["GAIN"]["statement"], rows["GAIN"]["status"]) == ("a", "no_loss")
    assert rows["GAIN"]["difference_loss"] == Decimal("-50.00")
    assert (rows["NONE"]["statement"], rows["NONE"]["status"]) == ("b", "no_eligible_shares")
    assert (rows["EXCL"]["statement"], rows["EXCL"]["status"]) == ("b", "excluded")


def test_best_for_investor_equal_statements_go_to_the_first_listed() -> None:
    first = statement("first", 3, 20, base_day=30, base_price="7.50")
    second = {**first, "id": "second"}
    rows = run_rows(statement_case([first, second], "best_for_investor", [trade(5, "B", 1000, "10.00")]))
    assert [(r["statement"], r["compensation"]) for r in rows] == [("first", Decimal("2503.25"))]


def test_statement_base_dates_are_computed_from_their_own_disclosure() -> None:
    # 100,000 a day from session 1: k* = 10 days after each D. spc2003: B = the 10th trading day from D_k.
    tables = [statement("x", 3, 10), statement("y", 10, 20)]
    spec = statement_case(tables, "each", [trade(5, "B", 100, "10.00")])
    spec.case["rules"] = "spc2003"
    spec.market = base_date_case("spc2003", 100_000, last=60).market
    with tempfile.TemporaryDirectory() as tmp:
        found = base_dates(write_case(Path(tmp), spec))
    assert set(found) == {("x", "600123"), ("y", "600123")}
    assert found[("x", "600123")]["statement"] == "x"
    assert found[("x", "600123")]["base_date"] == day(19)
    assert found[("y", "600123")]["base_date"] == day(29)
    assert found[("y", "600123")]["base_price"] == mean_close(20, 29)


@pytest.mark.parametrize(
    ("windows", "overlap"),
    [
        (((3, 10), (10, 20)), False),  # chained: D_1 = I_2, [3, 10) and [10, 20) share no day
        (((3, 10), (9, 20)), True),
        (((10, 20), (3, 11)), True),  # listed out of order
        (((3, 20), (5, 6)), True),  # one inside the other
        (((3, 10), (12, 20), (15, 25)), True),  # the second and third
    ],
)
def test_each_refuses_overlapping_windows(windows: tuple[tuple[int, int], ...], overlap: bool) -> None:
    tables = [statement(f"s{n}", i, d, base_day=30, base_price="7.50") for n, (i, d) in enumerate(windows, 1)]
    trades = [trade(5, "B", 100, "10.00")]
    if overlap:
        with pytest.raises(ValueError, match="overlap"):
            run_rows(statement_case(tables, "each", trades))
    else:
        assert len(run_rows(statement_case(tables, "each", trades))) == len(windows)
    # best_for_investor accepts overlapping windows
    assert len(run_rows(statement_case(tables, "best_for_investor", trades))) == 1
