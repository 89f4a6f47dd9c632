"""Property test: the fast engine agrees with the independent reference on random valid cases.

Row sets (investor_id, security) must be equal; status and flags exactly; quantities within 1e-6,
prices within 0.0001, money within 0.01 yuan (the independent-check tolerances of formats.md).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings

from tests.property.strategies import CaseSpec, case_specs, describe, write_case
from tests.reference.loss_reference import (
    MONEY_COLUMNS,
    OUTPUT_COLUMNS,
    PRICE_COLUMNS,
    QUANTITY_COLUMNS,
    compute_reference,
)

QUANTITY_TOLERANCE = 1e-6
PRICE_TOLERANCE = 1e-4
MONEY_TOLERANCE = 0.01
SLACK = 1e-9  # float representation slack on top of the tolerances


def as_float(value: Any) -> float:
    if isinstance(value, (Fraction, Decimal)):
        return float(value)
    return float(value)


def cell_difference(column: str, expected: Any, got: Any) -> str | None:
    """A description of the difference, or None when the cell agrees."""
    if column in ("investor_id", "security", "status", "flags"):
        got_text = "" if got is None else str(got)
        return None if got_text == str(expected) else f"expected {expected!r}, got {got!r}"
    if got is None:
        return f"expected {expected}, got null"
    if column in QUANTITY_COLUMNS:
        limit = QUANTITY_TOLERANCE
    elif column in PRICE_COLUMNS:
        limit = PRICE_TOLERANCE
    elif column in MONEY_COLUMNS:
        limit = MONEY_TOLERANCE
    else:
        raise KeyError(column)
    difference = abs(as_float(got) - as_float(expected))
    if difference <= limit + SLACK:
        return None
    return f"expected {expected} ({float(expected)!r}), got {got!r} (difference {difference:.6g} > {limit})"


def compare(expected_rows: list[dict[str, Any]], engine_rows: Iterable[dict[str, Any]]) -> list[str]:
    engine_rows = list(engine_rows)
    problems: list[str] = []
    if engine_rows and set(engine_rows[0]) != set(OUTPUT_COLUMNS):
        problems.append(f"engine columns {sorted(engine_rows[0])} != spec columns {sorted(OUTPUT_COLUMNS)}")
        return problems
    expected = {(r["investor_id"], r["security"]): r for r in expected_rows}
    got = {(str(r["investor_id"]), str(r["security"])): r for r in engine_rows}
    if len(got) != len(engine_rows):
        problems.append("engine output has duplicate (investor_id, security) rows")
    for key in sorted(set(expected) - set(got)):
        problems.append(f"row {key} missing from the engine output (reference status {expected[key]['status']})")
    for key in sorted(set(got) - set(expected)):
        problems.append(f"row {key} in the engine output but not in the reference")
    for key in sorted(set(expected) & set(got)):
        for column in OUTPUT_COLUMNS:
            difference = cell_difference(column, expected[key][column], got[key][column])
            if difference is not None:
                problems.append(f"{key[0]} / {key[1]} / {column}: {difference}")
    return problems


def format_reference(rows: list[dict[str, Any]]) -> str:
    lines = [",".join(OUTPUT_COLUMNS)]
    for row in rows:
        lines.append(",".join(str(row[c]) for c in OUTPUT_COLUMNS))
    return "\n".join(lines)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=case_specs())
def test_engine_matches_reference(spec: CaseSpec) -> None:
    from redress.engine.pipeline import compute_case_dir

    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp), spec)
        expected = compute_reference(case_dir)
        for row in expected:
            event(f"{spec.case['direction']}: {row['status']}")
        engine = compute_case_dir(case_dir)
        problems = compare(expected, engine.to_dicts())
        if problems:
            note(f"generation notes: {spec.notes}")
            note(describe(case_dir))
            note("reference rows:\n" + format_reference(expected))
            note("engine rows:\n" + str(engine))
        assert not problems, "\n" + "\n".join(problems)
