"""Rendering an explanation for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from redress.engine.explain import Explanation, SecurityExplanation


WINDOWS = {"before the first trade": "opening", "before I": "< I", "[I, D) buy window": "[I, D)",
           "[D, B]": "[D, B]", "after B": "> B"}


def _num(x: float, decimals: int = 4) -> str:
    if abs(x - round(x)) < 1e-9:
        return f"{x:,.0f}"
    return f"{x:,.{decimals}f}".rstrip("0")


def render_explanation(console: Console, expl: Explanation) -> None:
    console.print(f"[bold]Investor 投资者 {expl.investor_id}[/] · case {expl.case_id} · {expl.rules} · "
                  f"{expl.direction} · cost method {expl.plan['cost_method']}", highlight=False)
    if expl.exclusion:
        console.print(f"[yellow]Excluded 排除: {expl.exclusion}[/]", highlight=False)
    if expl.statements_rule is None:
        for sec in expl.securities:
            _render_security(console, expl, sec)
        return
    best = expl.statements_rule == "best_for_investor"
    rule = ("the statement that pays the most, per security / 按证券取最有利者" if best
            else "every statement's rows are owed / 各项分别赔偿")
    console.print(f"{len(expl.statements)} false statements 多项虚假陈述 · statements_rule "
                  f"{expl.statements_rule}: {rule}", highlight=False)
    for section in expl.statements:
        fixed = f", B fixed = {section.base_date}" if section.base_date else ""
        console.rule(f"[bold]Statement 虚假陈述 {section.id}[/]: I = {section.implementation_date}, "
                     f"D = {section.disclosure_date}{fixed}")
        for sec in section.securities:
            _render_security(console, expl, sec)
    if best:
        console.rule("[bold]Chosen statement 选定的虚假陈述 (best_for_investor)[/]")
        for choice in expl.choices:
            console.print(f"{choice.security}: {choice.words}", highlight=False)
    total = sum(sec.result["compensation"] for sec in expl.securities)
    owed = "; ".join(f"{sec.security} {sec.statement} {sec.result['compensation']:,.2f}"
                     for sec in expl.securities)
    console.print(f"[bold]Owed 应赔合计: {total:,.2f} yuan[/] ({owed})", highlight=False)


def _render_security(console: Console, expl: Explanation, sec: SecurityExplanation) -> None:
    r = sec.result
    console.rule((f"{sec.statement} · " if sec.statement else "") + f"{sec.security} · {r['status']}"
                 + (f" · {r['flags']}" if r["flags"] else ""))
    for a in sec.actions:
        console.print(f"Ex-rights 除权: ex-date {a['ex_date']}, share ratio {a['share_ratio']:g}: quantities "
                      f"before it x{a['share_ratio']:g}, prices /{a['share_ratio']:g} ({a['article']})",
                      highlight=False)
    t = Table(title="Trades and lots / 交易与批次 (first in, first out)", title_justify="left")
    accounts = any(tr.account_id for tr in sec.trades)
    averaged = expl.direction != "deflation"  # induced selling keeps no eligible holding or moving average
    for col in ("#", "date time seq", "account", "side", "qty", "price", "window", "lot", "FIFO consumed",
                "H", "C"):
        if (col != "account" or accounts) and (col not in ("H", "C") or averaged):
            t.add_column(col, justify="right" if col in ("qty", "price", "H", "C", "#") else "left")
    for tr in sec.trades:
        restated = abs(tr.quantity - tr.quantity_given) > 1e-9
        qty = _num(tr.quantity) + (f" ({_num(tr.quantity_given)})" if restated else "")
        given = f" ({_num(tr.price_given)})" if restated else ""
        price = "" if tr.side == "open" else _num(tr.price) + given
        lot = f"#{tr.lot} {tr.lot_class}" if tr.lot else ""
        consumed = "; ".join(f"#{c.lot} {c.lot_class} {_num(c.quantity)}" for c in tr.consumed)
        when = tr.date if tr.side == "open" else f"{tr.date} {tr.time or '--:--:--'} #{tr.seq}"
        cells = [str(tr.number), when] + ([tr.account_id] if accounts else []) + [
            tr.side, qty, price, WINDOWS.get(tr.window, tr.window), lot, consumed] + (
            [_num(tr.holding_eligible), _num(tr.cost_eligible)] if averaged else [])
        t.add_row(*cells)
    console.print(t)
    console.print(("H, C: eligible holding and its moving average cost after each trade. " if averaged
                   else "") + "Figures in brackets are as given, before ex-rights restatement.",
                  style="dim", highlight=False)
    s = Table(title="Computation / 计算过程", title_justify="left")
    s.add_column("step 步骤")
    s.add_column("formula 公式")
    s.add_column("value 数值", justify="right")
    s.add_column("article 依据")
    for step in sec.steps:
        s.add_row(step.label, step.formula, step.value, step.article)
    console.print(s)
    console.print(f"[bold]Compensation 赔偿金额: {r['compensation']:,.2f} yuan[/] (status {r['status']})",
                  highlight=False)


def render_comparison(console: Console, table, case_name: str) -> None:
    t = Table(title=f"Plan comparison / 方案对比 · {case_name}", title_justify="left")
    for col, label in [("plan", "plan 方案"), ("eligible_investors", "eligible 获赔人数"),
                       ("total_compensation", "total 总额"), ("mean", "mean 均值"), ("p50", "median 中位数"),
                       ("p90", "p90"), ("p99", "p99"), ("max", "max 最大"), ("gainers", "gain 增加"),
                       ("losers", "lose 减少")]:
        t.add_column(label, justify="left" if col == "plan" else "right")
    for r in table.iter_rows(named=True):
        t.add_row(r["plan"], f"{r['eligible_investors']:,}", f"{r['total_compensation']:,.2f}",
                  f"{r['mean']:,.2f}", f"{r['p50']:,.2f}", f"{r['p90']:,.2f}", f"{r['p99']:,.2f}",
                  f"{r['max']:,.2f}", f"{r['gainers']:,}", f"{r['losers']:,}")
    console.print(t)
