"""Legal test cases: hand-computed expectations (tests/legal/cases/*/expected.csv).

Each case folder is a case directory plus ``expected.csv`` (only the cells the case asserts; an empty
cell asserts nothing) and a README.md with the arithmetic.  The same expectations are checked against
the fast engine (``test_engine_*``) and against the independent reference implementation
(``test_reference_*``), so that the reference, too, is validated against hand computation.
Optionally ``expected_base_dates.csv`` asserts the per-security base date.  A case with several false
statements (``[[case.statements]]``) has a ``statement`` column in both files: its rows are matched on
(investor, security, statement) and its base dates on (statement, security).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.reference.loss_reference import (
    MONEY_COLUMNS,
    PRICE_COLUMNS,
    QUANTITY_COLUMNS,
    base_dates,
    compute_reference,
)

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "expected.csv").exists())

MONEY_TOLERANCE = Decimal("0.005")
PRICE_TOLERANCE = Decimal("0.00005")
QUANTITY_TOLERANCE = Decimal("0.000001")
EXACT_COLUMNS = {"status", "flags"}


def read_expected(case_dir: Path, name: str = "expected.csv") -> list[dict[str, str]]:
    with (case_dir / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def as_decimal(value: Any) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def tolerance(column: str) -> Decimal:
    if column in MONEY_COLUMNS:
        return MONEY_TOLERANCE
    if column in PRICE_COLUMNS:
        return PRICE_TOLERANCE
    if column in QUANTITY_COLUMNS:
        return QUANTITY_TOLERANCE
    raise KeyError(column)


def cell_matches(column: str, expected: str, got: Any) -> bool:
    if column in EXACT_COLUMNS:
        return ("" if got is None else str(got)) == expected
    if got is None:
        return False
    return abs(as_decimal(got) - Decimal(expected)) <= tolerance(column)


KEY_COLUMNS = ("investor_id", "security", "statement")


def row_key(row: dict[str, Any]) -> tuple[str, str, str]:
    """(investor, security, statement); the statement is "" in a case with one set of dates."""
    statement = row.get("statement")
    return str(row["investor_id"]), str(row["security"]), "" if statement is None else str(statement)


def describe(key: tuple[str, str, str]) -> str:
    return f"investor {key[0]}, security {key[1]}" + (f", statement {key[2]}" if key[2] else "")


def mismatches(case_dir: Path, rows: list[dict[str, Any]]) -> list[str]:
    """Every expected cell that the computed rows do not match, named (case, investor, column)."""
    by_key = {row_key(r): r for r in rows}
    problems = [f"case {case_dir.name}: {len(rows) - len(by_key)} rows with the same (investor, security, "
                f"statement)"] if len(by_key) != len(rows) else []
    for expected in read_expected(case_dir):
        key = row_key(expected)
        where = f"case {case_dir.name}, {describe(key)}"
        if key not in by_key:
            problems.append(f"{where}: row missing from the output")
            continue
        row = by_key[key]
        for column, value in expected.items():
            if column in KEY_COLUMNS or (value == "" and column != "flags"):
                continue
            if column not in row:
                problems.append(f"{where}, column {column}: missing from the output")
            elif not cell_matches(column, value, row[column]):
                problems.append(f"{where}, column {column}: expected {value!r}, got {row[column]!r}")
    return problems


def check_case(case_dir: Path, compute: Callable[[Path], list[dict[str, Any]]]) -> None:
    problems = mismatches(case_dir, compute(case_dir))
    assert not problems, "\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# The independent reference implementation
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_reference_matches_hand_computation(case_dir: Path) -> None:
    check_case(case_dir, compute_reference)


BASE_DATE_CASES = [p for p in CASES if (p / "expected_base_dates.csv").exists()]


@pytest.mark.parametrize("case_dir", BASE_DATE_CASES, ids=[p.name for p in BASE_DATE_CASES])
def test_reference_base_dates_match_hand_computation(case_dir: Path) -> None:
    computed = base_dates(case_dir)
    problems = []
    for expected in read_expected(case_dir, "expected_base_dates.csv"):
        statement = expected.get("statement", "")
        got = computed[(statement, expected["security"]) if statement else expected["security"]]
        where = f"case {case_dir.name}, security {expected['security']}" + (f", statement {statement}"
                                                                          if statement else "")
        checks = {
            "base_date": (expected["base_date"], got["base_date"].isoformat()),
            "base_price": (Decimal(expected["base_price"]), got["base_price"]),
            "trading_days": (int(expected["trading_days"]), got["trading_days"]),
            "cumulative_turnover": (Fraction(expected["cumulative_turnover"]), got["cumulative_turnover"]),
            "flags": (expected["flags"], ";".join(got["flags"])),
        }
        for column, (want, have) in checks.items():
            if want != have:
                problems.append(f"{where}, {column}: expected {want!r}, got {have!r}")
    assert not problems, "\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# The fast engine
# --------------------------------------------------------------------------------------------------


def engine_rows(case_dir: Path) -> list[dict[str, Any]]:
    from redress.engine.pipeline import compute_case_dir

    return compute_case_dir(case_dir).to_dicts()


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_engine_matches_hand_computation(case_dir: Path) -> None:
    check_case(case_dir, engine_rows)


# --------------------------------------------------------------------------------------------------
# The command line, as a user (or a court) reads it: the written file carries the hand-rounded figures
# --------------------------------------------------------------------------------------------------


def _written_cells_match(column: str, expected: str, written: str) -> bool:
    if column in EXACT_COLUMNS:
        return written == expected
    return written != "" and Decimal(written) == Decimal(expected)


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_compute_command_writes_the_hand_rounded_figures(case_dir: Path, tmp_path: Path) -> None:
    """``redress compute`` rounds once, half-up, to the fen and the 4th price decimal: every asserted cell of
    expected.csv must appear in the written CSV exactly, not merely within a tolerance."""
    from typer.testing import CliRunner

    from redress.cli.main import app

    out = tmp_path / "results.csv"
    res = CliRunner().invoke(app, ["compute", str(case_dir), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    with out.open(newline="", encoding="utf-8") as handle:
        written = {row_key(r): r for r in csv.DictReader(handle)}
    problems = []
    for expected in read_expected(case_dir):
        key = row_key(expected)
        row = written.get(key)
        if row is None:
            problems.append(f"{describe(key)}: no row written")
            continue
        for column, value in expected.items():
            if column in KEY_COLUMNS or (value == "" and column != "flags"):
                continue
            if not _written_cells_match(column, value, row[column]):
                problems.append(f"{describe(key)}, {column}: expected {value!r}, written {row[column]!r}")
    assert not problems, "\n" + "\n".join(problems)


@pytest.mark.parametrize("case_dir", BASE_DATE_CASES, ids=[p.name for p in BASE_DATE_CASES])
def test_base_date_command_matches_hand_computation(case_dir: Path) -> None:
    import json

    from typer.testing import CliRunner

    from redress.cli.main import app

    res = CliRunner().invoke(app, ["base-date", str(case_dir), "--json"])
    assert res.exit_code == 0, res.output
    printed = {(b.get("statement", ""), b["security"]): b for b in json.loads(res.stdout)}
    problems = []
    for expected in read_expected(case_dir, "expected_base_dates.csv"):
        statement = expected.get("statement", "")
        got = printed[(statement, expected["security"])]
        checks = {
            "base_date": got["base_date"] == expected["base_date"],
            "base_price": Decimal(repr(got["base_price"])) == Decimal(expected["base_price"]),
            "trading_days": got["trading_days"] == int(expected["trading_days"]),
            "cumulative_turnover": abs(Fraction(got["cumulative_turnover"])
                                       - Fraction(expected["cumulative_turnover"])) < Fraction(1, 10**9),
            "flags": ";".join(got["flags"]) == expected["flags"],
        }
        where = expected["security"] + (f", statement {statement}" if statement else "")
        problems += [f"{where}, {column}: expected {expected[column]!r}, printed {got[column]!r}"
                     for column, ok in checks.items() if not ok]
    assert not problems, "\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# The same cases shipped as Parquet (formats.md: a .parquet file may replace any CSV)
# --------------------------------------------------------------------------------------------------

TEXT_COLUMNS = ("security", "index", "investor_id", "account_id", "time", "side", "reason")


def _as_parquet(case_dir: Path, root: Path, typed: bool, row_group_size: int | None = None) -> Path:
    """A copy of the case with every input table in Parquet: all text, or typed as a writer would type them
    (dates as Date, times as Time with nulls for empty ones, quantities and seq as floats); in row groups of
    ``row_group_size`` rows if given (a file of several row groups reads as several chunks)."""
    import shutil

    import polars as pl

    copy = root / case_dir.name
    shutil.copytree(case_dir, copy)
    for path in copy.glob("*.csv"):
        if path.name.startswith("expected"):
            continue
        if typed:
            df = pl.read_csv(path, try_parse_dates=True, schema_overrides={c: pl.String for c in TEXT_COLUMNS})
            if "time" in df.columns:
                df = df.with_columns(pl.col("time").replace("", None).str.to_time("%H:%M:%S"))
            df = df.with_columns(pl.col(c).cast(pl.Float64) for c in ("quantity", "seq") if c in df.columns)
        else:
            df = pl.read_csv(path, infer_schema=False)
        df.write_parquet(path.with_suffix(".parquet"), row_group_size=row_group_size)
        path.unlink()
    return copy


@pytest.mark.parametrize(("typed", "row_group_size"), [(False, None), (True, None), (False, 2)],
                         ids=["text", "typed", "text in row groups of 2"])
@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_parquet_tables_give_the_same_results(case_dir: Path, typed: bool, row_group_size: int | None,
                                              tmp_path: Path) -> None:
    from redress.engine.pipeline import compute_case_dir

    parquet = _as_parquet(case_dir, tmp_path, typed, row_group_size)
    assert [p.name for p in parquet.glob("*.csv") if not p.name.startswith("expected")] == []  # all Parquet now
    assert compute_case_dir(parquet).equals(compute_case_dir(case_dir))
