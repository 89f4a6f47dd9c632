"""``python -m redress.bench.scale``: how time and memory grow with the case, out of core and on a cluster.

For each size a synthetic case is written once under ``bench-data/`` (as ``python -m redress.bench`` does).
Each measurement is ``redress compute`` itself in a fresh process, timed from start to exit, its peak
memory read from the operating system (``wait4``): in memory (sizes up to ``--in-memory-max``), out of core
with ``--memory``, and, at one size, on a local Dask cluster of 2 workers (peak memory there is the driver's;
each worker is a process of its own).  Prints Markdown rows, saves ``bench-data/scale.json`` and draws the
curves to ``--chart`` (PNG).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from redress.bench.__main__ import _machine, ensure_case

ROOT = Path.cwd()


def _run(args: list[str]) -> dict:
    """Run ``redress`` with ``args`` in a fresh process; wall seconds and the process's peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "redress.cli.main", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"redress {' '.join(args)} failed:\n{err}")
    return {"seconds": seconds, "peak_bytes": usage.ru_maxrss * 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000,50000000")
    parser.add_argument("--memory", default="2GB", help="the out-of-core memory setting")
    parser.add_argument("--in-memory-max", type=int, default=50_000_000,
                        help="largest size also computed in memory")
    parser.add_argument("--cluster-size", type=int, default=10_000_000, help="size run on a local cluster")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--chart", type=Path, default=ROOT / "docs" / "scaling.png")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    args.data.mkdir(parents=True, exist_ok=True)
    work = args.data / "scale-work"
    rows = []
    for n in sizes:
        case = ensure_case(args.data, n, args.seed)
        out = args.data / f"scale-out-{n}.parquet"
        row: dict = {"trades": n}
        if n <= args.in_memory_max:
            row["in_memory"] = _run(["compute", str(case), "--out", str(out), "--quiet"])
        shutil.rmtree(work, ignore_errors=True)
        row["out_of_core"] = _run(["compute", str(case), "--out", str(out), "--quiet", "--memory", args.memory,
                                   "--work-dir", str(work)])
        if n == args.cluster_size:
            shutil.rmtree(work, ignore_errors=True)
            row["cluster_2"] = _run(["compute", str(case), "--out", str(out), "--quiet", "--memory", args.memory,
                                     "--cluster", "local:2", "--work-dir", str(work)])
        rows.append(row)
        print(json.dumps(row), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    machine = _machine()
    (args.data / "scale.json").write_text(json.dumps({"machine": machine, "memory": args.memory, "rows": rows},
                                                     indent=2) + "\n")
    print(f"\nMeasured {time.strftime('%Y-%m-%d')} on {machine}; out of core with --memory {args.memory}.\n")
    print("| trades | in memory (s) | in memory peak (GiB) | out of core (s) | out of core peak (GiB) | "
          "out of core M trades/s |\n|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        m, o = r.get("in_memory"), r["out_of_core"]
        print(f"| {r['trades']:,} | {m['seconds']:.2f} | {m['peak_bytes'] / 2**30:.2f} | " if m else
              f"| {r['trades']:,} | | | ", end="")
        print(f"{o['seconds']:.2f} | {o['peak_bytes'] / 2**30:.2f} | {r['trades'] / o['seconds'] / 1e6:.1f} |")
    for r in rows:
        if "cluster_2" in r:
            c, o = r["cluster_2"], r["out_of_core"]
            print(f"\nLocal cluster of 2 workers at {r['trades']:,} trades: {c['seconds']:.2f} s (driver peak "
                  f"{c['peak_bytes'] / 2**30:.2f} GiB) against {o['seconds']:.2f} s in one process out of core.")
    _chart(rows, args.chart, args.memory)
    print(f"\nChart: {args.chart}")


def _chart(rows: list[dict], path: Path, memory: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["trades"] / 1e6 for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(n, [r["out_of_core"]["seconds"] for r in rows], "o-", label=f"out of core (--memory {memory})")
    mem = [(r["trades"] / 1e6, r["in_memory"]) for r in rows if "in_memory" in r]
    a.plot([x for x, _ in mem], [m["seconds"] for _, m in mem], "s--", label="in memory")
    a.set_xlabel("trades (millions)")
    a.set_ylabel("seconds")
    a.set_title("Time")
    a.legend()
    b.plot(n, [r["out_of_core"]["peak_bytes"] / 2**30 for r in rows], "o-", label="out of core")
    b.plot([x for x, _ in mem], [m["peak_bytes"] / 2**30 for _, m in mem], "s--", label="in memory")
    b.set_xlabel("trades (millions)")
    b.set_ylabel("peak memory (GiB)")
    b.set_title("Peak memory")
    b.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
