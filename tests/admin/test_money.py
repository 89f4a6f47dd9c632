"""Amounts in yuan as people write them, to fen as the books keep them, exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.money import (MAX_AMOUNT_FEN, MAX_BALANCE_FEN, MAX_TURNOVER_FEN, check_fen, over_limits,
                                  parse_yuan, yuan)


@pytest.mark.parametrize("text,fen", [("0", 0), ("1", 100), ("1.5", 150), ("1.05", 105), ("1,234.56", 123456),
                                      (" 7760.08 ", 776008), ("-0.01", -1)])
def test_parse(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.234", "47399.630", "1e3", "NaN", "Infinity", "1.2.3", "--1", "+-1"])
def test_refused(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


@given(st.integers(min_value=-MAX_AMOUNT_FEN, max_value=MAX_AMOUNT_FEN))
def test_round_trip(fen):
    assert parse_yuan(yuan(fen)) == fen
    assert parse_yuan(yuan(fen, grouping=True)) == fen


@pytest.mark.parametrize("text", ["92233720368547758.07", "1000000000000.01", "-1000000000000.01",
                                  "100000000000000000000000", "9" * 5000, "1" * 70 + ".00"])
def test_more_than_the_largest_amount_is_refused_in_words(text):
    with pytest.raises(ValueError, match="largest amount allowed"):
        parse_yuan(text)


@pytest.mark.parametrize("text", ["1e23", "1E5", "inf", "0x10", "１２", "1_000", "[/x]", "1.", ".5"])
def test_anything_but_plain_decimals_is_refused(text):
    with pytest.raises(ValueError, match="not an amount"):
        parse_yuan(text)


def test_the_largest_amount_itself_is_accepted():
    assert parse_yuan("1,000,000,000,000.00") == MAX_AMOUNT_FEN == 10**14


def test_limits_keep_every_sum_inside_64_bits():
    """The documented arithmetic: any partial sum over a book's postings is at most its turnover."""
    assert MAX_AMOUNT_FEN < MAX_BALANCE_FEN < MAX_TURNOVER_FEN
    assert MAX_TURNOVER_FEN * 90 < 2**63 - 1


def test_check_fen():
    assert check_fen(5, "x") == 5
    for bad in (True, 1.0, "5", -1, MAX_AMOUNT_FEN + 1):
        with pytest.raises(ValueError, match="^x: "):
            check_fen(bad, "x")


def test_over_limits_names_the_account_or_the_books():
    assert over_limits({"trust_cash": MAX_BALANCE_FEN}, ["trust_cash"], MAX_TURNOVER_FEN) is None
    assert "trust_cash" in over_limits({"trust_cash": MAX_BALANCE_FEN + 1}, ["trust_cash"], 0)
    assert "contribution:p" in over_limits({"contribution:p": -MAX_BALANCE_FEN - 1}, ["contribution:p"], 0)
    assert over_limits({"a": MAX_BALANCE_FEN + 1}, ["b"], 0) is None     # only the accounts the entry touches
    assert "moved" in over_limits({}, [], MAX_TURNOVER_FEN + 1)
