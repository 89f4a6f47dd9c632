"""The fund's investments and its reports to the regulators / 基金资金运用与监管报告。"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from redress.money import yuan
from redress.cli.admin import Actor, Db, _fen, err, out, session, protection_date as _date

invest_app = typer.Typer(name="invest", help="Investments, checked against Art. 20 / 资金运用", no_args_is_help=True)
report_app = typer.Typer(name="report", help="Monthly and quarterly reports, Excel and PDF / 月报、季报",
                         no_args_is_help=True)
On = Annotated[str | None, typer.Option("--on", help="Date, YYYY-MM-DD (default today) / 日期")]
Xlsx = Annotated[Path | None, typer.Option("--xlsx", dir_okay=False, help="Write the Excel workbook here / Excel 文件")]
Pdf = Annotated[Path | None, typer.Option("--pdf", dir_okay=False, help="Write the PDF here / PDF 文件")]


@invest_app.command("propose")
def invest_propose(
        holding_id: Annotated[str, typer.Option("--id", help="The deal's reference: the idempotency key / 投资编号")],
        kind: Annotated[str, typer.Option("--kind", help="bank_deposit | government_bond | central_bank_bond | "
                                                         "central_financial_bond | other / 运用形式")],
        issuer: Annotated[str, typer.Option("--issuer", help="Issuer (the bank for a deposit) / 发行人")],
        counterparty: Annotated[str, typer.Option("--counterparty", help="Counterparty / 交易对手")],
        amount: Annotated[str, typer.Option("--amount", help="Yuan / 金额（元）")],
        trade_date: Annotated[str | None, typer.Option("--trade-date", help="YYYY-MM-DD (default today) / 交易日")]
        = None,
        maturity: Annotated[str | None, typer.Option("--maturity", help="Maturity date, YYYY-MM-DD / 到期日")] = None,
        approval: Annotated[str | None, typer.Option("--approval", help="State Council approval reference (kind "
                                                                        "other) / 国务院批准文件")] = None,
        plan: Annotated[str | None, typer.Option("--plan", help="Board resolution on the investment plan, "
                                                                "required when given / 董事会资金运用方案决议")] = None,
        db: Db = None, actor: Actor = "admin") -> None:
    """Invest the fund's money if Art. 20 allows it; a refusal is recorded / 资金运用（第二十条），拒绝亦记录。"""
    from redress.admin.ipf import investments

    refused = None
    with session(db) as s:
        try:
            investments.propose(s, actor, holding_id, kind, issuer, counterparty, _fen(amount, "--amount"),
                                _date(trade_date, "--trade-date"),
                                _date(maturity, "--maturity") if maturity else None, approval, plan)
        except investments.InvestmentRefused as exc:
            refused = exc           # let the unit of work commit the audit event of the refusal
    if refused is not None:
        err.print(f"[bold red]Refused / 操作未执行:[/] {escape(str(refused))}", highlight=False)
        err.print(refused.hint or "", highlight=False, markup=False)
        raise typer.Exit(2)
    out.print(f"Investment {holding_id}: {amount} yuan in {kind} ({issuer}) booked / 已入账", highlight=False)


@invest_app.command("income")
def invest_income(holding_id: Annotated[str, typer.Argument(help="Holding id / 投资编号")],
                  amount: Annotated[str, typer.Option("--amount", help="Yuan / 金额（元）")],
                  reference: Annotated[str, typer.Option("--ref", help="Bank reference: the idempotency key")],
                  on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record interest or a coupon received / 登记资金运用收益。"""
    from redress.admin.ipf import investments

    with session(db) as s:
        investments.record_income(s, actor, holding_id, _fen(amount, "--amount"), _date(on), reference)
    out.print(f"Income {amount} yuan on {holding_id} recorded / 已入账", highlight=False)


@invest_app.command("mature")
def invest_mature(holding_id: Annotated[str, typer.Argument(help="Holding id / 投资编号")],
                  reference: Annotated[str, typer.Option("--ref", help="Bank reference / 银行流水号")],
                  income: Annotated[str, typer.Option("--income", help="Interest paid with the principal, yuan "
                                                                       "/ 到期收益（元）")] = "0",
                  on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record a holding repaid at maturity / 到期收回。"""
    from redress.admin.ipf import investments

    with session(db) as s:
        investments.mature(s, actor, holding_id, _date(on), reference, _fen(income, "--income"))
    out.print(f"Investment {holding_id} matured / 已到期收回", highlight=False)


@invest_app.command("list")
def invest_list(on: On = None, all_: Annotated[bool, typer.Option("--all", help="Include matured / 含已到期")] = False,
                db: Db = None) -> None:
    """The fund's holdings and their book value / 投资明细。"""
    from redress.admin.ipf import investments

    with session(db) as s:
        rows = investments.holdings(s, _date(on) if on else None, include_matured=all_)
    t = Table(title="Holdings / 资金运用", title_justify="left")
    for c in ("id 编号", "kind 类别", "issuer 发行人", "counterparty 对手", "traded 交易日", "matures 到期日",
              "status 状态"):
        t.add_column(c)
    t.add_column("book value 账面价值", justify="right")
    for h in rows:
        t.add_row(h.id, f"{h.kind_en} {h.kind_zh}", h.issuer, h.counterparty, h.trade_date.isoformat(),
                  h.maturity_date.isoformat() if h.maturity_date else "", h.status, yuan(h.book_value_fen, grouping=True))
    out.print(t)
    out.print(f"Total / 合计: {yuan(sum(h.book_value_fen for h in rows), grouping=True)} yuan", highlight=False)


def _show(report, xlsx: Path | None, pdf: Path | None) -> None:
    from redress.admin.ipf import reports

    en, zh = reports.report_title(report)
    t = Table(title=f"{en}\n{zh}", title_justify="left")
    t.add_column("item")
    t.add_column("项目")
    t.add_column("yuan 元", justify="right")
    for item_en, item_zh, fen in report.summary():
        t.add_row(item_en, item_zh, yuan(fen, grouping=True))
    out.print(t)
    out.print(f"Reconciled / 已核对: opening + income + capital - write-offs - expenses = closing net assets "
              f"{yuan(report.closing.net_assets_fen, grouping=True)}", highlight=False)
    for target, writer, what in ((xlsx, reports.write_excel, "Excel"), (pdf, reports.write_pdf, "PDF")):
        if target is None:
            continue
        with out.status(f"Writing {what} / 正在生成 {target} ..."):
            writer(report, target)
        out.print(f"{what} written / 已生成: {target}", highlight=False)


@report_app.command("month")
def report_month(year: int, month: int, xlsx: Xlsx = None, pdf: Pdf = None, db: Db = None) -> None:
    """The monthly report on raising, management and use (Art. 24) / 月度报告。"""
    from redress.admin.ipf import reports

    with session(db) as s:
        report = reports.month_report(s, year, month)
    _show(report, xlsx, pdf)


@report_app.command("quarter")
def report_quarter(year: int, quarter: int, xlsx: Xlsx = None, pdf: Pdf = None, db: Db = None) -> None:
    """The quarterly report on raising, management and use (Art. 24) / 季度报告。"""
    from redress.admin.ipf import reports

    with session(db) as s:
        report = reports.quarter_report(s, year, quarter)
    _show(report, xlsx, pdf)
