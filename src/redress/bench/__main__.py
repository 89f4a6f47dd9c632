"""``python -m redress.bench``: measure the engine on synthetic cases of several sizes.

For each size a synthetic case is written once (Parquet trades, string investor ids, rows in no
particular order, about 20 trades per investor) under ``bench-data/``.  Then, each in a fresh process so
that peak memory is its own:

- floor: read the Parquet trades and sort them by (investor_id, date, time, seq) with Polars;
- end to end: ``prepare`` + ``compute`` + writing the results, as ``redress compute`` does, after the
  compiled kernels were loaded on a tiny case, run several times (``--runs``; by default 5 up to 1M trades,
  3 up to 10M, 1 above) in a fresh process each; the median run is reported, with the spread; its peak
  memory (the highest of the runs) both as the process's maximum resident set
  and as the engine's own: the peak above what the process held when the case started (the interpreter,
  the libraries and the loaded kernels, about 0.35 GiB, are the same for a case of any size);
- kernel: the compiled walk alone, on the already grouped arrays.

The slow reference implementation of the tests (exact fractions) is timed on a small case beside them.
Results are printed as Markdown and saved to ``bench-data/results.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path.cwd()


def _child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-m", "redress.bench.child", *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(args)}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure_case(data_dir: Path, n: int, seed: int) -> Path:
    from redress.synth import generate_case

    case = data_dir / f"case-{n}"
    marker = case / ".complete"
    if not marker.exists():
        print(f"  generating {n:,} trades ...", flush=True)
        t = time.perf_counter()
        generate_case(case, n_trades=n, trades_format="parquet", seed=seed)
        marker.write_text(f"{time.perf_counter() - t:.1f}\n")
    return case


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the loss engine on synthetic cases")
    parser.add_argument("--sizes", default="1000000,10000000,50000000",
                        help="comma-separated trade counts (default: 1M, 10M, 50M)")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data", help="where synthetic cases are kept")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reference-trades", type=int, default=20_000,
                        help="size of the case the slow reference implementation is timed on")
    parser.add_argument("--runs", type=int, default=None,
                        help="end-to-end runs per size, the median reported (default: 5 up to 1M trades, "
                             "3 up to 10M, 1 above)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    args.data.mkdir(parents=True, exist_ok=True)
    touch = _child(["touch", "1024"])
    print(f"first write of 1 GiB in a fresh process: {touch['seconds']:.2f} s", flush=True)
    rows = []
    for n in sizes:
        print(f"{n:,} trades", flush=True)
        case = ensure_case(args.data, n, args.seed)
        floor = _child(["floor", str(case)])
        e2e = median_run([_child(["e2e", str(case), str(args.data / f"out-{n}.parquet")])
                          for _ in range(args.runs or runs_for(n))])
        rows.append({"trades": n, **{f"floor_{k}": v for k, v in floor.items()}, **e2e})
        print(f"  floor {floor['seconds']:.2f} s · end to end {e2e['seconds']:.2f} s "
              f"({n / e2e['seconds'] / 1e6:.1f} M trades/s; {_spread(e2e['runs_seconds'])}) · "
              f"kernel {e2e['kernel_seconds']:.3f} s "
              f"({n / e2e['kernel_seconds'] / 1e6:.0f} M trades/s) · peak {e2e['peak_rss_bytes'] / 2**30:.2f} GiB, "
              f"{_gib(e2e.get('engine_peak_bytes'))} GiB above the process's start "
              f"vs trades in memory {floor['trades_bytes'] / 2**30:.2f} GiB", flush=True)
    ref = None
    if args.reference_trades:
        ref_case = ensure_case(args.data, args.reference_trades, args.seed)
        ref = _child(["reference", str(ref_case)])
    touch_after = _child(["touch", "1024"])
    report = {"date": dt.date.today().isoformat(), "machine": _machine(), "python": platform.python_version(),
              "results": rows, "reference": ref, "touch_seconds": [touch["seconds"], touch_after["seconds"]]}
    (args.data / "results.json").write_text(json.dumps(report, indent=2))
    print()
    print(markdown(report))


def runs_for(n: int) -> int:
    """End-to-end runs of a case of ``n`` trades: a small case varies most from run to run and costs least."""
    return 5 if n <= 1_000_000 else 3 if n <= 10_000_000 else 1


def median_run(runs: list[dict]) -> dict:
    """The median run (of an even number, the slower middle one), with every run's time and the highest
    peaks."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    middle = dict(ordered[len(ordered) // 2])
    middle["runs_seconds"] = [r["seconds"] for r in ordered]
    middle["peak_rss_bytes"] = max(r["peak_rss_bytes"] for r in runs)
    peaks = [r.get("engine_peak_bytes") for r in runs]
    middle["engine_peak_bytes"] = None if None in peaks else max(peaks)
    return middle


def _spread(seconds: list[float]) -> str:
    if len(seconds) == 1:
        return "1 run"
    return f"median of {len(seconds)} runs, {min(seconds):.3f} to {max(seconds):.3f} s"


def _gib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**30:.2f}"


def _ratio(value: int | None, of: int) -> str:
    return "n/a" if value is None else f"{value / of:.2f}"


def markdown(report: dict) -> str:
    lines = [f"Measured {report['date']} on {report['machine']}, Python {report['python']}.", "",
             "| trades | floor: read + sort (s) | end to end (s) | end-to-end runs | "
             "end to end (M trades/s) | e2e / floor | kernel (s) | kernel (M trades/s) | peak memory (GiB) | "
             "engine's own peak (GiB) | "
             "trades in memory (GiB) | peak / trades | engine's own peak / trades |",
             "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        n = r["trades"]
        lines.append(
            f"| {n:,} | {r['floor_seconds']:.2f} | {r['seconds']:.2f} | "
            f"{_spread(r.get('runs_seconds', [r['seconds']]))} | {n / r['seconds'] / 1e6:.1f} | "
            f"{r['seconds'] / r['floor_seconds']:.2f} | {r['kernel_seconds']:.3f} | "
            f"{n / r['kernel_seconds'] / 1e6:.0f} | {r['peak_rss_bytes'] / 2**30:.2f} | "
            f"{_gib(r.get('engine_peak_bytes'))} | {r['floor_trades_bytes'] / 2**30:.2f} | "
            f"{r['peak_rss_bytes'] / r['floor_trades_bytes']:.2f} | "
            f"{_ratio(r.get('engine_peak_bytes'), r['floor_trades_bytes'])} |")
    if "touch_seconds" in report:
        lines += ["", "First write of 1 GiB in a fresh process (before and after the runs): "
                      + " and ".join(f"{s:.2f} s" for s in report["touch_seconds"]) + "."]
    ref = report.get("reference")
    if ref:
        lines += ["", f"Reference implementation (exact fractions, tests/reference): {ref['trades']:,} trades in "
                      f"{ref['seconds']:.1f} s = {ref['trades'] / ref['seconds']:,.0f} trades/s."]
    lines += ["", "End-to-end phases (s): " + "; ".join(
        f"{r['trades']:,}: " + ", ".join(f"{k} {v:.2f}" for k, v in r["phases"].items())
        for r in report["results"])]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
