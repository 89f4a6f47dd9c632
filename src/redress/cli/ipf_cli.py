"""``redress ipf``: the securities investor protection fund (证券投资者保护基金).  Every command runs in one
transaction: it commits all of its work or none of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from redress.money import yuan
from redress.cli.admin import Actor, Db, _fen, out, session, protection_date as _date
from redress.cli.ipf_firm_cli import firm_app
from redress.cli.ipf_invest_cli import invest_app, report_app
from redress.cli.ipf_levy_cli import company_app, income_app, levy_app

ipf_app = typer.Typer(name="ipf", help="The securities investor protection fund / 证券投资者保护基金",
                      no_args_is_help=True, rich_markup_mode="rich")
board_app = typer.Typer(name="board", help="Board meetings and resolutions (Art. 9-11) / 董事会", no_args_is_help=True)
book_app = typer.Typer(name="book", help="The fund's books: capital, statement, trial balance / 账簿",
                       no_args_is_help=True)
On = Annotated[str | None, typer.Option("--on", help="Date, YYYY-MM-DD (default today) / 日期")]


def _names_file(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@board_app.command("meeting")
def board_meeting(directors: Annotated[Path, typer.Option("--directors", exists=True, dir_okay=False,
                                                          help="The sitting directors, one a line")],
                  present: Annotated[list[str], typer.Option("--present", help="A director present (repeat)")],
                  kind: Annotated[str, typer.Option("--kind", help="regular | interim")] = "regular",
                  on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record a board meeting and whether it could be held / 记录董事会会议。"""
    from redress.admin.ipf import board

    with session(db) as s:
        m = board.record_meeting(s, actor, _date(on), _names_file(directors), present, kind)
        mid, valid, found = m.id, m.valid, board.findings(m)
    for f in found:
        out.print(f"{f['en']} / {f['zh']}", highlight=False)
    out.print(f"Meeting {mid} recorded; {'it could be held / 会议有效' if valid else 'it could NOT be held / 会议无效'}",
              highlight=False)


@board_app.command("resolve")
def board_resolve(meeting_id: int,
                  subject: Annotated[str, typer.Option("--subject", help="e.g. use_for_failed_firm, annual_budget")],
                  reference: Annotated[str, typer.Option("--ref", help="The resolution's number")],
                  text: Annotated[str, typer.Option("--text", help="What is resolved")],
                  votes_for: Annotated[list[str], typer.Option("--for", help="A director in favour (repeat)")],
                  against: Annotated[list[str] | None, typer.Option("--against")] = None,
                  abstain: Annotated[list[str] | None, typer.Option("--abstain")] = None,
                  db: Db = None, actor: Actor = "admin") -> None:
    """Record a resolution and its votes, and whether it passed / 记录董事会决议。"""
    from redress.admin.ipf import board

    with session(db) as s:
        r = board.record_resolution(s, actor, meeting_id, subject, reference, text, votes_for, against or [],
                                    abstain or [])
        passed, found = r.passed, board.findings(r)
    for f in found:
        out.print(f"{f['en']} / {f['zh']}", highlight=False)
    out.print(f"Resolution {reference}: {'passed / 通过' if passed else 'NOT passed / 未通过'}", highlight=False)


@board_app.command("list")
def board_list(db: Db = None) -> None:
    """Meetings and resolutions on record / 董事会记录。"""
    from redress.admin.ipf import board

    with session(db) as s:
        rows = [(m.id, m.held_on, m.kind, len(json.loads(m.present_json)), m.valid,
                 [(r.reference, r.subject, r.passed) for r in board.resolutions(s, m.id)]) for m in board.meetings(s)]
    t = Table(title="Board meetings / 董事会会议", title_justify="left")
    for c in ("meeting", "held 日期", "kind 类型", "present 出席", "valid 有效", "resolutions 决议"):
        t.add_column(c)
    for mid, on, kind, n, valid, res in rows:
        t.add_row(str(mid), on.isoformat(), kind, str(n), "yes" if valid else "NO",
                  "; ".join(f"{ref} {subj} {'passed' if ok else 'NOT passed'}" for ref, subj, ok in res))
    out.print(t)


@book_app.command("capital")
def book_capital(amount: Annotated[str, typer.Option("--amount", help="Yuan / 金额（元）")],
                 reference: Annotated[str, typer.Option("--ref", help="Bank reference: the idempotency key")],
                 on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record the fund's opening capital (Art. 13) / 登记注册资本。"""
    from redress.admin.ipf import book

    with session(db) as s:
        book.open_capital(s, actor, _fen(amount, "--amount"), _date(on), reference)
    out.print(f"Capital {amount} yuan recorded / 已登记", highlight=False)


@book_app.command("expense")
def book_expense(amount: Annotated[str, typer.Option("--amount", help="Yuan / 金额（元）")],
                 reference: Annotated[str, typer.Option("--ref", help="Bank reference: the idempotency key")],
                 memo: Annotated[str, typer.Option("--memo", help="What it paid for / 用途")],
                 budget: Annotated[str, typer.Option("--budget", help="The board's annual budget resolution")],
                 on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Pay a running cost of the fund company under the board's annual budget (Art. 21) / 列支运营费用。"""
    from redress.admin.ipf import book

    with session(db) as s:
        book.operating_expense(s, actor, _fen(amount, "--amount"), _date(on), reference, memo, budget)
    out.print(f"Expense {amount} yuan recorded under budget {budget} / 已列支", highlight=False)


@book_app.command("show")
def book_show(on: On = None, db: Db = None) -> None:
    """The fund's statement (raising, management, use) and trial balance / 基金状况与试算平衡。"""
    from redress.admin.ipf import book

    through = _date(on) if on else None
    with session(db) as s:
        st = book.fund_statement(s, through)
        tb = book.trial(s, through)
    t = Table(title=f"Protection fund statement / 保护基金状况{f' · {through}' if through else ''}",
              title_justify="left")
    t.add_column("item 项目")
    t.add_column("yuan 元", justify="right")
    t.add_row("capital 注册资本", yuan(st.capital_fen, grouping=True))
    for k, fen in st.income_fen.items():
        t.add_row(f"income 收入: {k}", yuan(fen, grouping=True))
    for k, fen in st.expense_fen.items():
        t.add_row(f"expense 支出: {k}", yuan(fen, grouping=True))
    for label, fen in (("bank 银行存款", st.bank_fen), ("in transit 在途", st.in_transit_fen),
                       ("investments 投资", st.investments_fen), ("levies receivable 应收保护基金", st.levy_receivable_fen),
                       ("claims in liquidation 清算债权", st.subrogated_fen),
                       ("refunds payable 应退款项", st.refunds_payable_fen)):
        t.add_row(label, yuan(fen, grouping=True))
    t.add_row("[bold]net assets 净资产[/]", f"[bold]{yuan(st.net_assets_fen, grouping=True)}[/]")
    out.print(t)
    out.print(f"Trial balance 试算平衡: debits {yuan(tb.debit_fen, grouping=True)} = credits "
              f"{yuan(tb.credit_fen, grouping=True)}: {'balanced / 平衡' if tb.balanced else 'NOT balanced'}",
              highlight=False)


for sub in (company_app, levy_app, income_app, firm_app, invest_app, report_app, board_app, book_app):
    ipf_app.add_typer(sub)


def register(app: typer.Typer) -> None:
    app.add_typer(ipf_app)


__all__ = ["ipf_app", "register"]
