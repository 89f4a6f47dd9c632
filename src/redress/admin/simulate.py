"""A whole advance-compensation operation on a computed case, as the demo runs it.

Payers pay into the trust account, the plan is approved by a second person, offers go out, investors answer
through several channels (most accept, some decline, some never answer), payments go out in batches with a
few returned by the banks and retried, a late window gives lapsed investors a second chance, interest is
passed on, the surplus returns to the payers and the case is closed.  Before the plan is approved a hearing
examines it; after the payout the payers pursue the liable parties and a fair fund pays the investors who were
not compensated in advance (``redress.admin.after``).  Everything goes through the same services as the
command line, so the books, the audit log and every constraint are exercised for real.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from redress import exports
from redress.admin import after, approvals, cases, claims, fairfunds, fund, payments
from redress.money import yuan
from redress.store import audit
from redress.store.db import fresh_sqlite, make_engine, migrate, unit_of_work
from redress.store.models import Claim

OPERATOR, APPROVER = "li.wei", "zhang.min"
# A sponsor, two audit firms and a law firm, as in the Zijing Storage fund (2023); shares of the fund.
PAYERS = (("sponsor", "保荐机构 Sponsor Securities Co.", "sponsor", 0.70),
          ("audit_a", "会计师事务所甲 Audit Firm A", "auditor", 0.12),
          ("audit_b", "会计师事务所乙 Audit Firm B", "auditor", 0.10),
          ("law", "律师事务所 Law Firm", "law_firm", 0.08))
RETURN_REASONS = ("account closed / 账户已注销", "account frozen / 账户冻结", "name mismatch / 户名不符")


@dataclass(frozen=True)
class Mix:
    """How investors answer: shares of accept, decline; the rest never answer by the deadline."""

    accept: float = 0.95
    decline: float = 0.02
    late_accept: float = 0.40    # of the lapsed, how many accept in the late window
    returned: float = 0.01       # of first payments, how many the banks return


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """A file as a channel or the clearing system would send it, written like every CSV file (``exports``)."""
    return exports.write_csv(path, header, rows)


def run_lifecycle(out_dir: Path, case_dir: Path, results: Path, case_id: str, case_name: str, *,
                  open_on: dt.date, seed: int = 7, mix: Mix = Mix(), url: str | None = None,
                  say=print) -> dict:
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    if url is None:
        url = fresh_sqlite(out_dir / "redress.sqlite3")
    engine: Engine = make_engine(url)
    migrate(engine)
    files = out_dir / "files"
    files.mkdir(exist_ok=True)
    deadline = open_on + dt.timedelta(days=45)

    def tx():
        return unit_of_work(engine)

    with tx() as s:
        cases.bootstrap(s, "admin", "Administrator 管理员")
        if url.startswith("sqlite:///"):          # the audit log sealed with a key beside the database file
            audit.ensure_key(s, "admin")
        cases.add_user(s, "admin", OPERATOR, "李伟 Li Wei (operator)", ["operator"])
        cases.add_user(s, "admin", APPROVER, "张敏 Zhang Min (approver)", ["approver"])
        cases.create_case(s, OPERATOR, case_id, case_name, custodian="托管银行 Custodian Bank")
    offered = claims._claims_frame(claims.read_results(results))["offered_fen"].sum()
    fund_fen = int(offered * 1.08)
    say(f"Special fund 专项基金: {yuan(fund_fen, grouping=True)} yuan from {len(PAYERS)} payers for "
        f"{yuan(int(offered), grouping=True)} yuan offered")
    with tx() as s:
        paid_in = 0
        for i, (pid, name, role, share) in enumerate(PAYERS):
            fen = fund_fen - paid_in if i == len(PAYERS) - 1 else round(fund_fen * share)
            paid_in += fen
            cases.add_payer(s, OPERATOR, case_id, pid, name, role, fen)
            fund.contribute(s, OPERATOR, case_id, pid, fen, open_on - dt.timedelta(days=10 - i), f"CB{i + 1:04d}")
        fund.establish(s, OPERATOR, case_id)
    # a hearing on the plan before it is approved: 12 investors apply for the three representative seats
    with results.open(encoding="utf-8") as f:
        ids = sorted({r["investor_id"] for r in csv.DictReader(f) if r["status"] == "eligible"})
    applicants = ids[:: max(len(ids) // 12, 1)][:12]
    heard = after.hold_hearing(engine, case_id, case_dir, applicants, [f"{name.split()[0]} 代表" for
                                                                      _p, name, _r, _s in PAYERS],
                               actor=OPERATOR, started_on=open_on - dt.timedelta(days=80), say=say)
    say(f"Hearing 听证: panel of {len(heard['members'])} seated by verifiable lot, plans "
        f"{', '.join(p['label'] for p in heard['plans'])} compared with the case's plan, decided on "
        f"{heard['decided_on']} (deadline {heard['deadline']})")
    with tx() as s:
        ap = claims.propose_plan(s, OPERATOR, case_id, case_dir, results, open_on, deadline)
        plan_request = ap.id
    with tx() as s:
        approvals.decide(s, APPROVER, plan_request, True, "plan checked against the results")
        sha = claims.publish_agreement(s, OPERATOR, case_id, "v1", AGREEMENT).sha256
        n_claims = claims.open_claims(s, OPERATOR, case_id, results)
        claims.write_notices(s, OPERATOR, case_id, "offer", files / "notices-offer.csv", open_on)
    say(f"Claims open 开始申报: {n_claims:,} offers, deadline 截止 {deadline}")

    with tx() as s:
        investors = list(s.execute(select(Claim.investor_id).where(Claim.case_id == case_id)
                                   .order_by(Claim.investor_id)).scalars())
    answers: dict[str, list[list[object]]] = {"broker": [], "online": []}
    lapsed_pool = []
    for inv in investors:
        u = rng.random()
        channel = "online" if rng.random() < 0.6 else "broker"
        on = open_on + dt.timedelta(days=int(rng.triangular(0, 44, 5)))
        if u < mix.accept:
            answers[channel].append([inv, "accept", on, channel, f"{channel}-{inv}", "v1", sha])
        elif u < mix.accept + mix.decline:
            answers[channel].append([inv, "decline", on, channel, f"{channel}-{inv}", "", ""])
        else:
            lapsed_pool.append(inv)
    header = ["investor_id", "decision", "decided_on", "channel", "key", "agreement_version", "agreement_sha256"]
    early = {ch: [r for r in rows if r[2] < open_on + dt.timedelta(days=14)] for ch, rows in answers.items()}
    later = {ch: [r for r in rows if r[2] >= open_on + dt.timedelta(days=14)] for ch, rows in answers.items()}
    for ch, rows in early.items():
        with tx() as s:
            claims.import_decisions(s, OPERATOR, case_id, _write_csv(files / f"decisions-{ch}-1.csv", header, rows))
    with tx() as s:
        fund.interest(s, OPERATOR, case_id, max(int(fund_fen * 0.0035 / 12), 1), open_on + dt.timedelta(days=20),
                      "INT-01")
    first = _pay(tx, case_id, open_on + dt.timedelta(days=15), files, rng, mix.returned, say)
    for ch, rows in later.items():
        with tx() as s:
            claims.import_decisions(s, OPERATOR, case_id, _write_csv(files / f"decisions-{ch}-2.csv", header, rows))
    _pay(tx, case_id, deadline - dt.timedelta(days=1), files, rng, mix.returned, say)
    with tx() as s:
        fund.interest(s, OPERATOR, case_id, max(int(fund_fen * 0.0035 / 12), 1), deadline, "INT-02")
        bank = fund.balances(s, case_id, through=deadline)[fund.TRUST_CASH]
    _write_csv(files / "bank-statement.csv", ["date", "balance", "reference"], [[deadline, yuan(bank), "月末对账单"]])
    with tx() as s:
        fund.import_bank_statement(s, OPERATOR, case_id, files / "bank-statement.csv")
        closed = claims.close_claims(s, OPERATOR, case_id, deadline + dt.timedelta(days=1))
    say(f"Claims closed 申报截止: {closed['lapsed']:,} lapsed")
    late_until = deadline + dt.timedelta(days=30)
    with tx() as s:
        claims.reopen_late_window(s, OPERATOR, case_id, late_until, "second notice to investors who did not answer")
        claims.write_notices(s, OPERATOR, case_id, "late_window", files / "notices-late.csv", deadline + dt.timedelta(days=2))
    late = [[inv, "accept", deadline + dt.timedelta(days=rng.randint(3, 29)), "counter", f"late-{inv}", "v1", sha]
            for inv in lapsed_pool if rng.random() < mix.late_accept]
    with tx() as s:
        claims.import_decisions(s, OPERATOR, case_id, _write_csv(files / "decisions-late.csv", header, late))
        claims.close_late_window(s, OPERATOR, case_id, late_until + dt.timedelta(days=1))
        claims.distribute_interest(s, OPERATOR, case_id, late_until + dt.timedelta(days=2))
    say(f"Late window 补充申报: {len(late):,} of {len(lapsed_pool):,} lapsed investors accepted")
    while True:
        with tx() as s:
            owed = fund.statement(s, case_id).payable_fen
        if not owed:
            break
        _pay(tx, case_id, late_until + dt.timedelta(days=5), files, rng, 0.0, say)
    with tx() as s:
        payments.complete_payments(s, OPERATOR, case_id)
        ret = payments.propose_surplus_return(s, OPERATOR, case_id, late_until + dt.timedelta(days=10)).id
    with tx() as s:
        approvals.decide(s, APPROVER, ret, True, "liquidation audit done")
    pursued = after.pursue_recovery(engine, case_id, actor=OPERATOR, on=late_until + dt.timedelta(days=12))
    say(f"Recourse 追偿: {yuan(sum(pursued['received'].values()), grouping=True)} yuan recovered from the liable "
        f"parties and passed on to the payers")
    with tx() as s:
        payments.close_case(s, OPERATOR, case_id, "fund liquidated, surplus returned, books closed")
        uncompensated = sum(e.loss_fen - e.advance_paid_fen for e in fairfunds.eligible(s, case_id))
    closed_on = late_until + dt.timedelta(days=11)
    fair = after.run_fair_fund(engine, case_id, files, actor=OPERATOR, approver=APPROVER,
                               on=closed_on + dt.timedelta(days=240), fine_fen=uncompensated * 6 // 10,
                               confiscation_fen=uncompensated * 6 // 10)
    say(f"Fair fund 公平基金: {yuan(fair.sources_fen, grouping=True)} yuan in, {yuan(fair.transferred_fen, grouping=True)}"
        f" yuan paid to {len([v for v in fair.paid_by_investor.values() if v]):,} investors in "
        f"{len(fair.rounds)} rounds")
    with tx() as s:
        statement = fund.statement(s, case_id)
        part = claims.participation(s, case_id)
        verified = audit.verify(s)
        trial = fund.trial(s, case_id)
    engine.dispose()
    return {"url": url, "statement": statement, "participation": part, "audit": verified, "trial": trial,
            "first_batch": first, "files": files, "closed_on": closed_on, "hearing": heard,
            "recovery": pursued, "fair_fund": fair}


def _pay(tx, case_id: str, on: dt.date, files: Path, rng: random.Random, returned: float, say) -> int:
    with tx() as s:
        request = payments.propose_batch(s, OPERATOR, case_id, on).id
    with tx() as s:
        batch = approvals.decide(s, APPROVER, request, True, "batch checked")
        path, _manifest = payments.export_batch(s, OPERATOR, case_id, batch.number, files)
    rows = []
    with path.open(encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            back = rng.random() < returned
            rows.append([rec["instruction_id"], "returned" if back else "paid", rec["amount"],
                         on + dt.timedelta(days=2), rng.choice(RETURN_REASONS) if back else ""])
    result = _write_csv(files / f"{path.stem}-results.csv", ["instruction_id", "status", "amount", "settled_on",
                                                             "reason"], rows)
    with tx() as s:
        rep = payments.import_results(s, OPERATOR, case_id, result)
    say(f"Batch 批次 {batch.number}: {rep.paid:,} paid ({yuan(rep.paid_fen, grouping=True)} yuan), "
        f"{rep.returned:,} returned by the banks")
    return batch.number


AGREEMENT = """先行赔付和解协议 / Advance compensation settlement agreement (v1)

1. 投资者接受专项补偿基金按赔付方案计算的赔付金额。The investor accepts the compensation computed under the plan.
2. 投资者同意将其就本案对其他责任主体享有的相应请求权转让给出资人。The investor assigns the corresponding claims
   against the other liable parties to the payers.
3. 不接受的投资者保留依法诉讼的权利。Investors who decline keep the right to sue.
"""
