"""Amounts in yuan as people write them, to fen as the books keep them, exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.admin.money import parse_yuan, yuan


@pytest.mark.parametrize("text,fen", [("0", 0), ("1", 100), ("1.5", 150), ("1.05", 105), ("1,234.56", 123456),
                                      (" 7760.08 ", 776008), ("-0.01", -1)])
def test_parse(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.234", "47399.630", "1e3", "NaN", "Infinity", "1.2.3", "--1", "+-1"])
def test_refused(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_round_trip(fen):
    assert parse_yuan(yuan(fen)) == fen
    assert parse_yuan(yuan(fen, grouping=True)) == fen
