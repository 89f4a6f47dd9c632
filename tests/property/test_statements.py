"""Property tests: the engine agrees with the independent reference on random cases with several false
statements (loss-rules.md section 9) and on long market files where the 100% turnover day falls after
day 30 (section 2, spc2003 without a cap): in memory, out of core and on a local cluster.

Rows must be the same (investor_id, security, statement), in the order of the spec; status, flags and
statement exactly; quantities within 1e-6, prices within 0.0001, money within 0.01 yuan (formats.md).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings

from tests.property.strategies import (
    CaseSpec,
    describe,
    long_turnover_case_specs,
    statement_case_specs,
    write_case,
)
from tests.property.test_engine_vs_reference import cell_difference, compare
from tests.reference.loss_reference import (
    OUTPUT_COLUMNS,
    STATEMENT_OUTPUT_COLUMNS,
    compute_reference,
    read_statement,
    windows_overlap,
)

SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


def row_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (str(row["investor_id"]), str(row["security"]), str(row["statement"]))


def compare_statements(expected_rows: list[dict[str, Any]], engine_rows: list[dict[str, Any]],
                       columns: list[str]) -> list[str]:
    """Differences between the reference rows and the engine rows of a case with statements (``columns``:
    the engine's columns, in order)."""
    if columns != STATEMENT_OUTPUT_COLUMNS:
        return [f"engine columns {columns} != spec columns {STATEMENT_OUTPUT_COLUMNS}"]
    problems: list[str] = []
    expected = {row_key(r): r for r in expected_rows}
    got = {row_key(r): r for r in engine_rows}
    if len(got) != len(engine_rows):
        problems.append("engine output has duplicate (investor_id, security, statement) rows")
    for key in sorted(set(expected) - set(got)):
        status = expected[key]["status"]
        problems.append(f"row {key} missing from the engine output (reference status {status})")
    for key in sorted(set(got) - set(expected)):
        problems.append(f"row {key} in the engine output but not in the reference")
    order = [row_key(r) for r in engine_rows]
    if not problems and order != [row_key(r) for r in expected_rows]:
        problems.append(f"row order {order} != {[row_key(r) for r in expected_rows]}")
    for key in sorted(set(expected) & set(got)):
        for column in OUTPUT_COLUMNS:
            difference = cell_difference(column, expected[key][column], got[key][column])
            if difference is not None:
                problems.append(f"{' / '.join(key)} / {column}: {difference}")
    return problems


def format_rows(rows: list[dict[str, Any]], columns: list[str]) -> str:
    return "\n".join([",".join(columns)] + [",".join(str(row[c]) for c in columns) for row in rows])


def explain_failure(spec: CaseSpec, case_dir: Path, expected: list[dict[str, Any]], engine: Any) -> None:
    note(f"generation notes: {spec.notes}")
    note(describe(case_dir))
    columns = STATEMENT_OUTPUT_COLUMNS if spec.statements else OUTPUT_COLUMNS
    note("reference rows:\n" + format_rows(expected, columns))
    note("engine rows:\n" + str(engine))


def read_output(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def record_events(spec: CaseSpec, expected: list[dict[str, Any]]) -> None:
    rule = spec.case.get("statements_rule", "one statement")
    event(f"{rule} / {len(spec.statements)} statements / {spec.case['direction']}")
    for row in expected:
        event(f"{rule}: {row['status']}")


# --------------------------------------------------------------------------------------------------
# In memory
# --------------------------------------------------------------------------------------------------


@settings(max_examples=120, **SETTINGS)
@given(spec=statement_case_specs())
def test_statements_engine_matches_reference(spec: CaseSpec) -> None:
    from redress.engine.pipeline import compute_case_dir

    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp), spec)
        expected = compute_reference(case_dir)
        record_events(spec, expected)
        engine = compute_case_dir(case_dir)
        problems = compare_statements(expected, engine.to_dicts(), list(engine.columns))
        if problems:
            explain_failure(spec, case_dir, expected, engine)
        assert not problems, "\n" + "\n".join(problems)


@settings(max_examples=80, **SETTINGS)
@given(spec=long_turnover_case_specs())
def test_long_market_files_engine_matches_reference(spec: CaseSpec) -> None:
    from redress.engine.pipeline import compute_case_dir

    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp), spec)
        expected = compute_reference(case_dir)
        event(f"{spec.case['rules']}: turnover {spec.notes['turnover']}"[:40])
        engine = compute_case_dir(case_dir)
        problems = compare(expected, engine.to_dicts())
        if problems:
            explain_failure(spec, case_dir, expected, engine)
        assert not problems, "\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Each statement's rows are those of the one-statement case with its dates (engine against itself)
# --------------------------------------------------------------------------------------------------


def one_statement_spec(spec: CaseSpec, table: dict[str, Any]) -> CaseSpec:
    case = {k: v for k, v in spec.case.items() if k != "statements_rule"}
    case.update({k: v for k, v in table.items() if k != "id"})
    return CaseSpec(case, spec.plan, spec.systemic_risk, spec.market, spec.trades, spec.positions,
                    spec.indices, spec.actions, spec.exclusions, spec.notes)


@settings(max_examples=30, **SETTINGS)
@given(spec=statement_case_specs())
def test_statement_rows_are_one_statement_cases(spec: CaseSpec) -> None:
    from redress.engine.pipeline import compute_case_dir

    with tempfile.TemporaryDirectory() as tmp:
        engine = compute_case_dir(write_case(Path(tmp) / "case", spec)).to_dicts()
        singles = {}
        for n, table in enumerate(spec.statements):
            rows = compute_case_dir(write_case(Path(tmp) / f"single-{n}", one_statement_spec(spec, table)))
            singles[table["id"]] = {(str(r["investor_id"]), str(r["security"])): r for r in rows.to_dicts()}
    problems = []
    for row in engine:
        single = singles[row["statement"]].get((str(row["investor_id"]), str(row["security"])))
        if single is None:
            problems.append(f"{row_key(row)}: no such row in the one-statement case")
            continue
        different = [c for c in OUTPUT_COLUMNS if row[c] != single[c]]
        problems += [f"{row_key(row)} / {c}: {row[c]!r} != {single[c]!r}" for c in different]
    if spec.case["statements_rule"] == "each":
        assert len(engine) == sum(len(rows) for rows in singles.values())
    assert not problems, "\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Out of core and on a local cluster: the results file
# --------------------------------------------------------------------------------------------------


def check_results_file(spec: CaseSpec, case_dir: Path, out_path: Path) -> None:
    expected = compute_reference(case_dir)
    columns, rows = read_output(out_path)
    if spec.statements:
        problems = compare_statements(expected, rows, columns)
    else:
        problems = [f"columns {columns} != {OUTPUT_COLUMNS}"] if columns != OUTPUT_COLUMNS else []
        problems += compare(expected, rows)
    if problems:
        explain_failure(spec, case_dir, expected, out_path.read_text(encoding="utf-8"))
    assert not problems, "\n" + "\n".join(problems)


@settings(max_examples=12, **SETTINGS)
@given(spec=statement_case_specs())
def test_statements_out_of_core_match_reference(spec: CaseSpec) -> None:
    from redress.engine.batch import compute_case

    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp) / "case", spec)
        out_path = Path(tmp) / "out" / "results.csv"
        run = compute_case(case_dir, out_path, n_partitions=3, work_dir=Path(tmp) / "work")
        assert run.n_partitions == 3
        check_results_file(spec, case_dir, out_path)


@settings(max_examples=6, **SETTINGS)
@given(spec=long_turnover_case_specs())
def test_long_market_files_out_of_core_match_reference(spec: CaseSpec) -> None:
    from redress.engine.batch import compute_case

    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp) / "case", spec)
        out_path = Path(tmp) / "out" / "results.csv"
        compute_case(case_dir, out_path, n_partitions=2, work_dir=Path(tmp) / "work")
        check_results_file(spec, case_dir, out_path)


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[Any]:
    pytest.importorskip("distributed")
    from redress.engine.cluster import dask_runner

    with dask_runner("local:2") as runner:
        yield runner


@settings(max_examples=4, **SETTINGS)
@given(spec=statement_case_specs())
def test_statements_on_a_local_cluster_match_reference(local_cluster: Any, spec: CaseSpec) -> None:
    from redress.engine.batch import compute_case

    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp) / "case", spec)
        out_path = Path(tmp) / "out" / "results.csv"
        compute_case(case_dir, out_path, runner=local_cluster, n_workers=2, work_dir=Path(tmp) / "work")
        check_results_file(spec, case_dir, out_path)


# --------------------------------------------------------------------------------------------------
# The command line: `redress compute`
# --------------------------------------------------------------------------------------------------


@settings(max_examples=8, **SETTINGS)
@given(spec=statement_case_specs())
def test_redress_compute_writes_the_statement_column(spec: CaseSpec) -> None:
    from typer.testing import CliRunner

    from redress.cli.main import app

    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp) / "case", spec)
        out_path = Path(tmp) / "results.csv"
        result = CliRunner().invoke(app, ["compute", str(case_dir), "--out", str(out_path), "-q"])
        assert result.exit_code == 0, result.output
        check_results_file(spec, case_dir, out_path)


@settings(max_examples=10, **SETTINGS)
@given(spec=statement_case_specs(("best_for_investor",)))
def test_redress_compute_refuses_overlapping_windows_under_each(spec: CaseSpec) -> None:
    from typer.testing import CliRunner

    from redress.cli.main import app

    tables = [read_statement(table) for table in spec.statements]
    pairs = [(a, b) for n, a in enumerate(tables) for b in tables[n + 1 :] if windows_overlap(a, b)]
    assume(pairs)
    spec.case["statements_rule"] = "each"
    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp) / "case", spec)
        out_path = Path(tmp) / "results.csv"
        result = CliRunner().invoke(app, ["compute", str(case_dir), "--out", str(out_path), "-q"])
        assert result.exit_code != 0
        assert not out_path.exists()
        # "refused, naming both statements"
        assert any(a.id in result.output and b.id in result.output for a, b in pairs), result.output
