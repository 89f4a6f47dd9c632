"""``python -m redress.bench.admin``: how fast case administration runs on SQLite and PostgreSQL.

A synthetic case with N claims is taken through the bulk operations, each timed on its own: opening
claims from a results file, one decisions file with every investor's answer, proposing and releasing a
payment batch, exporting its instruction file, importing the clearing system's results, reconciling.
Prints Markdown rows (claims per second for each step).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from redress.admin import approvals, cases, claims, fund, payments
from redress.store.db import make_engine, migrate, unit_of_work

CASE_TOML = """[case]
id = "bench"
name = "Administration benchmark"
rules = "spc2022"
direction = "inflation"
securities = ["600123"]
implementation_date = "2020-03-04"
disclosure_date = "2020-03-27"

[plan]
cost_method = "moving_average"
"""
HEADER = ("investor_id,security,status,flags,eligible_bought,q_sold,q_held,avg_buy,avg_sell,base_price,"
          "difference_loss,systemic_deduction,net_loss,commission,stamp_duty,interest,compensation")


def _results(path: Path, n: int, rng: random.Random) -> int:
    total = 0
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for i in range(n):
            fen = int(rng.lognormvariate(10, 1.5)) + 1
            total += fen
            y = f"{fen // 100}.{fen % 100:02d}"
            f.write(f"I{i:09d},600123,eligible,,100,0,100,10.0000,,8.0000,{y},0.00,{y},0.00,0.00,0.00,{y}\n")
    return total


def timer(timings: dict[str, float]):
    """``with step(name):`` records the seconds the block took in ``timings[name]``."""
    @contextmanager
    def step(name: str):
        started = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - started

    return step


def staff(s) -> None:
    """The benchmarks' users: an operator (op) and an approver (ap)."""
    cases.bootstrap(s, "root", "root")
    cases.add_user(s, "root", "op", "op", ["operator"])
    cases.add_user(s, "root", "ap", "ap", ["approver"])


def run(url: str, n: int, seed: int = 1) -> dict[str, float]:
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="redress-bench-admin-"))
    (work / "case").mkdir()
    (work / "case" / "case.toml").write_text(CASE_TOML, encoding="utf-8")
    offered = _results(work / "results.csv", n, rng)
    engine = make_engine(url)
    migrate(engine)
    timings: dict[str, float] = {}
    on = dt.date(2023, 2, 1)
    step = timer(timings)

    with unit_of_work(engine) as s:
        staff(s)
        cases.create_case(s, "op", "bench", "bench")
        cases.add_payer(s, "op", "bench", "sponsor", "Sponsor", "sponsor", offered * 2)
        fund.contribute(s, "op", "bench", "sponsor", offered * 2, on, "B1")
        fund.establish(s, "op", "bench")
        ap = claims.propose_plan(s, "op", "bench", work / "case", work / "results.csv", on, on + dt.timedelta(days=45),
                                 recompute=False).id
    with unit_of_work(engine) as s:
        approvals.decide(s, "ap", ap, True)
        sha = claims.publish_agreement(s, "op", "bench", "v1", "agreement").sha256
    with step("open claims"), unit_of_work(engine) as s:
        claims.open_claims(s, "op", "bench", work / "results.csv")
    with (work / "decisions.csv").open("w", encoding="utf-8") as f:
        f.write("investor_id,decision,decided_on,channel,key,agreement_version,agreement_sha256\n")
        for i in range(n):
            f.write(f"I{i:09d},accept,2023-02-10,online,k{i},v1,{sha}\n")
    with step("decisions file"), unit_of_work(engine) as s:
        claims.import_decisions(s, "op", "bench", work / "decisions.csv")
    with step("propose batch"), unit_of_work(engine) as s:
        ap = payments.propose_batch(s, "op", "bench", on + dt.timedelta(days=10)).id
    with step("release batch"), unit_of_work(engine) as s:
        approvals.decide(s, "ap", ap, True)
    with step("export instructions"), unit_of_work(engine) as s:
        path, _ = payments.export_batch(s, "op", "bench", 1, work / "out")
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    with (work / "paid.csv").open("w", encoding="utf-8") as f:
        f.write("instruction_id,status,amount,settled_on,reason\n")
        for line in lines:
            parts = line.split(",")
            f.write(f"{parts[0]},paid,{parts[4]},2023-02-13,\n")
    with step("import results"), unit_of_work(engine) as s:
        rep = payments.import_results(s, "op", "bench", work / "paid.csv")
    assert rep.paid == n
    with step("reconcile"), unit_of_work(engine) as s:
        assert payments.reconcile(s, "bench").ok
    engine.dispose()
    return timings


def on_databases(run, count: int, sqlite: bool, postgresql: str | None, unit: str) -> dict[str, dict[str, float]]:
    """``run(url, count) -> {step: seconds}`` on a fresh SQLite file and/or a fresh PostgreSQL schema (dropped
    afterwards); prints a Markdown table per database (``unit`` per second) and returns the timings."""
    runs = []
    if sqlite or not postgresql:
        runs.append(("SQLite", f"sqlite:///{tempfile.mkdtemp(prefix='redress-bench-')}/bench.sqlite3", None))
    if postgresql:
        schema = "bench_" + uuid.uuid4().hex[:12]
        runs.append(("PostgreSQL", f"{postgresql}?options=-csearch_path%3D{schema}", schema))
    out = {}
    for label, url, schema in runs:
        admin = None
        if schema:
            from sqlalchemy import create_engine, text

            admin = create_engine(postgresql, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            timings = run(url, count)
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        out[label] = timings
        print(f"\n{label}, {count:,} {unit}\n\n| step | seconds | {unit}/s |\n|---|---:|---:|")
        for name, sec in timings.items():
            print(f"| {name} | {sec:.2f} | {count / sec:,.0f} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite file in a temporary directory")
    parser.add_argument("--postgresql", default=None, help="PostgreSQL server URL; a fresh schema is made in it")
    args = parser.parse_args()
    print(json.dumps(on_databases(run, args.claims, args.sqlite, args.postgresql, "claims")))


if __name__ == "__main__":
    main()
