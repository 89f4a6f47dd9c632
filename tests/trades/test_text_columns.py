"""Times, sides and security codes read in place from a column's string views agree with the Polars
expressions they replace, whatever the text, chunking or slicing of the column."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from redress.trades import tables as T

SIDE = T.Column("side", "side")

_times = st.one_of(
    st.none(), st.just(""), st.just(" "),
    st.builds(lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}", st.integers(0, 30), st.integers(0, 70), st.integers(0, 70)),
    st.builds(lambda t, l, r: " " * l + t + " " * r, st.sampled_from(["09:30:00", "14:59:59", "23:59:60"]),
              st.integers(0, 2), st.integers(0, 2)),
    st.sampled_from(["9:30:00", "09:30", "09-30-00", "0930:00 ", "09:30:00:00", "１０:００:００", "ab:cd:ef",
                     "09:30:00.5", "a very long value of many bytes"]),
    st.text(max_size=14),
)
_sides = st.one_of(st.none(), st.sampled_from(["B", "S", "b", "s", "", " ", "X", "BS", " B", "买", "Buy",
                                               "a value longer than twelve bytes"]), st.text(max_size=3))


_listed = st.lists(st.sampled_from(["600000", "000001", "688123", "a", "twelve bytes", "维权", "600000 "]),
                   min_size=1, max_size=4, unique=True)
_codes = st.one_of(st.none(), st.sampled_from(["600000", "000001", "688123", "", " ", "60000", "6000000", "600000 ",
                                               "a", "twelve bytes", "twelve bytesX", "维权", "维", "a value longer "
                                               "than twelve bytes"]), st.text(max_size=13))


def _column(values: list[str | None], cuts: list[int], skip: int) -> pl.Series:
    """The values as a String column of several chunks (as a Parquet file of several row groups reads), sliced."""
    bounds = sorted({0, len(values), *(c % (len(values) + 1) for c in cuts)})
    parts = [pl.Series("c", values[a:b], dtype=pl.String) for a, b in zip(bounds, bounds[1:], strict=False)]
    series = pl.concat(parts, rechunk=False) if parts else pl.Series("c", [], dtype=pl.String)
    return series.slice(min(skip, len(series)))


@settings(max_examples=300, deadline=None)
@given(st.lists(_times, max_size=40), st.lists(st.integers(0, 40), max_size=3), st.integers(0, 3))
def test_times_in_place_equal_the_word_expressions(values, cuts, skip):
    series = _column(values, cuts, skip)
    assert T.string_views(series) is not None or len(series) == 0
    secs, bad = T._parse_times(series)
    want_secs, want_bad = T._times_by_words(series)
    assert secs.tolist() == want_secs.tolist()
    assert bad.tolist() == want_bad.tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(_sides, max_size=40), st.lists(st.integers(0, 40), max_size=3), st.integers(0, 3))
def test_sides_in_place_equal_the_expressions(values, cuts, skip):
    series = _column(values, cuts, skip)
    parsed = T._parse_sides(series)
    assert parsed is not None
    is_buy, bad = parsed
    value, mask, _ = T._parse(SIDE, pl.String)
    want = pl.DataFrame([series.alias("side")]).select(value.alias("v"), mask.alias("m"))
    assert bad.tolist() == want["m"].to_list()
    ok = ~bad
    assert is_buy[ok].tolist() == want["v"].to_numpy()[ok].tolist()


def test_a_column_not_held_as_views_takes_the_expressions():
    assert T.string_views(pl.Series("c", ["B", "S"], dtype=pl.Categorical)) is None
    secs, bad = T._parse_times(pl.Series("c", ["09:30:00", None, "x"], dtype=pl.Categorical))
    assert secs.tolist() == [34200, -1, -1]
    assert bad.tolist() == [False, False, True]


def test_times_and_sides_of_a_parquet_file_of_several_row_groups(tmp_path):
    n = 10_000
    rng = np.random.default_rng(3)
    times = [f"{h:02d}:{m:02d}:00" for h, m in zip(rng.integers(9, 15, n), rng.integers(0, 60, n), strict=True)]
    times[17], times[9_999] = "", "25:00:00"
    sides = ["B" if x else "S" for x in rng.integers(0, 2, n)]
    sides[4_321] = "Q"
    pl.DataFrame({"time": times, "side": sides}).write_parquet(tmp_path / "t.parquet", row_group_size=1_000)
    df = pl.read_parquet(tmp_path / "t.parquet")
    assert df["time"].n_chunks() > 1
    secs, bad = T._parse_times(df["time"])
    assert np.flatnonzero(bad).tolist() == [9_999]
    assert secs[17] == -1 and secs[0] == int(times[0][:2]) * 3600 + int(times[0][3:5]) * 60
    is_buy, side_bad = T._parse_sides(df["side"])
    assert np.flatnonzero(side_bad).tolist() == [4_321]
    assert is_buy[:4_000].tolist() == [s == "B" for s in sides[:4_000]]


@settings(max_examples=300, deadline=None)
@given(st.lists(_codes, max_size=40), _listed, st.lists(st.integers(0, 40), max_size=3), st.integers(0, 3))
def test_security_codes_in_place_equal_a_lookup(values, listed, cuts, skip):
    series = _column(values, cuts, skip)
    want = [-2 if v is None or v == "" else listed.index(v) if v in listed else -1 for v in series.to_list()]
    assert T.security_codes(series, listed).tolist() == want
    assert T.security_codes(series.cast(pl.Categorical), listed).tolist() == want  # not views: through Polars


def test_security_codes_longer_than_a_view_holds_go_through_polars():
    listed = ["a code of more than twelve bytes", "600000"]
    series = pl.Series("s", ["600000", None, "a code of more than twelve bytes", "a code of more than twelve", ""])
    assert T.security_codes(series, listed).tolist() == [1, -2, 0, -1, -2]
