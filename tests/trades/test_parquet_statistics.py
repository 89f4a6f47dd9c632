"""A Parquet table whose statistics show one security in every row is read without that column."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from redress.engine.pipeline import compute_case_dir
from redress.errors import CaseError
from redress.trades.tables import single_security
from support.cases import day, write_case

LISTED = ("600001", "000002")


def _trades(securities, quantities=None):
    n = len(securities)
    return pa.table({"investor_id": [f"I{k % 3}" for k in range(n)], "security": securities,
                     "date": pa.array([day(5 + k % 10) for k in range(n)]).cast(pa.string()),
                     "time": [""] * n, "seq": list(range(n)), "side": ["B" if k % 2 == 0 else "S" for k in range(n)],
                     "quantity": quantities or [100] * n, "price": [10.0 + k for k in range(n)]})


def _write(path, table, **kwargs):
    pq.write_table(table, path, **kwargs)
    return path


@pytest.mark.parametrize(("securities", "kwargs", "expected"), [
    (["600001"] * 6, {}, "600001"),
    (["600001"] * 6, {"row_group_size": 2}, "600001"),  # the same code in every row group
    (["600001"] * 3 + ["000002"] * 3, {}, None),  # two codes
    (["600001"] * 3 + ["000002"] * 3, {"row_group_size": 3}, None),  # one code per row group, not one for all
    (["600001"] * 5 + [None], {}, None),  # a missing code
    (["600002"] * 6, {}, None),  # a code the case does not list
    (["600001"] * 6, {"write_statistics": False}, None),  # nothing shown
])
def test_single_security_is_taken_only_from_what_the_statistics_prove(tmp_path, securities, kwargs, expected):
    path = _write(tmp_path / "trades.parquet", _trades(securities), **kwargs)
    assert single_security(path, LISTED) == expected


def test_a_long_code_is_not_trusted_to_the_statistics(tmp_path):
    code = "X" * 33
    path = _write(tmp_path / "trades.parquet", _trades([code] * 4))
    assert single_security(path, (code,)) is None
    assert single_security(_write(tmp_path / "short.parquet", _trades(["X" * 32] * 4)), ("X" * 32,)) == "X" * 32


def _case(root, table):
    write_case(root)
    (root / "trades.csv").unlink()
    pq.write_table(table, root / "trades.parquet")
    return root


def test_results_do_not_depend_on_whether_the_column_was_read(tmp_path, monkeypatch):
    from redress.trades import tables

    case = _case(tmp_path / "case", _trades(["600001"] * 40))
    unread = compute_case_dir(case)
    monkeypatch.setattr(tables, "single_security", lambda path, securities: None)
    read = compute_case_dir(case)
    assert unread.equals(read) and unread.height == 3


def test_a_rejected_row_still_shows_its_security(tmp_path):
    case = _case(tmp_path / "case", _trades(["600001"] * 4, quantities=[100, 100, -5, 100]))
    assert single_security(case / "trades.parquet", ("600001",)) == "600001"
    with pytest.raises(CaseError, match=r"trades.parquet:3: quantity '-5'"):
        compute_case_dir(case)
    compute_case_dir(case, skip_bad_rows=True)
    from redress.law.plan import load_case
    from redress.trades.tables import read_case_tables

    rejected = read_case_tables(case, load_case(case), skip_bad_rows=True).rejected
    assert rejected["row"].to_list() == [f"I2,600001,{day(7)},,2,B,-5,12.0"]
    assert pl.read_parquet(case / "trades.parquet")["security"].to_list() == ["600001"] * 4


def test_a_file_that_is_not_parquet_is_refused_by_name(tmp_path):
    case = _case(tmp_path / "case", _trades(["600001"] * 4))
    (case / "trades.parquet").write_bytes(b"PAR1 this is not a Parquet file")
    assert single_security(case / "trades.parquet", ("600001",)) is None
    with pytest.raises(CaseError, match=r"trades.parquet: cannot read Parquet file"):
        compute_case_dir(case)
