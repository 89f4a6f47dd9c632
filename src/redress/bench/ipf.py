"""``python -m redress.bench.ipf``: how fast the protection fund pays a failed firm's clients and creditors on
SQLite and PostgreSQL.

A failed firm with N claimants (two thirds client settlement funds, one third individual debts around the
100,000-yuan threshold) is taken through the bulk steps, each timed on its own: registering the claims file,
importing the custodian's records, verification (the payout rule applied to every claimant), proposing and
releasing a payment batch, exporting its instruction file, importing the results.  Prints Markdown rows.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import tempfile
from pathlib import Path

from redress.admin.ipf import board, book, firms
from redress.bench.admin import on_databases, staff, timer
from redress.store.db import make_engine, migrate, unit_of_work

DIRECTORS = [f"D{i}" for i in range(1, 10)]


def _files(work: Path, n: int, rng: random.Random) -> None:
    with (work / "claims.csv").open("w", newline="", encoding="utf-8") as c, \
            (work / "records.csv").open("w", newline="", encoding="utf-8") as r:
        wc, wr = csv.writer(c, lineterminator="\n"), csv.writer(r, lineterminator="\n")
        wc.writerow(["claimant_id", "category", "principal", "interest", "reference"])
        wr.writerow(["claimant_id", "category", "principal"])
        for i in range(n):
            cat = "individual_debt" if i % 3 == 0 else "settlement_funds"
            fen = rng.randint(1_000_00, 300_000_00)
            y = f"{fen // 100}.{fen % 100:02d}"
            wc.writerow([f"C{i:09d}", cat, y, "0.00", f"R{i:09d}"])
            wr.writerow([f"C{i:09d}", cat, y])


def run(url: str, n: int, seed: int = 1) -> dict[str, float]:
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="redress-bench-ipf-"))
    _files(work, n, rng)
    engine = make_engine(url)
    migrate(engine)
    timings: dict[str, float] = {}
    on = dt.date(2020, 6, 1)
    step = timer(timings)

    with unit_of_work(engine) as s:
        staff(s)
        book.open_capital(s, "op", 10**15, dt.date(2020, 1, 2), "CAP")
        m = board.record_meeting(s, "op", dt.date(2020, 5, 1), DIRECTORS, DIRECTORS[:7])
        board.record_resolution(s, "op", m.id, "use_for_failed_firm", "BR", "pay", DIRECTORS[:5])
        firms.open_firm(s, "op", "bench", "Bench Securities", "revoked", dt.date(2020, 5, 2), "BR")
    with step("register claims"), unit_of_work(engine) as s:
        firms.register_claims(s, "op", "bench", work / "claims.csv")
    with step("custodian records"), unit_of_work(engine) as s:
        firms.import_custodian_records(s, "op", "bench", work / "records.csv")
    with step("verify"), unit_of_work(engine) as s:
        firms.verify_firm(s, "op", "bench", on)
    with step("propose batch"), unit_of_work(engine) as s:
        firms.propose_batch(s, "op", "bench", on)
    with step("release batch"), unit_of_work(engine) as s:
        firms.release_batch(s, "ap", "bench", 1, on)
    with step("export instructions"), unit_of_work(engine) as s:
        path, _ = firms.export_batch(s, "op", "bench", 1, work / "out")
    with path.open(encoding="utf-8") as f, (work / "paid.csv").open("w", encoding="utf-8") as out:
        out.write("instruction_id,status,amount,settled_on,reason\n")
        for rec in csv.DictReader(f):
            out.write(f"{rec['instruction_id']},paid,{rec['amount']},2020-06-03,\n")
    with step("import results"), unit_of_work(engine) as s:
        firms.import_results(s, "op", "bench", work / "paid.csv")
    with unit_of_work(engine) as s:
        rep = firms.report(s, "bench")
        assert rep.paid_fen == rep.to_pay_fen and book.trial(s).balanced
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claimants", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite file in a temporary directory")
    parser.add_argument("--postgresql", default=None, help="PostgreSQL server URL; a fresh schema is made in it")
    args = parser.parse_args()
    print(json.dumps(on_databases(run, args.claimants, args.sqlite, args.postgresql, "claimants")))


if __name__ == "__main__":
    main()
