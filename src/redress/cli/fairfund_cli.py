"""A case's fair fund, administered: plan, money paid in, rounds of distribution, statement / 公平基金。
Every command runs in one transaction: it commits all of its work or none of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from redress.money import yuan
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
    out.print(f"Fair fund {case_id}: sources {yuan(st.sources_fen)}, allocated {yuan(st.paid_fen)}, residual "
              f"sent {yuan(st.residual_sent_fen)}, held {yuan(st.held_fen)} / 收入、已分配、转出、结余", highlight=False)
    out.print(f"Of the allocated: transferred {yuan(st.transferred_fen)}, in flight {yuan(st.in_flight_fen)}, "
              f"awaiting a batch {yuan(st.awaiting_fen)}; the account holds {yuan(st.cash_fen)} "
              f"/ 已划付、在途、待划付、账户余额", highlight=False)
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


@fairfund_case_app.command("batch")
def batch(case_id: CaseId, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Gather every allocation still owed into a payment batch, for a second person to release
    / 生成公平基金划付批次（待复核）。"""
    from redress.admin import fairfunds

    with session(db) as s:
        ap = fairfunds.propose_batch(s, actor, case_id, _date(on))
        body, ap_id = ap.payload, ap.id
    b = json.loads(body)
    out.print(f"Fair-fund batch {b['batch']}: {b['count']} transfers, {yuan(b['total_fen'])} yuan. A second person "
              f"releases it with `redress approval approve {ap_id}` / 待复核放行", highlight=False)


@fairfund_case_app.command("export")
def export(case_id: CaseId, number: Annotated[int, typer.Argument(help="Batch number / 批次号")],
           out_dir: Annotated[Path, typer.Option("--out", help="Folder for the instruction file and manifest")] =
           Path("."), db: Db = None, actor: Actor = "admin") -> None:
    """Write a released batch's instruction file for the clearing system / 导出划付指令文件。"""
    from redress.admin import fairfunds

    with session(db) as s:
        path, manifest = fairfunds.export_batch(s, actor, case_id, number, out_dir)
    out.print(f"Wrote {path} and {manifest.name} / 已导出", highlight=False)


@fairfund_case_app.command("results")
def results(case_id: CaseId, file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
        "CSV instruction_id,status,amount,settled_on[,reason] from the clearing system"))],
            db: Db = None, actor: Actor = "admin") -> None:
    """Apply the clearing system's results: paid, or returned (sent again in the next batch) / 导入划付结果。"""
    from redress.admin import fairfunds

    with session(db) as s:
        rep = fairfunds.import_results(s, actor, case_id, file)
    if rep.already_imported:
        out.print(f"{file.name} was already imported; nothing changed / 该文件已导入", highlight=False)
        return
    out.print(f"{rep.paid} paid ({yuan(rep.paid_fen)} yuan), {rep.returned} returned ({yuan(rep.returned_fen)} "
              f"yuan), {rep.unchanged} already applied / 已付、退回、已处理", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(fairfund_case_app)


__all__ = ["fairfund_case_app", "register"]
