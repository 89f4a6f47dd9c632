"""``redress serve --demo``: a sample case on the web, part-way through its claims period, with demo users."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from redress.admin import access, approvals, cases, claims, fund
from redress.admin.simulate import AGREEMENT, PAYERS
from redress.store.db import make_engine, migrate, unit_of_work
from redress.store.models import Claim


@dataclass(frozen=True)
class DemoUser:
    name: str
    password: str
    roles: str
    investor_id: str | None = None


def _first_account(case_dir: Path, investor_id: str) -> str:
    """A securities account ``investor_id`` traded through: what the investor types beside the code."""
    import polars as pl

    trades = pl.read_csv(case_dir / "trades.csv", infer_schema=False, columns=["investor_id", "account_id"])
    return trades.filter(pl.col("investor_id") == investor_id)["account_id"][0]


def seed(data_dir: Path, database_url: str, *, n_trades: int = 40_000, n_investors: int = 2_000,
         say=print) -> list[DemoUser]:
    """Build, compute and open a sample case; create demo users (returned with their passwords)."""
    from redress.engine.pipeline import prepare
    from redress.engine.statements import compute_case_results
    from redress.synth import generate_case

    case_dir = data_dir / "cases" / "demo"
    if case_dir.exists():
        shutil.rmtree(case_dir)
    say(f"Building the sample case / 生成示例案件 ({n_investors:,} investors, {n_trades:,} trades) ...")
    generate_case(case_dir, n_trades=n_trades, n_investors=n_investors, seed=2023, trades_format="csv",
                         name="示例存储 Example Storage (STAR Market) advance compensation")
    result = compute_case_results(prepare(case_dir))
    result.write(case_dir / "results.csv")
    from redress.law.plan import load_case

    case = load_case(case_dir)
    case_id = case.id
    engine = make_engine(database_url)
    migrate(engine)
    users = [DemoUser("admin", secrets.token_urlsafe(12), "operator (administrator / maker)"),
             DemoUser("checker", secrets.token_urlsafe(12), "approver (checker)"),
             DemoUser("auditor", secrets.token_urlsafe(12), "auditor (read-only)")]
    today = dt.date.today()
    with unit_of_work(engine) as s:
        cases.bootstrap(s, "root", "Bootstrap 初始用户")
        cases.add_user(s, "root", "admin", "管理员 Administrator", ["operator"], users[0].password)
        cases.add_user(s, "root", "checker", "复核员 Checker", ["approver"], users[1].password)
        cases.add_user(s, "root", "auditor", "审计 Auditor", ["auditor"], users[2].password)
        c = cases.create_case(s, "admin", case_id, case.name, custodian="托管银行 Custodian Bank")
        c.case_dir = str(case_dir)
        offered = int(result.compensation_fen.sum())
        fund_fen = int(offered * 1.08)
        paid_in = 0
        for i, (pid, name, role, share) in enumerate(PAYERS):
            fen = fund_fen - paid_in if i == len(PAYERS) - 1 else round(fund_fen * share)
            paid_in += fen
            cases.add_payer(s, "admin", case_id, pid, name, role, fen)
            fund.contribute(s, "admin", case_id, pid, fen, today - dt.timedelta(days=20), f"DEMO-{i + 1}")
        fund.establish(s, "admin", case_id)
        request = claims.propose_plan(s, "admin", case_id, case_dir, case_dir / "results.csv",
                                      today - dt.timedelta(days=7), today + dt.timedelta(days=38), recompute=False).id
    with unit_of_work(engine) as s:
        approvals.decide(s, "checker", request, True, "demo plan checked")
        sha = claims.publish_agreement(s, "admin", case_id, "v1", AGREEMENT).sha256
        claims.open_claims(s, "admin", case_id, case_dir / "results.csv")
        investors = list(s.execute(select(Claim.investor_id).where(Claim.case_id == case_id)
                                   .order_by(Claim.offered_fen.desc())).scalars())
    # about half have already answered, over the past week
    answers = []
    for k, inv in enumerate(investors[3:]):
        if k % 2:
            continue
        on = today - dt.timedelta(days=6 - k % 7)
        answers.append(claims.DecisionInput(inv, "decline" if k % 40 == 0 else "accept", on, "online", f"demo-{inv}",
                                            "v1" if k % 40 else None, sha if k % 40 else None))
    with unit_of_work(engine) as s:
        claims._apply_decisions(s, "admin", cases.get_case(s, case_id, lock=True), answers, per_item_audit=False)
    with unit_of_work(engine) as s:
        for k, inv in enumerate(investors[:3]):
            user = DemoUser(f"investor{k + 1}", secrets.token_urlsafe(12), "investor", inv)
            cases.add_user(s, "admin", user.name, f"投资者 Investor {k + 1}", ["investor"], user.password,
                           investor_id=inv)
            users.append(user)
        # one investor not yet signed up, as a claim notice finds them: the activation code is the "password"
        newcomer = next(inv for inv in investors[3:] if inv not in {a.investor_id for a in answers})
        code = access.issue_codes(s, "admin", case_id, [newcomer], access.expiry_for(today + dt.timedelta(days=38)))
        account = _first_account(case_dir, newcomer)
        users.append(DemoUser(newcomer, access.grouped(code[newcomer]),
                              f"investor, not yet signed up: open /activate, type this activation code and the "
                              f"securities account {account} / 未开通：打开 /activate，输入激活码和证券账户 {account}",
                              newcomer))
    engine.dispose()
    return users
