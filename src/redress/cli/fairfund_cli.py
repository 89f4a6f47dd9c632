"""A case's fair fund, administered: plan, money paid in, rounds of distribution, statement / 公平基金。
Every command runs in one transaction: it commits all of its work or none of it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from redress.admin.money import yuan
from redress.cli.admin import Actor, Db, _date, _fen, out, session

fairfund_case_app = typer.Typer(name="fairfund-case", help="The fair fund of an administered case / 案件公平基金",
                                no_args_is_help=True, rich_markup_mode="rich")
CaseId = Annotated[str, typer.Argument(help="Case id / 案件编号")]
On = Annotated[str | None, typer.Option("--on", help="Date, YYYY-MM-DD (default today) / 日期")]


@fairfund_case_app.command("establish")
def establish(case_id: CaseId,
              residual_to: Annotated[str, typer.Option("--residual-to", help="Who receives money that can no "
                                                       "longer be paid, e.g. treasury / 剩余资金去向")],
              minimum: Annotated[str, typer.Option("--minimum", help="Minimum payment, yuan / 最低支付额（元）")] = "0",
              withhold: Annotated[bool, typer.Option("--withhold", help="Withhold shares below the minimum as "
                                                     "residual instead of spreading them / 低于最低额的份额不再分配")]
              = False,
              on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Set up the case's fair fund and its plan / 设立公平基金。"""
    from redress.admin import fairfunds

    with session(db) as s:
        fairfunds.establish(s, actor, case_id, _fen(minimum, "--minimum"), residual_to, not withhold, _date(on))
    out.print(f"Fair fund of {case_id} established / 公平基金已设立", highlight=False)


@fairfund_case_app.command("source")
def source(case_id: CaseId,
           kind: Annotated[str, typer.Option("--kind", help="fine | confiscation | settlement")],
           amount: Annotated[str, typer.Option("--amount", help="Yuan received / 金额（元）")],
           ref: Annotated[str, typer.Option("--ref", help="Decision number: the idempotency key / 决定书编号")],
           on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record money paid into the fair fund / 记录公平基金资金来源。"""
    from redress.admin import fairfunds

    with session(db) as s:
        row = fairfunds.add_source(s, actor, case_id, kind, _fen(amount, "--amount"), ref, _date(on))
        fen = row.amount_fen
    out.print(f"Source {ref} ({kind}) {yuan(fen)} recorded / 已记录", highlight=False)


@fairfund_case_app.command("round")
def run_round(case_id: CaseId, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Distribute the money the fair fund holds / 进行一轮分配。"""
    from redress.admin import fairfunds

    with session(db) as s:
        r = fairfunds.run_round(s, actor, case_id, _date(on))
        text = (f"Round {r.number}: available {yuan(r.available_fen)}, paid {yuan(r.paid_fen)}, residual "
                f"{yuan(r.residual_fen)} -> {r.residual_destination} / 第{r.number}轮分配完成")
    out.print(text, highlight=False)


@fairfund_case_app.command("show")
def show(case_id: CaseId, db: Db = None) -> None:
    """The fair fund's statement: sources, rounds, what each investor received / 公平基金报表。"""
    from redress.admin import fairfunds

    with session(db) as s:
        st = fairfunds.statement(s, case_id)
        srcs = [(x.reference, x.kind, x.amount_fen, x.received_on) for x in fairfunds.sources(s, case_id)]
        rs = [(r.number, r.run_on, r.available_fen, r.paid_fen, r.residual_fen, r.residual_destination)
              for r in st.rounds]
    out.print(f"Fair fund {case_id}: sources {yuan(st.sources_fen)}, paid {yuan(st.paid_fen)}, residual sent "
              f"{yuan(st.residual_sent_fen)}, held {yuan(st.held_fen)} / 收入、已付、转出、结余", highlight=False)
    t = Table(title="Sources / 资金来源", title_justify="left")
    for c in ("reference 编号", "kind 类型", "amount 金额", "received 收到日"):
        t.add_column(c)
    for ref, kind, fen, on in srcs:
        t.add_row(ref, kind, yuan(fen), on.isoformat())
    out.print(t)
    t = Table(title="Rounds / 分配轮次", title_justify="left")
    for c in ("round 轮次", "on 日期", "available 可分配", "paid 已付", "residual 剩余", "to 去向"):
        t.add_column(c)
    for number, on, avail, paid, res, dest in rs:
        t.add_row(str(number), on.isoformat(), yuan(avail), yuan(paid), yuan(res), dest)
    out.print(t)
    t = Table(title="Paid per investor / 投资者所得", title_justify="left")
    t.add_column("investor 投资者")
    t.add_column("paid 已付", justify="right")
    for inv, fen in st.paid_by_investor.items():
        t.add_row(inv, yuan(fen))
    out.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(fairfund_case_app)


__all__ = ["fairfund_case_app", "register"]
