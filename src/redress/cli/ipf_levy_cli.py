"""Securities companies, their ratings and levies, and the fund's other income / 证券公司、分类评级与保护基金缴纳。

Every command runs in one transaction (``session(db)``): it commits all of its work or none of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from redress.money import yuan
from redress.cli.admin import Actor, Db, _fen, err, out, session, protection_date as _date

company_app = typer.Typer(name="company", help="Securities companies and their ratings / 证券公司与分类评级",
                          no_args_is_help=True)
levy_app = typer.Typer(name="levy", help="Levies: rates, instalments, payments, settlement, overdue / 保护基金缴纳",
                       no_args_is_help=True)
income_app = typer.Typer(name="income", help="Exchange fees, subscription interest, donations / 其他资金来源",
                         no_args_is_help=True)

On = Annotated[str | None, typer.Option("--on", help="Date, YYYY-MM-DD (default today) / 日期")]
Company = Annotated[str, typer.Argument(help="Company id / 证券公司编号")]
Year = Annotated[int, typer.Argument(help="Levy year / 年度")]
Ref = Annotated[str, typer.Option("--ref", help="Bank reference: the idempotency key / 银行流水号")]
CsvFile = Annotated[Path | None, typer.Option("--file", exists=True, dir_okay=False,
                                              help="CSV file, all rows or none / CSV文件（全部登记或全部不登记）")]


def _pct(rate_bp: int) -> str:
    return f"{rate_bp / 100:g}%"


def _period(quarter: int) -> str:
    return "settlement 清算" if quarter == 0 else f"Q{quarter}"


def _need(value, flag: str):
    if value is None:
        err.print(f"[red]{flag} is required (or give --file) / 缺少 {flag}[/]")
        raise typer.Exit(2)
    return value


# --- companies -----------------------------------------------------------------------------------------

@company_app.command("add")
def company_add(company_id: Company,
                name: Annotated[str, typer.Option("--name", help="Registered name / 公司名称")],
                brokerage: Annotated[bool, typer.Option("--brokerage/--no-brokerage",
                                                        help="Has a brokerage business / 是否从事经纪业务")] = True,
                db: Db = None, actor: Actor = "admin") -> None:
    """Register a securities company that pays levies / 登记证券公司。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        levies.add_company(s, actor, company_id, name, brokerage)
    out.print(f"Company {company_id} registered / 已登记", highlight=False)


@company_app.command("rate")
def company_rate(company_id: Company, year: Year,
                 grade: Annotated[str, typer.Argument(help="AAA, AA, A, BBB, BB, B, CCC, CC, C or D / 分类评级")],
                 db: Db = None, actor: Actor = "admin") -> None:
    """Record a company's classification grade for a year / 登记分类评价结果。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        levies.rate_company(s, actor, company_id, year, grade.strip().upper())
    out.print(f"{company_id} {year}: grade {grade.strip().upper()} recorded / 已登记", highlight=False)


@company_app.command("list")
def company_list(db: Db = None) -> None:
    """Companies and their grades / 证券公司及评级。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        rows = [(c.id, c.name, c.brokerage, grades) for c, grades in levies.companies(s)]
    t = Table(title="Securities companies / 证券公司", title_justify="left")
    for c in ("company 编号", "name 名称", "brokerage 经纪", "grades 评级"):
        t.add_column(c)
    for cid, name, brokerage, grades in rows:
        t.add_row(cid, name, "yes" if brokerage else "no", ", ".join(f"{y} {g}" for y, g in grades.items()))
    out.print(t)


# --- levies --------------------------------------------------------------------------------------------

@levy_app.command("year")
def levy_year(year: Year,
              loss_share_bp: Annotated[int, typer.Option("--loss-share-bp", help="Previous year's share of "
                                                         "loss-making companies, basis points (10% = 1000) / 亏损面")],
              fund_size: Annotated[str, typer.Option("--fund-size", help="Size of the fund, yuan / 基金规模（元）")],
              source: Annotated[str, typer.Option("--source", help="Where the figures come from / 数据来源")],
              db: Db = None, actor: Actor = "admin") -> None:
    """Record a levy year's loss share and fund size / 登记年度亏损面与基金规模。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        levies.set_levy_year(s, actor, year, loss_share_bp, _fen(fund_size, "--fund-size"), source)
    out.print(f"Levy year {year} recorded / 已登记", highlight=False)


@levy_app.command("rate")
def levy_rate(company_id: Company, year: Year, db: Db = None) -> None:
    """The company's levy rate and the rules that applied, with their sources / 缴纳比例及依据。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        r = levies.rate(s, company_id, year)
    out.print(f"{company_id} {year}: {_pct(r.rate_bp)} of operating income / 按营业收入的{_pct(r.rate_bp)}缴纳",
              highlight=False)
    out.print(r.explain(), highlight=False, markup=False)


@levy_app.command("assess")
def levy_assess(company_id: Annotated[str | None, typer.Argument(help="Company id (or --file) / 公司编号")] = None,
                *, year: Annotated[int, typer.Option("--year", help="Levy year / 年度")],
                quarter: Annotated[int, typer.Option("--quarter", help="1-4 / 季度")],
                income: Annotated[str | None, typer.Option("--income", help="The quarter's operating income, "
                                                           "yuan / 季度营业收入（元）")] = None,
                file: CsvFile = None, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Assess a quarter's advance payment, for one company or a CSV `company_id,income` / 核定季度预缴。"""
    from redress.admin.ipf import levies

    day = _date(on)
    with session(db) as s:
        if file is not None:
            rows = levies.assess_from_csv(s, actor, file, year, quarter, day)
        else:
            rows = [levies.assess_quarter(s, actor, _need(company_id, "COMPANY"), year, quarter,
                                          _fen(_need(income, "--income"), "--income"), day)]
        shown = [(r.company_id, r.rate_bp, r.amount_fen, r.due_on) for r in rows]
    for cid, bp, fen, due in shown:
        out.print(f"{cid} {year} Q{quarter}: {yuan(fen, grouping=True)} yuan at {_pct(bp)}, due {due} "
                  f"/ 应缴{yuan(fen, grouping=True)}元，截止{due}", highlight=False)


@levy_app.command("pay")
def levy_pay(company_id: Annotated[str | None, typer.Argument(help="Company id (or --file) / 公司编号")] = None,
             year: Annotated[int | None, typer.Option("--year", help="Levy year / 年度")] = None,
             quarter: Annotated[int | None, typer.Option("--quarter", help="1-4, or 0 for a settlement balance "
                                                         "/ 季度")] = None,
             amount: Annotated[str | None, typer.Option("--amount", help="Yuan / 金额（元）")] = None,
             reference: Annotated[str | None, typer.Option("--ref", help="Bank reference / 银行流水号")] = None,
             file: CsvFile = None, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record payments received: one, or a CSV `company_id,year,quarter,amount,paid_on,reference` / 登记缴款。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        if file is not None:
            rows = levies.payments_from_csv(s, actor, file)
        else:
            rows = [levies.record_payment(s, actor, _need(company_id, "COMPANY"), _need(year, "--year"),
                                          _need(quarter, "--quarter"),
                                          _fen(_need(amount, "--amount"), "--amount"), _date(on),
                                          _need(reference, "--ref"))]
        total = sum(r.amount_fen for r in rows)
    out.print(f"{len(rows)} payment(s), {yuan(total, grouping=True)} yuan recorded / 已登记缴款", highlight=False)


@levy_app.command("settle")
def levy_settle(company_id: Company, year: Year,
                audited_income: Annotated[str, typer.Option("--audited-income", help="Audited operating income "
                                                            "of the year, yuan / 经审计的营业收入（元）")],
                on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Settle a year on the audited income (Art. 15) / 年度清算。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        r = levies.settle_year(s, actor, company_id, year, _fen(audited_income, "--audited-income"), _date(on))
        fen, due = r.amount_fen, r.due_on
    if fen > 0:
        out.print(f"{company_id} {year}: {yuan(fen, grouping=True)} yuan more to pay, due {due} "
                  f"/ 应补缴{yuan(fen, grouping=True)}元，截止{due}", highlight=False)
    elif fen < 0:
        out.print(f"{company_id} {year}: {yuan(-fen, grouping=True)} yuan to refund / 应退{yuan(-fen, grouping=True)}元",
                  highlight=False)
    else:
        out.print(f"{company_id} {year}: settled, nothing owed either way / 已清算，无需补退", highlight=False)


@levy_app.command("refund")
def levy_refund(company_id: Company, year: Year, reference: Ref,
                amount: Annotated[str | None, typer.Option("--amount", help="Yuan (default: all that is left) "
                                                           "/ 金额（默认全部应退余额）")] = None,
                on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Pay a settlement refund to a company / 支付清算退款。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        r = levies.pay_refund(s, actor, company_id, year, _date(on), reference,
                              None if amount is None else _fen(amount, "--amount"))
        fen = -r.amount_fen
    out.print(f"{company_id} {year}: {yuan(fen, grouping=True)} yuan refunded / 已退款", highlight=False)


@levy_app.command("overdue")
def levy_overdue(on: On = None, db: Db = None) -> None:
    """Levies not paid in full past their due date / 逾期未缴。"""
    from redress.admin.ipf import levies

    day = _date(on)
    with session(db) as s:
        rows = levies.overdue_report(s, day)
    t = Table(title=f"Overdue levies / 逾期未缴 · {day}", title_justify="left")
    for c in ("company 公司", "year 年度", "period 期间", "due 截止", "days late 逾期天数", "outstanding 未缴（元）"):
        t.add_column(c)
    for r in rows:
        t.add_row(r.company_id, str(r.year), _period(r.quarter), r.due_on.isoformat(), str(r.days_late),
                  yuan(r.outstanding_fen, grouping=True))
    out.print(t)
    out.print(f"{len(rows)} overdue, {yuan(sum(r.outstanding_fen for r in rows), grouping=True)} yuan outstanding "
              "/ 逾期合计", highlight=False)


@levy_app.command("notices")
def levy_notices(year: Year, quarter: Annotated[int, typer.Argument(help="1-4, or 0 for the settlement / 季度")],
                 out_path: Annotated[Path, typer.Option("--out", dir_okay=False, help="CSV to write / 输出文件")],
                 db: Db = None) -> None:
    """Write the payment notices of a period as CSV / 生成缴纳通知。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        rows = levies.notices(s, year, quarter)
    levies.write_notices(rows, out_path)
    out.print(f"{len(rows)} notice(s) written to {out_path} / 已生成通知", highlight=False)


@levy_app.command("statement")
def levy_statement(company_id: Company, year: Year, db: Db = None) -> None:
    """A company's levy statement for a year / 公司年度缴纳对账单。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        st = levies.company_statement(s, company_id, year)
    out.print(f"[bold]{st.company_name} ({st.company_id}) {year}[/] grade 评级: {st.grade or '-'}", highlight=False)
    if st.rate is not None:
        out.print(st.rate.explain(), highlight=False, markup=False)
    else:
        out.print(f"rate 比例: {st.rate_problem}", highlight=False, markup=False)
    t = Table(title_justify="left")
    for c in ("period 期间", "income 收入", "rate 比例", "rule 规则", "amount 金额", "due 截止", "paid 已缴",
              "outstanding 未缴"):
        t.add_column(c)
    for ln in st.lines:
        t.add_row(_period(ln.quarter), yuan(ln.income_fen, grouping=True), _pct(ln.rate_bp), ln.rule,
                  yuan(ln.amount_fen, grouping=True), ln.due_on.isoformat(), yuan(ln.paid_fen, grouping=True),
                  yuan(ln.outstanding_fen, grouping=True))
    out.print(t)
    for ln in st.lines:
        for paid_on, ref, fen in ln.payments:
            out.print(f"  {_period(ln.quarter)} {paid_on} {ref}: {yuan(fen, grouping=True)}", highlight=False)
    out.print(f"assessed 已核定 {yuan(st.assessed_fen, grouping=True)}; paid 已缴 {yuan(st.paid_fen, grouping=True)}; "
              f"outstanding 未缴 {yuan(st.outstanding_fen, grouping=True)}; refund 应退 "
              f"{yuan(st.refund_fen, grouping=True)} (paid 已退 {yuan(st.refund_paid_fen, grouping=True)})",
              highlight=False)


# --- other income --------------------------------------------------------------------------------------

@income_app.command("exchange-fees")
def income_exchange_fees(exchange: Annotated[str, typer.Argument(help="Exchange id, e.g. SSE, SZSE / 交易所")],
                         period: Annotated[str, typer.Option("--period", help="Period of the fees, e.g. 2020-Q1 "
                                                             "/ 所属期间")],
                         fees: Annotated[str, typer.Option("--fees", help="Transaction fees, yuan / 交易经手费（元）")],
                         at_cap: Annotated[bool, typer.Option("--at-cap/--not-at-cap",
                                                              help="Has the exchange's risk fund reached its cap? "
                                                              "/ 风险基金是否已达上限")],
                         reference: Ref, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Book an exchange's 20% share of its transaction fees (Art. 12(1)) / 登记交易经手费划入。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        e = levies.exchange_fees(s, actor, exchange, period, _fen(fees, "--fees"), at_cap, _date(on), reference)
        memo = e.memo
    out.print(f"Booked / 已入账: {memo}", highlight=False)


@income_app.command("ipo-interest")
def income_ipo_interest(amount: Annotated[str, typer.Option("--amount", help="Yuan / 金额（元）")], reference: Ref,
                        memo: Annotated[str, typer.Option("--memo", help="Which subscriptions / 说明")] = "",
                        on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Book interest on frozen subscription money (Art. 12(3)) / 登记申购冻结资金利息。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        levies.ipo_interest(s, actor, _fen(amount, "--amount"), _date(on), reference, memo)
    out.print(f"Subscription interest {amount} yuan booked / 已入账", highlight=False)


@income_app.command("donation")
def income_donation(donor: Annotated[str, typer.Option("--donor", help="Who gave / 捐赠人")],
                    amount: Annotated[str, typer.Option("--amount", help="Yuan / 金额（元）")], reference: Ref,
                    on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Book a donation (Art. 12(5)) / 登记捐赠。"""
    from redress.admin.ipf import levies

    with session(db) as s:
        levies.donation(s, actor, donor, _fen(amount, "--amount"), _date(on), reference)
    out.print(f"Donation {amount} yuan from {donor} booked / 已入账", highlight=False)
