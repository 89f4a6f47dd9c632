"""``make demo``: a realistic sample case, computed end to end.

Builds a STAR-market-like case (about 20,000 investors and 400,000 trades, a broad and an industry
index, one bonus-share action), computes it, prints the summary, compares alternative plans, explains
one investor, and writes the results and an HTML report with charts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl
from rich.console import Console

from redress.cli.main import print_summary
from redress.cli.render import render_comparison, render_explanation
from redress.engine.compare import compare
from redress.engine.explain import explain
from redress.engine.pipeline import prepare
from redress.engine.statements import compute_case_results
from redress.engine.summary import summarize
from redress.exports import write_frame_csv
from redress.law.plan import SystemicMethod, load_plan_override
from redress.synth import generate_case

PLANS = {
    "weighted_average": '[plan]\ncost_method = "weighted_average"\n',
    "fifo": '[plan]\ncost_method = "fifo"\n',
    "no_systemic_deduction": '[plan.systemic_risk]\nmethod = "none"\n',
    "uniform_30pct": '[plan.systemic_risk]\nmethod = "uniform_ratio"\nratio = 0.3\n',
}


def run(out_dir: Path, n_trades: int = 400_000, n_investors: int = 20_000, seed: int = 2023) -> dict:
    console = Console() if Console().is_terminal else Console(width=160)
    out_dir.mkdir(parents=True, exist_ok=True)
    case_dir = out_dir / "case"
    console.rule("Redress demo / 演示")
    console.print(f"Building a sample case / 生成示例案件: {n_investors:,} investors, {n_trades:,} trades -> {case_dir}")
    info = generate_case(case_dir, n_trades=n_trades, n_investors=n_investors, seed=seed, trades_format="csv",
                         name="示例存储 Example Storage (STAR Market) advance compensation")
    started = time.perf_counter()
    prep = prepare(case_dir)
    result = compute_case_results(prep)
    result.write(out_dir / "results.csv")
    seconds = time.perf_counter() - started
    summary = summarize(result.table, result.compensation_fen)
    print_summary(prep, summary, out_dir / "results.csv")
    console.print(f"Computed in {seconds:.2f} s / 计算耗时", highlight=False)

    plan_dir = out_dir / "plans"
    plan_dir.mkdir(exist_ok=True)
    named = [("case.toml", prep.case.plan)]
    for name, text in PLANS.items():
        path = plan_dir / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        named.append((name, load_plan_override(path, prep.case)))
    assert all(p.systemic_risk.method != SystemicMethod.RELATIVE_RATIO or p.systemic_risk.indices for _, p in named)
    comparison = compare(prep, named)
    write_frame_csv(comparison.table, out_dir / "comparison.csv")
    render_comparison(console, comparison.table, prep.case.name)

    eligible = result.table.with_row_index("i").filter(pl.col("status") == "eligible").sort("compensation")
    if eligible.height:
        median_investor = eligible.row(eligible.height // 2, named=True)["investor_id"]
        console.rule(f"Explanation for one investor / 单个投资者说明: {median_investor}")
        render_explanation(console, explain(prep, median_investor))

    from redress.report.html import write_report

    report = write_report(out_dir / "report.html", case_name=prep.case.name, results=result.table,
                          base_dates=[b.as_json() for b in prep.base.values()],
                          comparison=comparison.table,
                          plan_results={name: r.table for name, r in comparison.results.items()})
    lifecycle = administer(console, out_dir, case_dir, prep.case)
    protection = protection_fund(console, out_dir, lifecycle["url"])
    way_in = activation_demo(console, lifecycle["url"], case_dir, prep.case.id)
    console.rule()
    console.print(f"Results 结果: {out_dir / 'results.csv'}\nPlan comparison 方案对比: {out_dir / 'comparison.csv'}\n"
                  f"Report 报告: {report}\nCase database 案件数据库: {lifecycle['url']}\n"
                  f"Payment, decision and notice files 文件: {lifecycle['files']}\n"
                  f"Protection fund report 保护基金报告: {protection['xlsx']}, {protection['pdf']}", highlight=False)
    console.print(way_in["how"], highlight=False, markup=False)
    return {"info": info, "summary": summary, "seconds": seconds, "lifecycle": lifecycle,
            "protection": protection, "way_in": way_in}


def activation_demo(console: Console, url: str, case_dir: Path, case_id: str) -> dict:
    """One investor's way into the portal of the demo database: their securities accounts kept as the second
    factor, and a fresh activation code, as a claim notice would carry it."""
    import datetime as dt

    from sqlalchemy import select

    from redress.admin import access
    from redress.admin.simulate import OPERATOR
    from redress.store.db import make_engine, unit_of_work
    from redress.store.models import Case, InvestorAccount

    engine = make_engine(url)
    with unit_of_work(engine) as s:
        s.get(Case, case_id).case_dir = str(case_dir.resolve())
        access.record_accounts(s, case_id, case_dir)
        with_user = access.investors_with_users(s)
        investor = next(i for i in s.execute(select(InvestorAccount.investor_id).where(
            InvestorAccount.case_id == case_id).order_by(InvestorAccount.investor_id)).scalars()
            if i not in with_user)
        expires = access.expiry_for(dt.date.today())
        code = access.issue_codes(s, OPERATOR, case_id, [investor], expires)[investor]
    engine.dispose()
    trades = pl.read_csv(case_dir / "trades.csv", infer_schema=False)
    account = trades.filter(pl.col("investor_id") == investor)["account_id"][0]
    console.rule("An investor's way in / 投资者开通账户")
    how = (f"Investor 投资者: {investor} (user name 用户名)\nActivation code 激活码: {access.grouped(code)}\n"
           f"Securities account 证券账户: {account}\n"
           f"Serve this database 启动网站: redress serve --db {url} --insecure-cookies\n"
           f"then open 然后打开 http://127.0.0.1:8000/activate, type the code and the account, choose a "
           f"password; the code works once, for 30 days")
    return {"investor": investor, "code": access.grouped(code), "account": account, "how": how}


def protection_fund(console: Console, out_dir: Path, url: str) -> dict:
    """A year of the investor protection fund in the same database: levies, a failed firm, investments,
    board decisions and the quarterly report to the regulators."""
    from rich.table import Table

    from redress.admin.ipf.demo import run_protection_fund
    from redress.money import yuan
    from redress.admin.simulate import APPROVER, OPERATOR
    from redress.store.db import make_engine

    console.rule("The investor protection fund / 证券投资者保护基金")
    engine = make_engine(url)
    res = run_protection_fund(engine, out_dir, operator=OPERATOR, approver=APPROVER,
                              say=lambda m: console.print(m, highlight=False))
    engine.dispose()
    st = res["statement"]
    t = Table(title="Protection fund statement / 保护基金状况", title_justify="left")
    t.add_column("item 项目")
    t.add_column("yuan 元", justify="right")
    t.add_row("capital 注册资本", yuan(st.capital_fen, grouping=True))
    for k, fen in st.income_fen.items():
        if fen:
            t.add_row(f"income 收入 · {k}", yuan(fen, grouping=True))
    for k, fen in st.expense_fen.items():
        if fen:
            t.add_row(f"expense 支出 · {k}", yuan(fen, grouping=True))
    for label, fen in (("bank deposits 银行存款", st.bank_fen), ("investments 投资", st.investments_fen),
                       ("claims in liquidation 清算债权", st.subrogated_fen)):
        t.add_row(label, yuan(fen, grouping=True))
    t.add_row("[bold]net assets 净资产[/]", f"[bold]{yuan(st.net_assets_fen, grouping=True)}[/]")
    console.print(t)
    console.print(f"Trial balance 试算平衡: {'balanced / 借贷平衡' if res['trial'].balanced else 'NOT balanced'}",
                  highlight=False)
    return res


def administer(console: Console, out_dir: Path, case_dir: Path, case) -> dict:
    """Run the computed case through the whole advance-compensation operation and print the books."""
    import datetime as dt

    from redress.admin.simulate import run_lifecycle
    from redress.cli.admin_render import render_participation, render_statement, render_trial

    console.rule("The special fund, claims and payments / 专项基金、申报与划付")
    started = time.perf_counter()
    res = run_lifecycle(out_dir, case_dir, out_dir / "results.csv", case.id, case.name,
                        open_on=case.disclosure_date + dt.timedelta(days=400),
                        say=lambda m: console.print(m, highlight=False))
    render_statement(console, res["statement"], case.id)
    render_trial(console, res["trial"])
    render_participation(console, res["participation"])
    v = res["audit"]
    console.print(f"Audit log 审计日志: {v.events:,} events, hash chain intact / 哈希链完整" if v.ok
                  else f"[red]Audit log broken: {v.problems}[/]", highlight=False)
    console.print(f"Case administered in {time.perf_counter() - started:.1f} s / 案件办理耗时", highlight=False)
    after_payout(console, res, case.id)
    return res


def after_payout(console: Console, res: dict, case_id: str) -> None:
    """The hearing on the plan, the payers' recourse and the fair fund, as the case database records them."""
    from rich.table import Table

    from redress.money import yuan

    console.rule("Hearing, recourse and fair fund / 听证、追偿与公平基金")
    h = res["hearing"]
    console.print(f"Hearing 听证 (presided by {h['organiser']}): seed commitment {h['seed_commitment'][:16]}…, "
                  f"panel {', '.join(m['person'] for m in h['members'])}; every draw verifies: "
                  f"{all(d['verified'] for d in h['draws'])} (anyone can recompute: redress hearing verify)",
                  highlight=False)
    t = Table(title="Plans compared at the hearing / 听证方案对比", title_justify="left")
    for c in ("plan 方案", "eligible 获赔人数", "total 总额", "gain 增加", "lose 减少"):
        t.add_column(c, justify="left" if c.startswith("plan") else "right")
    for row in h["comparison"]["table"]:
        t.add_row(row["plan"], f"{row['eligible_investors']:,}", f"{row['total_compensation']:,.2f}",
                  f"{row['gainers']:,}", f"{row['losers']:,}")
    console.print(t)
    console.print(f"Decision 决定 ({h['decided_on']}): {h['decision']}", highlight=False)
    t = Table(title="Recourse against the liable parties / 向责任方追偿", title_justify="left")
    for c in ("party 责任方", "share 份额", "claim 可追偿", "expected 预计", "recovered 已追回", "outstanding 未追回",
              "latest step 最新进展"):
        t.add_column(c, justify="left" if c.startswith(("party", "latest")) else "right")
    for r in res["recovery"]["report"]:
        t.add_row(r.name, f"{r.fault_share_bp / 100:g}%", yuan(r.claim_fen, grouping=True),
                  yuan(r.expected_fen, grouping=True), yuan(r.recovered_fen, grouping=True),
                  yuan(r.outstanding_fen, grouping=True),
                  f"{r.latest_stage} {r.latest_on}" if r.latest_stage else "—")
    console.print(t)
    console.print("Passed on to the payers 已转付出资人: " + ", ".join(
        f"{p} {yuan(fen, grouping=True)}" for p, fen in res["recovery"]["received"].items()), highlight=False)
    ff = res["fair_fund"]
    f = Table(title="Fair fund rounds / 公平基金分配", title_justify="left")
    for c in ("round 轮次", "on 日期", "available 可分配", "allocated 已分配", "residual 余额"):
        f.add_column(c, justify="right")
    for r in ff.rounds:
        f.add_row(str(r.number), r.run_on.isoformat(), yuan(r.available_fen, grouping=True),
                  yuan(r.paid_fen, grouping=True), f"{yuan(r.residual_fen, grouping=True)} ({r.residual_destination})")
    console.print(f)
    console.print(f"Fair fund 公平基金: {yuan(ff.sources_fen, grouping=True)} in, {yuan(ff.transferred_fen, grouping=True)}"
                  f" transferred to {sum(1 for v in ff.paid_by_investor.values() if v):,} investors through released "
                  f"batches, {yuan(ff.residual_sent_fen, grouping=True)} to {ff.plan.residual_to}, "
                  f"{yuan(ff.cash_fen, grouping=True)} held", highlight=False)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the Redress sample case end to end")
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--trades", type=int, default=400_000)
    parser.add_argument("--investors", type=int, default=20_000)
    args = parser.parse_args()
    run(args.out, args.trades, args.investors)


if __name__ == "__main__":
    main()
