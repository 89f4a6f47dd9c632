"""Out of core: the partitioned computation writes the same file as the in-memory path."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redress.engine.partition import compute_out_of_core, parse_memory, partition_count, split_case
from redress.engine.pipeline import compute, prepare
from tests.property.strategies import case_specs, write_case
from tests.scale.helpers import cli, insert_lines, small_case


def in_memory(case_dir: Path, out: Path) -> Path:
    compute(prepare(case_dir, keep_trade_columns=False)).write(out)
    return out


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=case_specs(), n_partitions=st.sampled_from([2, 3, 7]))
def test_random_cases_identical(spec, n_partitions: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp) / "case", spec)
        expected = in_memory(case_dir, Path(tmp) / "memory.csv").read_bytes()
        got = compute_out_of_core(case_dir, Path(tmp) / "ooc.csv", n_partitions=n_partitions, batch_rows=7,
                                  merge_rows=5)
        assert got.out_path.read_bytes() == expected
        assert got.rejected.height == 0


def test_many_partitions_forced_by_tiny_memory(tmp_path: Path) -> None:
    case_dir = small_case(tmp_path / "case")
    expected = in_memory(case_dir, tmp_path / "memory.csv").read_bytes()
    result = cli("compute", case_dir, "--out", tmp_path / "ooc.csv", "--memory", "1KB", "--quiet",
                 "--summary-json", tmp_path / "ooc.json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ooc.csv").read_bytes() == expected
    cli("compute", case_dir, "--out", tmp_path / "again.csv", "--quiet", "--summary-json", tmp_path / "memory.json")
    assert (tmp_path / "ooc.json").read_text() == (tmp_path / "memory.json").read_text()
    assert not list(tmp_path.glob(".redress-work-*")), "the work folder is removed"
    split = split_case(case_dir, tmp_path / "work", partition_count(case_dir, parse_memory("1KB")))
    assert len(split.parts) > 50


def test_parquet_trades_and_parquet_output(tmp_path: Path) -> None:
    case_dir = small_case(tmp_path / "case", trades_format="parquet")
    compute(prepare(case_dir, keep_trade_columns=False)).write(tmp_path / "memory.parquet")
    result = cli("compute", case_dir, "--out", tmp_path / "ooc.parquet", "--partitions", "5", "--quiet")
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(tmp_path / "ooc.parquet").equals(pl.read_parquet(tmp_path / "memory.parquet"))


def test_memory_sizes() -> None:
    assert parse_memory("4GB") == 4 * 2**30
    assert parse_memory("512mb") == 512 * 2**20
    assert parse_memory("1.5G") == int(1.5 * 2**30)


def _with_bad_rows(case_dir: Path) -> Path:
    """Bad trades spread over the file (so over several partitions), a bad opening position."""
    header = (case_dir / "trades.csv").read_text(encoding="utf-8").splitlines()[1].split(",")
    row = dict(zip(["investor_id", "account_id", "security", "date", "time", "seq", "side", "quantity", "price"],
                   header, strict=True))

    def line(**changes: str) -> str:
        return ",".join({**row, **changes}.values())

    insert_lines(case_dir / "trades.csv", {
        5: line(investor_id="BAD-A", quantity="-3"),
        400: line(investor_id="BAD-B", security="999999"),
        900: line(investor_id="BAD-C", date="2021-02-30"),
        1500: line(investor_id="BAD-D", side="X"),
        2200: line(investor_id="BAD-E", price="abc"),
        2900: line(investor_id="", quantity="10"),
    })
    positions = case_dir / "positions.csv"
    if positions.exists():
        insert_lines(positions, {2: "BAD-P,ACC,688123,-5"})
    return case_dir


def test_skip_bad_rows_identical(tmp_path: Path) -> None:
    case_dir = _with_bad_rows(small_case(tmp_path / "case"))
    mem, ooc = tmp_path / "mem", tmp_path / "ooc"
    r1 = cli("compute", case_dir, "--out", mem / "results.csv", "--skip-bad-rows", "--quiet")
    r2 = cli("compute", case_dir, "--out", ooc / "results.csv", "--skip-bad-rows", "--quiet", "--memory", "1KB")
    assert r1.exit_code == 0 and r2.exit_code == 0, (r1.output, r2.output)
    assert (ooc / "results.csv").read_bytes() == (mem / "results.csv").read_bytes()
    assert (ooc / "rejected.csv").read_bytes() == (mem / "rejected.csv").read_bytes()
    assert pl.read_csv(mem / "rejected.csv").height >= 6


def test_bad_rows_refused_alike(tmp_path: Path) -> None:
    case_dir = _with_bad_rows(small_case(tmp_path / "case"))
    r1 = cli("compute", case_dir, "--out", tmp_path / "mem.csv")
    r2 = cli("compute", case_dir, "--out", tmp_path / "ooc.csv", "--partitions", "40")
    assert r1.exit_code == r2.exit_code == 2
    assert r1.output == r2.output
    assert not (tmp_path / "mem.csv").exists() and not (tmp_path / "ooc.csv").exists()


def test_ragged_lines_identical(tmp_path: Path) -> None:
    """A line with the wrong number of fields sends both readers line by line; same rejected rows."""
    case_dir = small_case(tmp_path / "case")
    insert_lines(case_dir / "trades.csv", {10: "R1,ACC,688123,2021-01-04", 2000: "R2,x,y,z,1,2,3,4,5,6,7"})
    mem, ooc = tmp_path / "mem", tmp_path / "ooc"
    r1 = cli("compute", case_dir, "--out", mem / "results.csv", "--skip-bad-rows", "--quiet")
    r2 = cli("compute", case_dir, "--out", ooc / "results.csv", "--skip-bad-rows", "--quiet", "--partitions", "6")
    assert r1.exit_code == 0 and r2.exit_code == 0, (r1.output, r2.output)
    assert (ooc / "results.csv").read_bytes() == (mem / "results.csv").read_bytes()
    assert (ooc / "rejected.csv").read_bytes() == (mem / "rejected.csv").read_bytes()


def test_help_mentions_the_memory_bound() -> None:
    result = cli("compute", "--help")
    text = " ".join(result.output.split())
    assert "--memory" in text
    assert "bounded by the setting, not by the case size" in text


def test_base_dates_are_computed_once_and_sent_to_every_partition(tmp_path: Path) -> None:
    """The first partition computes the securities' base dates; every other task receives them, and the
    partitions computing with them give the same output as the whole case in memory."""
    from redress.engine.partition import compute_out_of_core, run_partition
    from redress.engine.pipeline import compute_case_dir

    case = small_case(tmp_path / "case", n_trades=2000)
    seen = []

    def recording(task):
        seen.append(task.base)
        return run_partition(task)

    r = compute_out_of_core(case, tmp_path / "out.csv", n_partitions=4, task_fn=recording)
    assert seen[0] is None and len(seen) == 4
    assert all(b is not None and b == seen[1] for b in seen[1:])
    assert set(seen[1]) == set(r.base) and seen[1] == r.base
    memory = compute_case_dir(case)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").count("\n") == memory.height + 1
