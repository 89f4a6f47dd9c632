"""The Dask backend: partitions computed on worker processes give the single-machine file."""

from __future__ import annotations

import functools
from pathlib import Path

import cloudpickle
import pytest

import tests.scale.helpers as helpers
from redress.engine.cluster import dask_runner, parse_cluster
from redress.engine.partition import compute_out_of_core
from redress.engine.pipeline import compute, prepare
from tests.scale.helpers import cli, small_case


def test_local_cluster_identical(tmp_path: Path) -> None:
    case_dir = small_case(tmp_path / "case")
    compute(prepare(case_dir, keep_trade_columns=False)).write(tmp_path / "memory.csv")
    result = cli("compute", case_dir, "--out", tmp_path / "cluster.csv", "--cluster", "local:2", "--quiet")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cluster.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()


def test_killed_worker_is_retried_once(tmp_path: Path) -> None:
    case_dir = small_case(tmp_path / "case")
    compute(prepare(case_dir, keep_trade_columns=False)).write(tmp_path / "memory.csv")
    markers = tmp_path / "markers"
    markers.mkdir()
    cloudpickle.register_pickle_by_value(helpers)  # the workers need not import the tests
    try:
        task = functools.partial(helpers.crash_first_attempt, markers, "part-00001")
        with dask_runner("local:2") as runner:
            got = compute_out_of_core(case_dir, tmp_path / "cluster.csv", n_partitions=4, runner=runner,
                                      task_fn=task)
    finally:
        cloudpickle.unregister_pickle_by_value(helpers)
    assert (markers / "part-00001.crashed").exists(), "the worker was killed"
    assert (tmp_path / "cluster.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()
    assert got.n_trades == prepare(case_dir, keep_trade_columns=False).n_trades


def test_cluster_spec() -> None:
    assert parse_cluster("local:3") == ("local", 3)
    assert parse_cluster("tcp://10.0.0.5:8786") == ("scheduler", "tcp://10.0.0.5:8786")
    with pytest.raises(ValueError):
        parse_cluster("yarn")


def test_refused_on_the_cluster_as_in_memory(tmp_path: Path) -> None:
    """A problem of the whole case found inside a worker reaches the driver as the same refusal."""
    import polars as pl
    import tomllib

    case_dir = small_case(tmp_path / "case", n_trades=600)
    disclosure = tomllib.loads((case_dir / "case.toml").read_text())["case"]["disclosure_date"]
    market = pl.read_csv(case_dir / "market.csv", infer_schema=False)
    market.filter(pl.col("date") < str(disclosure)).write_csv(case_dir / "market.csv")
    r1 = cli("compute", case_dir, "--out", tmp_path / "mem.csv")
    r2 = cli("compute", case_dir, "--out", tmp_path / "cluster.csv", "--cluster", "local:2")
    assert r1.exit_code == r2.exit_code == 2
    assert "no trading day" in r1.output
    assert r1.output == r2.output
    assert not (tmp_path / "cluster.csv").exists()
