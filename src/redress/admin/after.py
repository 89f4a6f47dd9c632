"""Before and after the payout, on the demo's case, through the same services as the command line and the
console: a hearing on the plan (panel by verifiable lot, the plans under discussion compared by the engine,
a decision within the time limit), recourse against the liable parties (steps taken, recoveries booked and
passed on to the payers) and a fair fund (sources, rounds, transfers through released batches).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from redress import exports
from redress.admin import approvals, fairfunds, hearings, recovery
from redress.hearing import commitment
from redress.store.db import unit_of_work

ORGANISER = "中证中小投资者服务中心 Investor Service Center"
LAWYERS = ("律师甲 Lawyer A", "律师乙 Lawyer B", "律师丙 Lawyer C", "律师丁 Lawyer D")
# The plans put to the hearing: the payers' and the investor representatives' (the case's own plan is the
# baseline every comparison starts from).
HEARING_PLANS = (("A", "出资人 payers", '[plan]\ncost_method = "fifo"\n'),
                 ("B", "投资者代表 investor representatives", '[plan.systemic_risk]\nmethod = "none"\n'))
# Internal shares of fault as a court might set them in a case like the demo's (illustrative); the controlling
# shareholder is in bankruptcy and expected to pay a 20% dividend.  Payers that are liable name their payer.
LIABLE = (("issuer", "发行人 Issuer", "issuer", 5000, True, 10000, None),
          ("controller", "控股股东 Controlling shareholder", "controlling_shareholder", 2000, False, 2000, None),
          ("sponsor", "保荐机构 Sponsor Securities Co.", "sponsor", 1500, True, 10000, "sponsor"),
          ("audit_a", "会计师事务所甲 Audit Firm A", "auditor", 1000, True, 10000, "audit_a"),
          ("audit_b", "会计师事务所乙 Audit Firm B", "auditor", 500, True, 10000, "audit_b"))


def demo_seed(case_id: str) -> str:
    """The demo's seed: published in advance in a real hearing; derived from the case here so runs repeat."""
    return hashlib.sha256(f"redress-demo-hearing:{case_id}".encode()).hexdigest()


def hold_hearing(engine: Engine, case_id: str, case_dir: Path, applicants: list[str], payer_side: list[str], *,
                 actor: str, started_on: dt.date, say: Callable[[str], None] = print) -> dict:
    """Open a hearing (seed committed first), seat a balanced panel by lot, put two plans to it, publish the
    engine's comparison and record the decision; returns the hearing as the public page shows it."""
    seed = demo_seed(case_id)
    with unit_of_work(engine) as s:
        h_id = hearings.open_hearing(s, actor, case_id, ORGANISER, [], started_on, commitment(seed)).id
    with unit_of_work(engine) as s:
        hearings.form(s, actor, h_id, payer_side, applicants, list(LAWYERS), 1, seed=seed)
        for label, who, text in HEARING_PLANS:
            hearings.add_plan(s, actor, h_id, label, text, who, started_on + dt.timedelta(days=7), case_dir)
    with unit_of_work(engine) as s:
        hearings.publish_comparison(s, actor, h_id, started_on + dt.timedelta(days=21), case_dir,
                                    progress=lambda what: say(f"  hearing comparison 听证方案对比: {what}"))
    with unit_of_work(engine) as s:
        hearings.decide(s, actor, h_id, "听证会纪要 Minutes: the payers presented plan A, the investor "
                        "representatives plan B; the panel examined the comparison of the three plans.",
                        "维持案件方案 The case's plan stands: it deducts the systemic risk as SPC-2022 Art. 31 "
                        "requires, which plan B does not.", started_on + dt.timedelta(days=45))
        return hearings.public_record(s, case_id)[-1]


def pursue_recovery(engine: Engine, case_id: str, *, actor: str, on: dt.date) -> dict:
    """Name the liable parties, take steps against them (demand, lawsuit, judgment, bankruptcy claim) and book
    what the issuer paid under the judgment and the controller's bankruptcy dividend; returns the report."""
    with unit_of_work(engine) as s:
        for pid, name, kind, bp, solvent, rate, payer in LIABLE:
            recovery.add_party(s, actor, case_id, pid, name, kind, bp, solvent=solvent, recovery_rate_bp=rate,
                               payer_id=payer)
        plan = recovery.plan(s, case_id)
        claim = {p: sum(c.amount_fen for c in plan.claims_against(p)) for p, *_ in LIABLE}
        expected = {p: sum(c.expected_fen for c in plan.claims_against(p)) for p, *_ in LIABLE}
        steps = [("issuer", "demand", 0, "催告函〔2024〕1号"), ("controller", "demand", 0, "催告函〔2024〕2号"),
                 ("issuer", "lawsuit", 10, "(2024)沪74民初101号"), ("issuer", "judgment", 120, "(2024)沪74民初101号判决"),
                 ("controller", "bankruptcy_claim", 30, "破产债权申报〔2024〕7号")]
        for party, stage, days, ref in steps:
            recovery.record_action(s, actor, case_id, party, stage, on + dt.timedelta(days=days), claim[party], ref)
    with unit_of_work(engine) as s:   # the issuer pays 60% under the judgment; the controller's estate a dividend
        recovery.record_recovery(s, actor, case_id, "issuer", claim["issuer"] * 6 // 10, on + dt.timedelta(days=150),
                                 "ENF-2024-0001")
        recovery.record_recovery(s, actor, case_id, "controller", expected["controller"],
                                 on + dt.timedelta(days=200), "BKR-2024-0007")
    with unit_of_work(engine) as s:
        return {"report": recovery.report(s, case_id), "received": recovery.received_by_payer(s, case_id)}


def run_fair_fund(engine: Engine, case_id: str, files: Path, *, actor: str, approver: str, on: dt.date,
                  fine_fen: int, confiscation_fen: int) -> fairfunds.FairFundStatement:
    """A fair fund from the issuer's fine and confiscated gains, in two rounds net of advance compensation,
    each round paid through a batch released by a second person and settled by the clearing system."""
    with unit_of_work(engine) as s:
        fairfunds.establish(s, actor, case_id, 1000, "投资者保护基金 investor protection fund", on=on)
    for k, (kind, fen, ref) in enumerate((("fine", fine_fen, "罚字〔2024〕18号"),
                                          ("confiscation", confiscation_fen, "没收〔2024〕18号"))):
        day = on + dt.timedelta(days=30 * k)
        with unit_of_work(engine) as s:
            fairfunds.add_source(s, actor, case_id, kind, fen, ref, day)
            fairfunds.run_round(s, actor, case_id, day + dt.timedelta(days=1))
            ap_id = fairfunds.propose_batch(s, actor, case_id, day + dt.timedelta(days=3)).id
        with unit_of_work(engine) as s:
            batch = approvals.decide(s, approver, ap_id, True, "fair-fund batch checked")
            path, _manifest = fairfunds.export_batch(s, actor, case_id, batch.number, files)
        with path.open(encoding="utf-8") as f:
            rows = [[r["instruction_id"], "paid", r["amount"], (day + dt.timedelta(days=5)).isoformat(), ""]
                    for r in csv.DictReader(f)]
        results = exports.write_csv(files / f"{path.stem}-results.csv",
                                    ["instruction_id", "status", "amount", "settled_on", "reason"], rows)
        with unit_of_work(engine) as s:
            fairfunds.import_results(s, actor, case_id, results)
    with unit_of_work(engine) as s:
        return fairfunds.statement(s, case_id)
