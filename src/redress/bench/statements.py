"""How several false statements scale: the engine on one synthetic case written with one statement and with k
chained statements (the buy window cut into k pieces), end to end as ``redress compute`` runs it, each run in a
fresh process after the compiled kernels were loaded.

    python -m redress.bench.statements --trades 1000000 --statements 3 --runs 5

A case with k statements computes every (investor, security) k times on trades read and grouped once, so it
should cost at most k times the one-statement case.  ``--python`` times another checkout's interpreter or
source tree on the same files (``PYTHONPATH=/other/src``), for before/after figures in one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from redress.synth import generate_case


def chained(case_toml: str, k: int) -> str:
    """The case.toml of one statement rewritten as k chained statements over the same buy window."""
    i = dt.date.fromisoformat(re.search(r'implementation_date = "([\d-]+)"', case_toml)[1])
    d = dt.date.fromisoformat(re.search(r'disclosure_date = "([\d-]+)"', case_toml)[1])
    cuts = [i + (d - i) * n // k for n in range(k)] + [d]
    head = re.sub(r'(implementation_date|disclosure_date) = "[\d-]+"\n', "", case_toml)
    head = head.replace("[plan]", 'statements_rule = "each"\n' + "".join(
        f'\n[[case.statements]]\nid = "s{n + 1}"\nimplementation_date = "{cuts[n]}"\n'
        f'disclosure_date = "{cuts[n + 1]}"\n' for n in range(k)) + "\n[plan]", 1)
    return head


_CHILD = """
import sys, time, tempfile
from pathlib import Path
from redress.engine.pipeline import prepare
from redress.engine.statements import compute_case_results
from redress.synth import generate_case
with tempfile.TemporaryDirectory() as tmp:  # load the compiled kernels first: compilation is not timed
    generate_case(Path(tmp) / "warm", n_trades=20_000, seed=1)
    compute_case_results(prepare(Path(tmp) / "warm"))
t = time.perf_counter()
compute_case_results(prepare(Path(sys.argv[1]), keep_trade_columns=False)).write(Path(sys.argv[2]))
print(time.perf_counter() - t)
"""


def time_compute(case_dir: Path, out: Path, runs: int, pythonpath: str | None) -> float:
    """The median time of ``prepare`` + ``compute_case_results`` + writing the results, as ``redress compute``
    does them, each run in a fresh process after the kernels were loaded (start-up is not counted)."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    times = []
    for _ in range(runs):
        run = subprocess.run([sys.executable, "-c", _CHILD, str(case_dir), str(out)], check=True,
                             capture_output=True, text=True, env=env)
        times.append(float(run.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trades", type=int, default=1_000_000)
    ap.add_argument("--statements", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--data", type=Path, default=Path("bench-data/statements"))
    ap.add_argument("--baseline-src", help="another source tree timed on the one-statement case in the same run")
    args = ap.parse_args()
    one = args.data / f"one-{args.trades}"
    if not (one / "case.toml").exists():
        generate_case(one, n_trades=args.trades, seed=11)
    several = args.data / f"several-{args.trades}-{args.statements}"
    if several.exists():
        shutil.rmtree(several)
    shutil.copytree(one, several)
    (several / "case.toml").write_text(chained((one / "case.toml").read_text(encoding="utf-8"), args.statements),
                                       encoding="utf-8")
    out = args.data / "out.parquet"
    rows = []
    if args.baseline_src:
        rows.append(("one statement, baseline source", time_compute(one, out, args.runs, args.baseline_src)))
    rows.append(("one statement", time_compute(one, out, args.runs, None)))
    rows.append((f"{args.statements} statements", time_compute(several, out, args.runs, None)))
    if args.baseline_src:
        rows.append(("one statement, baseline source (again)", time_compute(one, out, args.runs, args.baseline_src)))
    print(f"prepare + compute + write, {args.trades:,} trades, median of {args.runs} fresh processes")
    for label, seconds in rows:
        print(f"  {label:40s} {seconds:7.2f} s")
    single = dict(rows)["one statement"]
    print(f"  {args.statements} statements / one statement: {dict(rows)[f'{args.statements} statements'] / single:.2f}"
          f" (at most {args.statements})")


if __name__ == "__main__":
    main()
