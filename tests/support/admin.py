"""Building cases for administration tests, in the domain's own terms: payers, offers, decisions, results."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from redress.admin import approvals, cases, claims, fund, payments
from redress.store.db import unit_of_work

LEGAL_A = Path(__file__).parents[1] / "legal" / "cases" / "a_worked_example_section_8"
CASE_ID = "legal-a"
OPEN_ON = dt.date(2023, 2, 1)
DEADLINE = dt.date(2023, 3, 1)
RESULT_HEADER = ("investor_id,security,status,flags,eligible_bought,q_sold,q_held,avg_buy,avg_sell,base_price,"
                 "difference_loss,systemic_deduction,net_loss,commission,stamp_duty,interest,compensation")


def fen_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def write_results(path: Path, offers: dict[str, int], security: str = "600123") -> Path:
    """A results file as ``redress compute`` writes it, with the given compensation per investor (fen)."""
    lines = [RESULT_HEADER]
    for inv, fen in sorted(offers.items()):
        lines.append(f"{inv},{security},eligible,,100,0,100,10.0000,,8.0000,{fen_text(fen)},0.00,{fen_text(fen)},"
                     f"0.00,0.00,0.00,{fen_text(fen)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class World:
    """One case in a database, with an operator (alice), a second operator (carol) and an approver (bob)."""

    url: str
    engine: Engine
    root: Path
    case_id: str = CASE_ID
    agreement_sha: str = ""
    offers: dict[str, int] = field(default_factory=dict)

    def tx(self):
        return unit_of_work(self.engine)

    def approve(self, approval_id: int):
        with self.tx() as s:
            return approvals.decide(s, "bob", approval_id, True)

    def decision(self, investor: str, decision: str = "accept", on: dt.date = dt.date(2023, 2, 10),
                 key: str | None = None, channel: str = "online") -> claims.DecisionInput:
        return claims.DecisionInput(investor, decision, on, channel, key or f"{investor}-{decision}", "v1",
                                    self.agreement_sha if decision == "accept" else None)

    def decide(self, *items: claims.DecisionInput):
        with self.tx() as s:
            for item in items:
                claims.decide(s, "alice", self.case_id, item)

    def pay_batch(self, on: dt.date) -> int:
        """Propose and release a batch of everything owed; returns its number."""
        with self.tx() as s:
            ap = payments.propose_batch(s, "alice", self.case_id, on)
            ap_id = ap.id
        batch = self.approve(ap_id)
        return batch.number

    def export(self, number: int) -> list[list[str]]:
        with self.tx() as s:
            path, _ = payments.export_batch(s, "alice", self.case_id, number, self.root / "out")
        return [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()[1:]]

    def results_file(self, name: str, rows: list[tuple[str, str, str, str, str]]) -> Path:
        """Write a clearing-system results file: (instruction_id, status, amount, settled_on, reason)."""
        path = self.root / name
        path.write_text("instruction_id,status,amount,settled_on,reason\n"
                        + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
        return path


def reverse(s, case_id: str, key: str, on: dt.date, reason: str, maker: str = "alice", checker: str = "bob"):
    """A correction as the books take it: proposed by one person, approved by a second; the reversing entry."""
    ap = fund.propose_reversal(s, maker, case_id, key, on, reason)
    return approvals.decide(s, checker, ap.id, True)


def users(engine: Engine) -> None:
    with unit_of_work(engine) as s:
        cases.bootstrap(s, "root", "Administrator")
        cases.add_user(s, "root", "alice", "Alice Operator", ["operator"])
        cases.add_user(s, "root", "carol", "Carol Operator", ["operator"])
        cases.add_user(s, "root", "bob", "Bob Approver", ["approver"])


def open_case(db: tuple[str, Engine], root: Path, offers: dict[str, int],
              contributions: dict[str, int] | None = None) -> World:
    """A case taken to ``claims_open``: payers named and paid in, plan approved, agreement v1, claims offered."""
    url, engine = db
    contributions = contributions or {"sponsor": sum(offers.values()) * 2}
    case_dir = root / "case"
    case_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(LEGAL_A / "case.toml", case_dir / "case.toml")
    results = write_results(root / "results.csv", offers)
    users(engine)
    w = World(url, engine, root, offers=dict(offers))
    with w.tx() as s:
        cases.create_case(s, "alice", CASE_ID, "Worked example", custodian="Custodian Bank")
        for i, (payer, fen) in enumerate(sorted(contributions.items())):
            cases.add_payer(s, "alice", CASE_ID, payer, payer.title(), "sponsor" if i == 0 else "auditor", fen)
            fund.contribute(s, "alice", CASE_ID, payer, fen, dt.date(2023, 1, 5), f"BANK-{payer}")
        fund.establish(s, "alice", CASE_ID)
        ap_id = claims.propose_plan(s, "alice", CASE_ID, case_dir, results, OPEN_ON, DEADLINE, recompute=False).id
    w.approve(ap_id)
    with w.tx() as s:
        w.agreement_sha = claims.publish_agreement(s, "alice", CASE_ID, "v1", "和解协议 settlement agreement v1").sha256
        claims.open_claims(s, "alice", CASE_ID, results)
    return w
