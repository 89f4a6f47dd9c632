"""One benchmark measurement in its own process (so peak memory is that measurement's own)."""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status_bytes(field: str) -> int | None:
    """A memory figure of this process from /proc/self/status (Linux), in bytes."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _start_peak() -> int | None:
    """Release what the allocator keeps, then restart the kernel's peak-RSS mark (``clear_refs`` 5, Linux 4.0+).
    Returns the resident memory the measurement starts from, or None where the mark cannot be restarted."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_bytes("VmRSS")


def floor(case: Path) -> dict:
    import polars as pl

    t = time.perf_counter()
    df = pl.read_parquet(case / "trades.parquet")
    df = df.sort(["investor_id", "date", "time", "seq"])
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "trades_bytes": int(df.estimated_size()), "peak_rss_bytes": _peak_rss()}


def _warm() -> None:
    """Load the compiled kernels on a small case (large enough for the same array types as a big one)."""
    from redress.engine.pipeline import prepare
    from redress.engine.statements import compute_case_results
    from redress.synth import generate_case

    with tempfile.TemporaryDirectory() as tmp:
        generate_case(Path(tmp) / "warm", n_trades=20_000, trades_format="parquet", seed=1)
        compute_case_results(prepare(Path(tmp) / "warm"))


def e2e(case: Path, out: Path) -> dict:

    from redress.engine import walk as W
    from redress.engine.pipeline import cost_code, index_inputs, prepare
    from redress.engine.statements import compute_case_results
    from redress.law.plan import Direction
    from redress.market.calendar import day_number

    _warm()
    baseline = _start_peak()
    t = time.perf_counter()
    prep = prepare(case, keep_trade_columns=False)
    result = compute_case_results(prep)
    t_write = time.perf_counter()
    result.write(out)
    seconds = time.perf_counter() - t
    phases = {**result.timings, "write": time.perf_counter() - t_write}
    peak = _peak_rss()
    since = _status_bytes("VmHWM") if baseline is not None else None
    case_cfg, plan = prep.case, prep.case.plan
    table, day0, base_levels, weights, codes = index_inputs(prep, plan)
    b_days, prices, _ = prep.base_arrays()
    best = float("inf")
    for _ in range(3):
        k0 = time.perf_counter()
        W.walk_all(prep.starts, prep.rec, day_number(case_cfg.implementation_date), day_number(case_cfg.disclosure_date),
                   b_days, prices, case_cfg.direction == Direction.DEFLATION, cost_code(plan), table,
                   day0, base_levels, weights, bool(codes), prep.max_len, max(1, min(prep.n_groups, 64)))
        best = min(best, time.perf_counter() - k0)
    return {"seconds": seconds, "kernel_seconds": best, "peak_rss_bytes": peak, "groups": prep.n_groups,
            "phases": phases, "baseline_rss_bytes": baseline,
            "engine_peak_bytes": since - baseline if since is not None and baseline is not None else None}


def reference(case: Path) -> dict:
    import csv

    import polars as pl

    root = Path(__file__).resolve().parents[3]
    sys.path.insert(0, str(root / "tests"))
    from reference.loss_reference import compute_reference  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for f in case.iterdir():
            if f.suffix == ".parquet":
                pl.read_parquet(f).with_columns(pl.col(pl.Date).cast(pl.String)).write_csv(tmpdir / f"{f.stem}.csv")
            elif f.is_file():
                (tmpdir / f.name).write_bytes(f.read_bytes())
        with (tmpdir / "trades.csv").open() as fh:
            n = sum(1 for _ in csv.reader(fh)) - 1
        t = time.perf_counter()
        compute_reference(tmpdir)
        return {"trades": n, "seconds": time.perf_counter() - t}


def touch(mib: int) -> dict:
    """Seconds to allocate and first write ``mib`` MiB in this fresh process: what this machine charges for
    memory a process has not used before, which every measurement above pays for its peak."""
    import numpy as np

    t = time.perf_counter()
    np.ones(mib * 2**20 // 8)
    return {"mib": mib, "seconds": time.perf_counter() - t}


if __name__ == "__main__":
    what, *rest = sys.argv[1:]
    if what == "touch":
        res = touch(int(rest[0]))
    elif what == "floor":
        res = floor(Path(rest[0]))
    elif what == "e2e":
        res = e2e(Path(rest[0]), Path(rest[1]))
    else:
        res = reference(Path(rest[0]))
    print(json.dumps(res))
