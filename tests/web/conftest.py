"""Web fixtures: the synthetic case (once per session) and a ``Web`` world per test and backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from websupport import Web, build


@pytest.fixture(scope="session")
def synth_case(tmp_path_factory) -> Path:
    """A small generated case directory with its computed ``results.csv`` (shared, read-only)."""
    from redress.engine.pipeline import compute, prepare
    from redress.synth import generate_case

    case_dir = tmp_path_factory.mktemp("synth") / "case"
    generate_case(case_dir, n_trades=2000, n_investors=100, seed=1, trades_format="csv", name="x")
    compute(prepare(case_dir)).write(case_dir / "results.csv")
    return case_dir


@pytest.fixture
def web(db, tmp_path, synth_case) -> Web:
    w = build(db, tmp_path, synth_case)
    yield w
    w.app.state.engine.dispose()
