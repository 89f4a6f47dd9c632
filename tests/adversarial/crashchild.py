"""Fault injection: a child process that runs one step of the advance compensation and kills itself with SIGKILL
at a chosen point, and what the parent needs around it (the case it runs in, snapshots, consistency checks).

The child: ``python crashchild.py SPEC.json``.  The spec names the database (``url``), the case, the ``step``
(one of ``STEPS``), its ``args`` and ``kill_at``:

- an integer N: SIGKILL right after the Nth SQL statement of the step's unit of work, counted by a SQLAlchemy
  ``after_cursor_execute`` listener registered in the child (the statement ran, the transaction never commits);
  deterministic, so a failing point can be replayed;
- ``"after_commit"``: SIGKILL just after the unit of work committed (the step is whole; a rerun must do nothing);
- null: run to the end and print ``{"statements": N, "applied": ...}`` (how many kill points the step has).

Before killing itself the child prints ``{"killing": N, "sql": ...}``, so a failure names the statement.

The parent's side: ``World`` is one case in a fresh database, advanced through ``STAGES`` by the very step
functions the child runs; ``snapshot`` is everything the steps touch, by natural keys (no surrogate ids, no
timestamps, so two databases built the same way compare equal); ``problems`` lists every broken invariant
(audit chain, trial balance, reconciliation, claims against postings, batches against payments, imported
files against what they settled); ``finish`` pays everyone owed and ``money_problems`` checks nobody was paid
twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from redress.admin import approvals, cases, claims, fund, payments
from redress.admin.errors import AdminError
from redress.store import audit
from redress.store.db import make_engine, unit_of_work
from redress.store.models import (Approval, Assignment, AuditEvent, Case, Claim, Decision, ImportedFile, LedgerEntry,
                                  LedgerPosting, Payment, PaymentBatch)

HERE = Path(__file__).resolve()
TESTS = HERE.parents[1]
SRC = TESTS.parent / "src"
LEGAL_A = TESTS / "legal" / "cases" / "a_worked_example_section_8"
CASE_ID = "crash-a"
OPEN_ON = dt.date(2023, 2, 1)
DEADLINE = dt.date(2023, 3, 1)
DECIDED_ON = dt.date(2023, 2, 10)
BATCH_ON = dt.date(2023, 2, 15)
SETTLED_ON = dt.date(2023, 2, 17)
KILLED = -signal.SIGKILL

# twelve investors, every offer a different amount; two decline, one never answers, INV000 decided on her own
# before the channel's file arrives (the file repeats her decision: an identical retry)
OFFERS = {f"INV{i:03d}": 10_00 + 1_013 * i for i in range(12)}
DECLINE = frozenset({"INV003", "INV008"})
SILENT = frozenset({"INV010"})
EARLY = "INV000"
ACCEPT = frozenset(OFFERS) - DECLINE - SILENT
RETURN_EVERY = 4          # every 4th line of the first results file is returned (account closed)
RESULT_HEADER = ("investor_id,security,status,flags,eligible_bought,q_sold,q_held,avg_buy,avg_sell,base_price,"
                 "difference_loss,systemic_deduction,net_loss,commission,stamp_duty,interest,compensation")


def yuan_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def decide_approval(session: Session, actor: str, approval_id: int, approve: bool = True, note: str = "") -> Any:
    """The checker's decision (a rejection needs a note)."""
    return approvals.decide(session, actor, approval_id, approve, note or ("" if approve else "refused"))


# -- the steps: the same functions in the child (under a kill hook) and in the parent (setup and reruns) -------
# Each runs inside the caller's unit of work and says whether it applied anything (False: the step had already
# happened, and the service said so: an imported file, "nothing to pay", an approval already decided).

def step_claims_import(s: Session, case_id: str, args: dict[str, Any]) -> bool:
    _n, already = claims.import_decisions(s, "alice", case_id, Path(args["decisions"]))
    return not already


def _unless_done(act: Callable[[], object], done: str) -> bool:
    """Run ``act``; False when the service refuses it because it has already happened (its message holds
    ``done``), True when it applied something."""
    try:
        act()
    except AdminError as exc:
        if done in str(exc):
            return False
        raise
    return True


def step_propose_batch(s: Session, case_id: str, args: dict[str, Any]) -> bool:
    return _unless_done(lambda: payments.propose_batch(s, "alice", case_id, dt.date.fromisoformat(args["on"])),
                        "nothing to pay")


def step_release_batch(s: Session, case_id: str, args: dict[str, Any]) -> bool:
    return _unless_done(lambda: decide_approval(s, "bob", args["approval"], True, "batch checked"),
                        "already approved")


def step_import_results(s: Session, case_id: str, args: dict[str, Any]) -> bool:
    return not payments.import_results(s, "alice", case_id, Path(args["results"])).already_imported


STEPS: dict[str, Callable[[Session, str, dict[str, Any]], bool]] = {
    "claims_import": step_claims_import,
    "propose_batch": step_propose_batch,
    "release_batch": step_release_batch,
    "import_results": step_import_results,
}


# -- the child ---------------------------------------------------------------------------------------------------

def arm(engine: Engine, kill_at: int | None, commit_after: str | None = None) -> list[int]:
    """Count the SQL statements run on ``engine``; SIGKILL this process right after statement ``kill_at``.
    ``commit_after`` (a statement's first words) breaks the step on purpose, to show that the checks notice:
    the work so far is committed behind SQLAlchemy's back right after the first such statement."""
    count = [0]
    broken = [commit_after is None]

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_conn, cursor, statement, _parameters, _context, _executemany):
        count[0] += 1
        if not broken[0] and " ".join(statement.split()).startswith(commit_after):
            broken[0] = True
            cursor.execute("COMMIT")
            cursor.execute("BEGIN")     # the rest of the step in a transaction of its own, lost in the kill
        if count[0] == kill_at:
            print(json.dumps({"killing": kill_at, "sql": " ".join(statement.split())[:160]}), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    return count


def child_main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    engine = make_engine(spec["url"])
    kill_at = spec.get("kill_at")
    count = arm(engine, kill_at if isinstance(kill_at, int) else None, spec.get("commit_after"))
    with unit_of_work(engine) as s:
        applied = STEPS[spec["step"]](s, spec["case_id"], spec["args"])
    if kill_at == "after_commit":
        print(json.dumps({"killing": "after_commit", "statements": count[0]}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    print(json.dumps({"statements": count[0], "applied": applied}), flush=True)
    engine.dispose()


# -- the parent: running a child -------------------------------------------------------------------------------

def run_child(w: World, step: str, kill_at: int | str | None, timeout: float = 90, commit_after: str | None = None
              ) -> subprocess.CompletedProcess[str]:
    spec = {"url": w.url, "case_id": w.case_id, "step": step, "args": w.args(step), "kill_at": kill_at,
            "commit_after": commit_after}
    spec_path = w.root / f"spec-{step}-{kill_at}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = dict(os.environ, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), str(TESTS), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, str(HERE), str(spec_path)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def reports(child: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]


class _RollBack(Exception):
    pass


def dry_run(w: World, step: str) -> tuple[int, dict[str, Any]]:
    """Run the step here and roll it back (nothing changes): how many SQL statements its unit of work runs (the
    kill points a child can be given are 1 to that number) and the snapshot it would leave, taken inside it."""
    args = w.args(step)
    count = [0]

    def _after(*_a: Any) -> None:
        count[0] += 1

    event.listen(w.engine, "after_cursor_execute", _after)
    try:
        with w.tx() as s:
            STEPS[step](s, w.case_id, args)
            n = count[0]
            after = snapshot(w, s)
            raise _RollBack
    except _RollBack:
        pass
    finally:
        event.remove(w.engine, "after_cursor_execute", _after)
    return n, after


# -- the parent: one case, advanced stage by stage ---------------------------------------------------------------

STAGES = ("open", "decided", "proposed", "released", "settled")
STEP_FROM = {"claims_import": "open", "propose_batch": "decided", "release_batch": "proposed",
             "import_results": "released"}


@dataclass
class World:
    """One case in one database: alice and carol operate, bob approves; claims are open for ``OFFERS``."""

    url: str
    engine: Engine
    root: Path
    case_id: str = CASE_ID
    agreement_sha: str = ""
    stage: str = "open"
    extra: dict[str, Any] = field(default_factory=dict)

    def tx(self):
        return unit_of_work(self.engine)

    def args(self, step: str) -> dict[str, Any]:
        """What the step is given: the same whether it runs in a child or here."""
        if step == "claims_import":
            return {"decisions": str(self.root / "decisions.csv")}
        if step == "propose_batch":
            return {"on": BATCH_ON.isoformat()}
        if step == "release_batch":
            return {"approval": self.pending_release()}
        if step == "import_results":
            return {"results": str(self.root / "results-1.csv")}
        raise KeyError(step)

    def run(self, step: str) -> bool:
        """Run a step here, in its own unit of work; True when it applied something."""
        with self.tx() as s:
            return STEPS[step](s, self.case_id, self.args(step))

    def pending_release(self) -> int:
        """The release request of batch 1 (pending, or already decided by a step that got through)."""
        with self.tx() as s:
            return s.execute(select(Approval.id).where(Approval.case_id == self.case_id,
                                                       Approval.action == "release_batch",
                                                       Approval.subject == "batch 1")).scalar_one()

    def advance(self, to: str) -> World:
        """Take the case to stage ``to`` with the same steps the children run (and the export in between)."""
        while STAGES.index(self.stage) < STAGES.index(to):
            step = next(k for k, v in STEP_FROM.items() if v == self.stage)
            assert self.run(step), f"setup: {step} applied nothing"
            self.completed(step)
        return self

    def completed(self, step: str) -> None:
        """``step`` has happened (here or in a child): the case is at the next stage; a released batch is sent
        and the clearing system's answer written."""
        assert self.stage == STEP_FROM[step], (self.stage, step)
        if step == "release_batch":
            self.write_results()
        self.stage = STAGES[STAGES.index(self.stage) + 1]

    def write_results(self) -> None:
        """Export batch 1 and write the clearing system's answer: paid, every ``RETURN_EVERY``th line returned."""
        rows = export(self, 1)
        lines = []
        for i, (iid, _case, _batch, _inv, amount, _cur) in enumerate(rows):
            back = i % RETURN_EVERY == RETURN_EVERY - 1
            lines.append(f"{iid},{'returned' if back else 'paid'},{amount},{SETTLED_ON},"
                         f"{'account closed' if back else ''}")
        (self.root / "results-1.csv").write_text("instruction_id,status,amount,settled_on,reason\n"
                                                 + "".join(f"{x}\n" for x in lines), encoding="utf-8")


def export(w: World, number: int) -> list[list[str]]:
    with w.tx() as s:
        path, _ = payments.export_batch(s, "alice", w.case_id, number, w.root / "out")
    return [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()[1:]]


def open_world(url: str, engine: Engine, root: Path) -> World:
    """Users, a case funded twice over, the plan approved, agreement v1, claims offered, INV000's early
    acceptance, and the channel's decisions file written (not imported)."""
    root.mkdir(parents=True, exist_ok=True)
    case_dir = root / "case"
    case_dir.mkdir(exist_ok=True)
    shutil.copy(LEGAL_A / "case.toml", case_dir / "case.toml")
    text = (case_dir / "case.toml").read_text(encoding="utf-8")
    (case_dir / "case.toml").write_text(text.replace('"legal-a"', f'"{CASE_ID}"'), encoding="utf-8")
    results = root / "results.csv"
    results.write_text("\n".join([RESULT_HEADER] + [
        f"{inv},600123,eligible,,100,0,100,10.0000,,8.0000,{yuan_text(f)},0.00,{yuan_text(f)},0.00,0.00,0.00,"
        f"{yuan_text(f)}" for inv, f in sorted(OFFERS.items())]) + "\n", encoding="utf-8")
    w = World(url, engine, root)
    with w.tx() as s:
        cases.bootstrap(s, "root", "Administrator")
        cases.add_user(s, "root", "alice", "Alice Operator", ["operator"])
        cases.add_user(s, "root", "carol", "Carol Operator", ["operator"])
        cases.add_user(s, "root", "bob", "Bob Approver", ["approver"])
    with w.tx() as s:
        cases.create_case(s, "alice", CASE_ID, "Crash example", custodian="Custodian Bank")
        cases.add_payer(s, "alice", CASE_ID, "sponsor", "Sponsor", "sponsor", sum(OFFERS.values()))
        cases.add_payer(s, "alice", CASE_ID, "auditor", "Auditor", "auditor", sum(OFFERS.values()))
        fund.contribute(s, "alice", CASE_ID, "sponsor", sum(OFFERS.values()), dt.date(2023, 1, 5), "BANK-1")
        fund.contribute(s, "alice", CASE_ID, "auditor", sum(OFFERS.values()) // 3, dt.date(2023, 1, 6), "BANK-2")
        fund.establish(s, "alice", CASE_ID)
        ap_id = claims.propose_plan(s, "alice", CASE_ID, case_dir, results, OPEN_ON, DEADLINE, recompute=False).id
    with w.tx() as s:
        decide_approval(s, "bob", ap_id, True, "plan checked")
    with w.tx() as s:
        w.agreement_sha = claims.publish_agreement(s, "alice", CASE_ID, "v1", "和解协议 settlement agreement v1").sha256
        claims.open_claims(s, "alice", CASE_ID, results)
    lines = []
    for inv in sorted(OFFERS):
        if inv in SILENT:
            continue
        accept = inv not in DECLINE
        lines.append(f"{inv},{'accept' if accept else 'decline'},{DECIDED_ON},online,{inv}-web,"
                     f"{'v1' if accept else ''},{w.agreement_sha if accept else ''}")
    (root / "decisions.csv").write_text("investor_id,decision,decided_on,channel,key,agreement_version,"
                                        "agreement_sha256\n" + "".join(f"{x}\n" for x in lines), encoding="utf-8")
    with w.tx() as s:
        claims.decide(s, "alice", CASE_ID, claims.DecisionInput(EARLY, "accept", DECIDED_ON, "online", f"{EARLY}-web",
                                                                "v1", w.agreement_sha))
    return w


def finish(w: World) -> None:
    """Pay what is still owed: the returned payments go out again in a second batch, and this time arrive."""
    assert w.stage == "settled"
    with w.tx() as s:
        ap_id = payments.propose_batch(s, "alice", w.case_id, dt.date(2023, 2, 20)).id
    with w.tx() as s:
        number = decide_approval(s, "bob", ap_id, True, "second batch checked").number
    rows = export(w, number)
    path = w.root / "results-2.csv"
    path.write_text("instruction_id,status,amount,settled_on,reason\n"
                    + "".join(f"{r[0]},paid,{r[4]},2023-02-22,\n" for r in rows), encoding="utf-8")
    with w.tx() as s:
        assert not payments.import_results(s, "alice", w.case_id, path).already_imported


# -- the parent: what a step may change, by natural keys ---------------------------------------------------------

def snapshot(w: World, session: Session | None = None) -> dict[str, Any]:
    """Everything the four steps touch, without surrogate ids or timestamps: the same case built in two
    databases gives the same snapshot, and a step that happened wholly or not at all gives one of two.
    Taken in a unit of work of its own, or in ``session`` (seeing what it has written and not committed)."""
    with contextlib.nullcontext(session) if session is not None else w.tx() as s:
        case = s.get(Case, w.case_id)
        file_sha = dict(s.execute(select(ImportedFile.id, ImportedFile.sha256)).all())
        postings = s.execute(select(LedgerEntry.key, LedgerPosting.account, LedgerPosting.amount_fen)
                             .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)).all()
        return {
            "case": (case.state, case.version, case.fully_funded),
            "balances": fund.balances(s, w.case_id),
            "claims": sorted(s.execute(select(Claim.investor_id, Claim.status, Claim.offered_fen, Claim.awarded_fen,
                                              Claim.interest_fen, Claim.paid_fen, Claim.decided_on, Claim.late)).all()),
            "decisions": sorted(s.execute(select(Claim.investor_id, Decision.decision, Decision.decided_on,
                                                 Decision.channel, Decision.idempotency_key, Decision.agreement_version)
                                          .join(Claim, Claim.id == Decision.claim_id)).all()),
            "assignments": sorted(s.execute(select(Claim.investor_id, Assignment.payer_id, Assignment.amount_fen)
                                            .join(Claim, Claim.id == Assignment.claim_id)).all()),
            "approvals": sorted(s.execute(select(Approval.action, Approval.subject, Approval.status,
                                                 Approval.requested_by, Approval.decided_by,
                                                 Approval.payload_sha256)).all()),
            "batches": sorted(s.execute(select(PaymentBatch.number, PaymentBatch.status, PaymentBatch.count,
                                               PaymentBatch.total_fen, PaymentBatch.released_on,
                                               PaymentBatch.file_sha256)).all()),
            "payments": sorted((iid, st, amount, on, reason, file_sha.get(fid)) for iid, st, amount, on, reason, fid in
                               s.execute(select(Payment.instruction_id, Payment.status, Payment.amount_fen,
                                                Payment.settled_on, Payment.reason, Payment.result_file_id)).all()),
            "files": sorted(s.execute(select(ImportedFile.kind, ImportedFile.sha256, ImportedFile.name,
                                             ImportedFile.rows)).all()),
            "entries": sorted(s.execute(select(LedgerEntry.key, LedgerEntry.kind, LedgerEntry.booked_on,
                                               LedgerEntry.memo)).all()),
            "postings": sorted(postings),
            "audit": [tuple(r) for r in s.execute(select(AuditEvent.seq, AuditEvent.actor, AuditEvent.action,
                                                         AuditEvent.subject).order_by(AuditEvent.seq)).all()],
        }


def difference(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The parts of two snapshots that differ, by name."""
    return [k for k in a if a[k] != b.get(k)]


# -- the parent: invariants that hold after any crash ------------------------------------------------------------

def problems(w: World) -> list[str]:
    """Every broken invariant: the audit chain, the books, claims against postings, batches against payments,
    imported files against what they settled.  Empty when the database is consistent."""
    out: list[str] = []
    with w.tx() as s:
        v = audit.verify(s)
        out += [f"audit: {p}" for p in v.problems]
        if not fund.trial(s, w.case_id).balanced:
            out.append("trial balance does not balance")
        out += [f"ledger: {p}" for p in fund.check_ledger(s, w.case_id)]
        out += [f"reconcile: {p}" for p in payments.reconcile(s, w.case_id).problems]
        bal = fund.balances(s, w.case_id)
        case = s.get(Case, w.case_id)
        claim_rows = s.execute(select(Claim).where(Claim.case_id == w.case_id)).scalars().all()
        by_id = {c.id: c for c in claim_rows}
        actions = Counter(s.execute(select(AuditEvent.action)).scalars())

        # claims against decisions, assignments and the award postings
        decisions: dict[int, list[str]] = {}
        for cid, d in s.execute(select(Decision.claim_id, Decision.decision)).all():
            decisions.setdefault(cid, []).append(d)
        assigned = dict(s.execute(select(Assignment.claim_id, func.sum(Assignment.amount_fen))
                                  .group_by(Assignment.claim_id)).all())
        for c in claim_rows:
            want = {"accepted": ["accept"], "declined": ["decline"], "offered": []}.get(c.status)
            if want is not None and decisions.get(c.id, []) != want:
                out.append(f"claim {c.investor_id} is {c.status} but has decisions {decisions.get(c.id, [])}")
            if c.status == "accepted":
                if case.fully_funded and c.awarded_fen != c.offered_fen:
                    out.append(f"claim {c.investor_id} accepted in a funded case but awarded {c.awarded_fen} of "
                               f"{c.offered_fen}")
                if int(assigned.get(c.id) or 0) != c.offered_fen:
                    out.append(f"claim {c.investor_id} accepted but {assigned.get(c.id)} of {c.offered_fen} assigned")
            else:
                if c.awarded_fen or c.paid_fen:
                    out.append(f"claim {c.investor_id} is {c.status} but awarded {c.awarded_fen}, paid {c.paid_fen}")
                if c.id in assigned:
                    out.append(f"claim {c.investor_id} is {c.status} but assigned to payers")
        awarded = sum(c.awarded_fen for c in claim_rows)
        if bal.get("compensation", 0) != awarded:
            out.append(f"compensation in the books {bal.get('compensation', 0)} != awarded on claims {awarded}")

        # batches against their approvals, payments and release entries
        entries = {e.key: e for e in s.execute(select(LedgerEntry).where(LedgerEntry.case_id == w.case_id)).scalars()}
        entry_total = {k: sum(a for a in amounts if a > 0) for k, amounts in _group(s.execute(
            select(LedgerEntry.key, LedgerPosting.amount_fen).join(LedgerEntry)).all()).items()}
        approvals = {a.id: a for a in s.execute(select(Approval)).scalars()}
        all_payments = s.execute(select(Payment)).scalars().all()
        batches = s.execute(select(PaymentBatch).where(PaymentBatch.case_id == w.case_id)).scalars().all()
        if actions["approval.request"] != len(approvals):
            out.append(f"{len(approvals)} approval requests but {actions['approval.request']} request events")
        for b in batches:
            ps = [p for p in all_payments if p.batch_id == b.id]
            statuses = Counter(p.status for p in ps)
            ap = approvals[b.approval_id]
            if (len(ps), sum(p.amount_fen for p in ps)) != (b.count, b.total_fen):
                out.append(f"batch {b.number}: {len(ps)} payments of {sum(p.amount_fen for p in ps)} fen, "
                           f"the batch says {b.count} of {b.total_fen}")
            release = entries.get(f"release:{b.number}")
            expected_ap = {"proposed": "pending", "released": "approved", "settled": "approved",
                           "cancelled": "rejected"}[b.status]
            if ap.status != expected_ap:
                out.append(f"batch {b.number} is {b.status} but its approval is {ap.status}")
            if b.status == "proposed" and (set(statuses) != {"pending"} or release is not None):
                out.append(f"batch {b.number} proposed: payments {dict(statuses)}, release entry {release is not None}")
            if b.status in ("released", "settled"):
                if release is None or entry_total.get(release.key) != b.total_fen:
                    out.append(f"batch {b.number} {b.status} without a release entry of {b.total_fen} fen")
                if "pending" in statuses or "cancelled" in statuses:
                    out.append(f"batch {b.number} {b.status} with payments {dict(statuses)}")
                if (b.status == "settled") != (statuses["instructed"] == 0):
                    out.append(f"batch {b.number} {b.status} with {statuses['instructed']} payments instructed")
        if actions["ledger.release"] != sum(1 for b in batches if b.status in ("released", "settled")):
            out.append(f"{actions['ledger.release']} release events for "
                       f"{sum(1 for b in batches if b.status in ('released', 'settled'))} released batches")

        # payments against claims and the results files that settled them
        files = {f.id: f for f in s.execute(select(ImportedFile).where(ImportedFile.case_id == w.case_id)).scalars()}
        in_flight = Counter(p.claim_id for p in all_payments if p.status in ("pending", "instructed"))
        paid = Counter(p.claim_id for p in all_payments if p.status == "paid")
        for cid, n in in_flight.items():
            if n > 1:
                out.append(f"claim {by_id[cid].investor_id} has {n} payments in flight")
        for c in claim_rows:
            got = sum(p.amount_fen for p in all_payments if p.claim_id == c.id and p.status == "paid")
            if c.paid_fen != got:
                out.append(f"claim {c.investor_id} paid {c.paid_fen} but its paid payments sum to {got}")
            if c.paid_fen > c.awarded_fen + c.interest_fen:
                out.append(f"claim {c.investor_id} paid {c.paid_fen} beyond its award {c.awarded_fen}")
            if paid[c.id] > 1:
                out.append(f"claim {c.investor_id} paid {paid[c.id]} times")
        for p in all_payments:
            settled = p.status in ("paid", "returned")
            f = files.get(p.result_file_id) if p.result_file_id is not None else None
            if settled != (f is not None and f.kind == "payment_results") or settled != (p.settled_on is not None):
                out.append(f"payment {p.instruction_id} is {p.status} with result file {p.result_file_id}, "
                           f"settled on {p.settled_on}")
        for f in files.values():
            if f.kind == "payment_results":
                settled_here = [p for p in all_payments if p.result_file_id == f.id]
                moved = sum(p.amount_fen for p in settled_here)
                key = f"settlement:{f.sha256[:32]}"
                if settled_here and entry_total.get(key, 0) != moved:
                    out.append(f"results {f.name} settled {moved} fen but its entry moves {entry_total.get(key)}")
                if not settled_here and key in entries:
                    out.append(f"results {f.name} settled nothing but has an entry")
        by_kind = Counter(f.kind for f in files.values())
        for kind, event_name in (("payment_results", "payments.results_imported"),
                                 ("decisions", "claims.decisions_imported")):
            if by_kind[kind] != actions[event_name]:
                out.append(f"{by_kind[kind]} {kind} files recorded but {actions[event_name]} {event_name} events")
    return out


def _group(rows) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for k, v in rows:
        out.setdefault(k, []).append(v)
    return out


def money_problems(w: World) -> list[str]:
    """Once everything owed is paid: each accepted claim paid its award exactly once, nobody else paid anything,
    total paid = total accepted."""
    out = []
    with w.tx() as s:
        rows = s.execute(select(Claim.id, Claim.investor_id, Claim.status, Claim.offered_fen, Claim.paid_fen)).all()
        paid = Counter(s.execute(select(Payment.claim_id).where(Payment.status == "paid")).scalars())
    for cid, inv, status, offered, got in rows:
        want = offered if inv in ACCEPT else 0
        if (status == "accepted") != (inv in ACCEPT):
            out.append(f"{inv} is {status}")
        if got != want or paid[cid] != (1 if want else 0):
            out.append(f"{inv} paid {got} fen in {paid[cid]} payment(s), owed {want}")
    total = sum(r.paid_fen for r in rows)
    if total != sum(OFFERS[i] for i in ACCEPT):
        out.append(f"total paid {total} != total accepted {sum(OFFERS[i] for i in ACCEPT)}")
    return out


if __name__ == "__main__":
    child_main(sys.argv[1])
