"""Shared by the payment tests: a fifty-investor case, a snapshot of everything an import could change (to prove
that a refused or repeated import changed nothing), and child processes run in lock step (crash and concurrency).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from redress.admin import fund, payments
from redress.store.models import (Approval, AuditHead, BalanceCheck, Claim, Decision, ImportedFile, LedgerEntry,
                                  Payment, PaymentBatch)
from support.admin import World, open_case

D = dt.date
CHILD = Path(__file__).with_name("paychild.py")
# fifty investors, every offer a different amount (1.00 + 1.01 * i yuan)
FIFTY = {f"INV{i:03d}": 1_00 + 1_01 * i for i in range(50)}


def fifty(db, tmp_path: Path, decline: tuple[str, ...] = ()) -> World:
    """A case with fifty investors; everyone accepts except ``decline``."""
    w = open_case(db, tmp_path, FIFTY)
    w.decide(*(w.decision(inv, "decline" if inv in decline else "accept") for inv in FIFTY))
    return w


def snapshot(w: World) -> dict[str, Any]:
    """Everything a payment, decision or statement import touches, as plain values."""
    with w.tx() as s:
        head = s.get(AuditHead, 1)
        return {
            "balances": fund.balances(s, w.case_id),
            "claims": sorted(s.execute(select(Claim.investor_id, Claim.status, Claim.awarded_fen, Claim.interest_fen,
                                              Claim.paid_fen, Claim.decided_on)).all()),
            "decisions": sorted(s.execute(select(Decision.claim_id, Decision.decision,
                                                 Decision.idempotency_key)).all()),
            "payments": sorted(s.execute(select(Payment.instruction_id, Payment.status, Payment.amount_fen,
                                                Payment.settled_on, Payment.reason, Payment.result_file_id)).all()),
            "batches": sorted(s.execute(select(PaymentBatch.number, PaymentBatch.status,
                                               PaymentBatch.total_fen)).all()),
            "approvals": sorted(s.execute(select(Approval.id, Approval.status)).all()),
            "files": sorted(s.execute(select(ImportedFile.kind, ImportedFile.sha256, ImportedFile.rows)).all()),
            "balance_checks": sorted(s.execute(select(BalanceCheck.on, BalanceCheck.expected_fen)).all()),
            "ledger_entries": s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one(),
            "audit_seq": head.seq if head else 0,
        }


def paid_by_investor(w: World) -> dict[str, int]:
    with w.tx() as s:
        return dict(s.execute(select(Claim.investor_id, Claim.paid_fen)).all())


def reconciles(w: World) -> payments.Reconciliation:
    with w.tx() as s:
        return payments.reconcile(s, w.case_id)


def fen(amount: str) -> int:
    whole, _, cents = amount.partition(".")
    return int(whole) * 100 + int(cents or 0)


def settle_rows(rows: list[list[str]], on: str = "2023-02-17", returned_every: int = 0
                ) -> list[tuple[str, str, str, str, str]]:
    """Results for instruction rows: paid, except every ``returned_every``-th row returned (account closed)."""
    out = []
    for i, r in enumerate(rows):
        back = returned_every and i % returned_every == returned_every - 1
        out.append((r[0], "returned" if back else "paid", r[4], on, "account closed" if back else ""))
    return out


# -- child processes -------------------------------------------------------------------------------------------

def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).parents[2] / "src"), env.get("PYTHONPATH"))
                                        if p)
    return env


def run_child(spec: dict[str, Any], workdir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run one child to its end (or its crash); its spec names the database, the case and the jobs."""
    spec_path = workdir / f"spec-{spec.get('name', 'child')}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    return subprocess.run([sys.executable, str(CHILD), str(spec_path)], capture_output=True, text=True,
                          timeout=timeout, env=child_env())


def outcomes(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def run_in_lock_step(specs: list[dict[str, Any]], workdir: Path, timeout: float = 90) -> list[list[dict[str, Any]]]:
    """Start the children; before each round every child connects and waits, then all are let go at once.
    Returns each child's outcomes, one per round."""
    sync = workdir / "sync"
    sync.mkdir(parents=True, exist_ok=True)
    procs = []
    for spec in specs:
        spec = dict(spec, sync=str(sync))
        spec_path = workdir / f"spec-{spec['name']}.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        procs.append(subprocess.Popen([sys.executable, str(CHILD), str(spec_path)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=child_env()))
    rounds = len(specs[0]["jobs"])
    assert all(len(s["jobs"]) == rounds for s in specs)
    deadline = time.monotonic() + timeout
    try:
        for r in range(rounds):
            while not all((sync / f"ready-{s['name']}-{r}").exists() for s in specs):
                for p in procs:
                    if p.poll() is not None:
                        out, err = p.communicate()
                        raise AssertionError(f"a child ended early (rc {p.returncode}) before round {r}:\n{out}\n{err}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"children not ready for round {r} in time")
                time.sleep(0.002)
            (sync / f"go-{r}").touch()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=max(deadline - time.monotonic(), 1))
            assert p.returncode == 0, f"child failed (rc {p.returncode}):\n{out}\n{err}"
            got = outcomes(out)
            assert len(got) == rounds, f"child reported {len(got)} of {rounds} rounds:\n{out}\n{err}"
            results.append(got)
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
