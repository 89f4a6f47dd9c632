"""One case computed in memory, out of core or on a cluster; and a folder of cases computed one by one.

``compute_case`` is what ``redress compute`` and ``redress batch`` share: it picks the path (in memory
when one partition is enough, else split by investor), writes the results file and returns what the
summary needs.  ``run_batch`` computes every case directory of a folder; a refused case is recorded with
its problems and does not stop the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from redress.engine.partition import Runner, batch_rows_for, compute_out_of_core, merge_rows_for, partition_count
from redress.engine.summary import Summary, summarize
from redress.errors import CaseError
from redress.exports import write_frame_csv

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CaseRun:
    """A computed case: enough for the summary (``cli.main.print_summary`` reads case, base, n_trades)."""

    case: object
    base: dict
    n_trades: int
    rejected: pl.DataFrame
    summary: Summary
    n_partitions: int  # 1: computed in memory
    seconds: float
    # a case with several statements: statement id -> base dates by security (``base`` is the first one's)
    statement_bases: dict | None = None


def compute_case(case_dir: Path, out_path: Path, *, skip_bad_rows: bool = False, memory_bytes: int | None = None,
                 n_partitions: int | None = None, runner: Runner | None = None, n_workers: int = 1,
                 work_dir: Path | None = None, progress: Progress = lambda _m: None) -> CaseRun:
    """Compute a case into ``out_path``.  Partitions: ``n_partitions`` if given, else enough for
    ``memory_bytes`` (and at least two per worker on a cluster); one partition is the in-memory path."""
    started = time.perf_counter()
    case_dir = Path(case_dir)
    n = n_partitions
    if n is None:
        n = partition_count(case_dir, memory_bytes) if memory_bytes else 1
        if runner is not None:
            n = max(n, 2 * n_workers)
    if n <= 1 and runner is None:
        from redress.engine.pipeline import prepare
        from redress.engine.statements import compute_case_results

        prep = prepare(case_dir, skip_bad_rows=skip_bad_rows, progress=progress, keep_trade_columns=False)
        result = compute_case_results(prep, progress=progress)
        progress("writing results")
        result.write(out_path)
        return CaseRun(prep.case, prep.base, prep.n_trades, prep.tables.rejected,
                       summarize(result.table, result.compensation_fen), 1, time.perf_counter() - started,
                       prep.statement_bases)
    r = compute_out_of_core(case_dir, out_path, n_partitions=n, skip_bad_rows=skip_bad_rows, work_dir=work_dir,
                            runner=runner, progress=progress,
                            batch_rows=batch_rows_for(memory_bytes), merge_rows=merge_rows_for(memory_bytes))
    base, statement_bases = r.base, None
    if r.case.has_statements:  # the partitions hand on the base dates by statement
        statement_bases, base = r.base, r.base[r.case.statements[0].id]
    return CaseRun(r.case, base, r.n_trades, r.rejected, r.summary, r.n_partitions,
                   time.perf_counter() - started, statement_bases)


def write_rejected(rejected: pl.DataFrame, out_path: Path) -> Path:
    """``rejected.csv`` beside the output (removed when there is none), as ``redress compute`` does."""
    path = Path(out_path).parent / "rejected.csv"
    if rejected.height:
        write_frame_csv(rejected, path)
    elif path.exists():
        path.unlink()
    return path


def find_cases(cases_dir: Path) -> list[Path]:
    """The case directories of a folder: subfolders holding a case.toml, by name."""
    return sorted(p for p in Path(cases_dir).iterdir() if p.is_dir() and (p / "case.toml").is_file())


@dataclass(frozen=True)
class CaseOutcome:
    """One case of a batch: computed (``run``) or refused (``problems``, the CaseError's lines)."""

    name: str
    out_path: Path
    seconds: float
    run: CaseRun | None = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.run is not None


def run_one(case_dir: Path, out_dir: Path, **options) -> CaseOutcome:
    """Compute one case of a batch into ``out_dir/<case>/results.csv``; a refusal becomes an outcome."""
    started = time.perf_counter()
    out_path = Path(out_dir) / case_dir.name / "results.csv"
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        run = compute_case(case_dir, out_path, **options)
    except CaseError as exc:
        total = getattr(exc, "problems_total", len(exc.problems))
        lines = [str(p) for p in exc.problems[:20]]
        if total > 20:
            lines.append(f"... and {total - 20} more")
        if exc.hint:
            lines.append(exc.hint)
        return CaseOutcome(case_dir.name, out_path, time.perf_counter() - started, problems=tuple(lines))
    if options.get("skip_bad_rows"):
        write_rejected(run.rejected, out_path)
    return CaseOutcome(case_dir.name, out_path, time.perf_counter() - started, run=run)
