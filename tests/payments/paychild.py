"""A child process for the crash and concurrency tests: ``python paychild.py SPEC.json``.

The spec names the database (``url``), the case, the child (``name``), an optional lock-step folder (``sync``) and
a list of jobs, one per round.  Before each round the child connects, says it is ready and waits for the parent's
go; then it runs the job and prints one JSON line with the outcome.  A job may crash the process on purpose
(``os._exit(9)``): in the middle of an import, before its unit of work commits, or just after.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from sqlalchemy import text

from redress.admin import approvals, cases, claims, payments
from redress.admin.errors import AdminError
from redress.store.db import make_engine, unit_of_work

CRASH = 9


def crash(note: str) -> None:
    print(json.dumps({"crashing": note}), flush=True)
    os._exit(CRASH)


def import_results(engine, case_id: str, job: dict) -> dict:
    crash_row = job.get("crash_after_rows")

    def on_row(i: int) -> None:
        if crash_row is not None and i + 1 == crash_row:
            crash(f"after {crash_row} rows, before commit")

    with unit_of_work(engine) as s:
        rep = payments.import_results(s, job.get("actor", "alice"), case_id, Path(job["path"]), on_row=on_row)
        if job.get("crash") == "before_commit":
            crash("import done, before commit")
    if job.get("crash") == "after_commit":
        crash("after commit")
    return {"already_imported": rep.already_imported, "paid": rep.paid, "returned": rep.returned,
            "unchanged": rep.unchanged, "paid_fen": rep.paid_fen}


def pay_all(engine, case_id: str, job: dict) -> dict:
    """Propose batches of at most ``limit`` claims until nothing is owed outside a batch; after each proposal
    try to release (as bob) every request waiting for approval, racing the other child for them."""
    proposed, approved, refused = [], [], []
    on = dt.date.fromisoformat(job["on"])
    while True:
        try:
            with unit_of_work(engine) as s:
                proposed.append(payments.propose_batch(s, job["actor"], case_id, on, limit=job["limit"]).id)
        except AdminError as exc:
            if "nothing to pay" in str(exc):
                break
            raise
        with unit_of_work(engine) as s:
            waiting = [a.id for a in cases.pending_approvals(s, case_id)]
        for ap_id in waiting:
            try:
                with unit_of_work(engine) as s:
                    approvals.decide(s, "bob", ap_id, True)
                approved.append(ap_id)
            except AdminError as exc:
                refused.append([ap_id, str(exc)])
    return {"proposed": proposed, "approved": approved, "refused": refused}


def decide(engine, case_id: str, job: dict) -> dict:
    """Each decision in its own unit of work; a refusal is reported, not raised."""
    done, refused = [], []
    for inv, decision, on, channel, key, version, sha in job["items"]:
        item = claims.DecisionInput(inv, decision, dt.date.fromisoformat(on), channel, key, version, sha)
        try:
            with unit_of_work(engine) as s:
                claims.decide(s, job.get("actor", "alice"), case_id, item)
            done.append(inv)
        except AdminError as exc:
            refused.append([inv, type(exc).__name__, str(exc)])
    return {"done": done, "refused": refused}


JOBS = {"import_results": import_results, "pay_all": pay_all, "decide": decide}


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    engine = make_engine(spec["url"])
    sync = Path(spec["sync"]) if spec.get("sync") else None
    for r, job in enumerate(spec["jobs"]):
        with engine.connect() as conn:      # connected before the start, so the race is the work itself
            conn.execute(text("SELECT 1"))
        if sync is not None:
            (sync / f"ready-{spec['name']}-{r}").touch()
            while not (sync / f"go-{r}").exists():
                time.sleep(0.0005)
        try:
            out = {"round": r, "outcome": "ok", **JOBS[job["op"]](engine, spec["case_id"], job)}
        except AdminError as exc:
            out = {"round": r, "outcome": "refused", "error": type(exc).__name__, "message": str(exc)}
        print(json.dumps(out), flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
