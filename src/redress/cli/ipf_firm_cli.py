"""Failed securities companies: claims registered, verified, paid in batches, recovered in the liquidation
/ 证券公司风险处置：债权登记、核对、偿付与清算追偿。

Every command runs in one transaction: it commits all of its work or none of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from redress.money import yuan
from redress.cli.admin import Actor, Db, _fen, out, session, protection_date as _date

firm_app = typer.Typer(name="firm", help="Paying the clients and creditors of failed firms / 风险处置偿付",
                       no_args_is_help=True)

Firm = Annotated[str, typer.Argument(help="The failed firm's id (1-19 letters, digits, . _ -) / 公司代码")]
On = Annotated[str | None, typer.Option("--on", help="Date, YYYY-MM-DD (default today) / 日期")]
InFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file, UTF-8 / CSV 文件")]
Number = Annotated[int, typer.Argument(help="The batch number / 批次号")]


def _y(fen: int) -> str:
    return yuan(fen, grouping=True)


def _file_report(r, what: str) -> None:
    if r.already_imported:
        out.print(f"{r.file}: already taken in; nothing changed / 该文件已导入，未作改动", highlight=False)
        return
    extra = f", {r.repeated} identical repeat(s) skipped / 重复 {r.repeated} 条已跳过" if r.repeated else ""
    out.print(f"{r.file}: {r.added} {what} added, principal {_y(r.principal_fen)} yuan{extra}", highlight=False)


@firm_app.command("open")
def firm_open(firm_id: Firm,
              name: Annotated[str, typer.Option("--name", help="The firm's name / 公司名称")],
              event: Annotated[str, typer.Option("--event", help="closed | revoked | bankrupt | taken_over "
                                                 "/ 关闭、撤销、破产、行政接管")],
              resolution: Annotated[str, typer.Option("--resolution", help="The passed board resolution on "
                                                      "use_for_failed_firm (Art. 18) / 董事会决议编号")],
              event_on: Annotated[str, typer.Option("--event-on", help="Date of the event, YYYY-MM-DD / 处置日期")],
              db: Db = None, actor: Actor = "admin") -> None:
    """Open the handling of a failed firm under a board resolution / 登记被处置证券公司。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        f = firms.open_firm(s, actor, firm_id, name, event, _date(event_on, "--event-on"), resolution)
        state = f.state
    out.print(f"Firm {firm_id} opened ({event}); state {state} / 已登记", highlight=False)


@firm_app.command("claims")
def firm_claims(firm_id: Firm, file: InFile, db: Db = None, actor: Actor = "admin") -> None:
    """Register claims: CSV claimant_id,category,principal,interest,reference (yuan) / 登记申报债权。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        r = firms.register_claims(s, actor, firm_id, file)
    _file_report(r, "claim(s) / 笔申报")


@firm_app.command("records")
def firm_records(firm_id: Firm, file: InFile, db: Db = None, actor: Actor = "admin") -> None:
    """Take in the custodian's records: CSV claimant_id,category,principal (yuan) / 导入托管记录。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        r = firms.import_custodian_records(s, actor, firm_id, file)
    _file_report(r, "record(s) / 条记录")


@firm_app.command("verify")
def firm_verify(firm_id: Firm, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Check the claims against the records and fix the compensation, once / 核对债权并确定收购金额。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        v = firms.verify_firm(s, actor, firm_id, _date(on))
    out.print(f"Firm {firm_id} verified (rules of {v.rules_effective}): {v.claimants} claimant(s), "
              f"{v.compensations} compensation(s); to pay {_y(v.paid_fen)} yuan, not paid {_y(v.not_paid_fen)} yuan; "
              f"held {v.held} ({_y(v.held_fen)} yuan); custodian records nobody claimed: {v.unclaimed_records}; "
              f"the fund's claim in the liquidation once paid: {_y(v.subrogated_fen)} yuan / 核对完成",
              highlight=False)


@firm_app.command("batch")
def firm_batch(firm_id: Firm, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Propose a batch of everything owed; another person releases it / 提出付款批次。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        b = firms.propose_batch(s, actor, firm_id, _date(on))
        number, count, total = b.number, b.count, b.total_fen
    out.print(f"Batch {number} proposed: {count} payment(s), {_y(total)} yuan; an approver must release it "
              f"(`redress ipf firm release {firm_id} {number} --as APPROVER`) / 已提出，待复核放行", highlight=False)


@firm_app.command("release")
def firm_release(firm_id: Firm, number: Number, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Release a proposed batch, as an approver who did not propose it / 复核放行付款批次。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        b = firms.release_batch(s, actor, firm_id, number, _date(on))
        count, total = b.count, b.total_fen
    out.print(f"Batch {number} released by {actor}: {count} payment(s), {_y(total)} yuan in transit / 已放行",
              highlight=False)


@firm_app.command("cancel")
def firm_cancel(firm_id: Firm, number: Number, db: Db = None, actor: Actor = "admin") -> None:
    """Cancel a proposed batch / 作废未放行的批次。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        firms.cancel_batch(s, actor, firm_id, number)
    out.print(f"Batch {number} cancelled / 已作废", highlight=False)


@firm_app.command("export")
def firm_export(firm_id: Firm, number: Number,
                out_dir: Annotated[Path, typer.Option("--out", file_okay=False, help="Folder for the files / 输出目录")],
                db: Db = None, actor: Actor = "admin") -> None:
    """Write a released batch's instruction file and manifest / 导出付款指令文件。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        path, manifest = firms.export_batch(s, actor, firm_id, number, out_dir)
    out.print(f"Wrote {path} and {manifest} / 已导出", highlight=False)


@firm_app.command("results")
def firm_results(firm_id: Firm, file: InFile, db: Db = None, actor: Actor = "admin") -> None:
    """Import the clearing system's results: instruction_id,status,amount,settled_on[,reason] / 导入划付结果。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        r = firms.import_results(s, actor, firm_id, file)
    if r.already_imported:
        out.print(f"{r.file}: already imported; nothing changed / 该文件已导入，未作改动", highlight=False)
        return
    out.print(f"{r.file}: {r.paid} paid ({_y(r.paid_fen)} yuan), {r.returned} returned ({_y(r.returned_fen)} yuan, "
              f"owed again), {r.unchanged} already applied / 已导入", highlight=False)
    for iid, reason in r.returns:
        out.print(f"  returned 退回: {iid}: {reason}", highlight=False)


@firm_app.command("review")
def firm_review(firm_id: Firm, claimant: Annotated[str, typer.Argument(help="The claimant held at verification")],
                category: Annotated[str, typer.Option("--category", help="settlement_funds | individual_debt")],
                principal: Annotated[str, typer.Option("--principal", help="Principal accepted after review, yuan "
                                                       "(0: nothing owed) / 复核确认本金（元）")],
                reason: Annotated[str, typer.Option("--reason", help="The evidence reviewed / 复核依据")],
                on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Decide a claim held at verification, as an approver; it is paid in the next batch / 复核暂缓债权。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        r = firms.resolve_held(s, actor, firm_id, claimant, category, _fen(principal, "--principal"), _date(on),
                               reason)
        pay = r.pay_fen
    out.print(f"{claimant} ({category}): {principal} yuan accepted, {_y(pay)} yuan to pay in the next batch "
              f"/ 复核完成", highlight=False)


@firm_app.command("recover")
def firm_recover(firm_id: Firm,
                 amount: Annotated[str, typer.Option("--amount", help="Yuan / 金额（元）")],
                 reference: Annotated[str, typer.Option("--ref", help="Bank reference: the idempotency key / 流水号")],
                 on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record a liquidation dividend on the fund's claim (Art. 19) / 登记清算分配所得。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        firms.record_recovery(s, actor, firm_id, _fen(amount, "--amount"), _date(on), reference)
        left = firms.report(s, firm_id).claim_outstanding_fen
    out.print(f"Recovered {amount} yuan; the fund's claim still outstanding: {_y(left)} yuan / 已登记", highlight=False)


@firm_app.command("close")
def firm_close(firm_id: Firm,
               reason: Annotated[str, typer.Option("--reason", help="Why the handling ends / 结案依据")],
               on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Close the firm: write off what the liquidation did not return / 结案并核销未收回的清算债权。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        firms.close_firm(s, actor, firm_id, _date(on), reason)
        written_off = firms.report(s, firm_id).written_off_fen
    out.print(f"Firm {firm_id} closed; written off {_y(written_off)} yuan / 已结案", highlight=False)


@firm_app.command("show")
def firm_show(firm_id: Firm, db: Db = None) -> None:
    """Where the firm's handling stands / 处置进展。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        r = firms.report(s, firm_id)
    out.print(f"{r.firm_id} {r.name}: {r.event} on {r.event_on}; state {r.state}; resolution {r.resolution}",
              highlight=False)
    t = Table(title="Failed firm / 被处置证券公司", title_justify="left")
    t.add_column("item 项目")
    t.add_column("yuan 元", justify="right")
    for label, fen in (("registered 申报 (incl. interest 含利息)", r.registered_fen),
                       ("  of which interest 其中利息", r.registered_interest_fen),
                       ("custodian records 托管记录", r.custodian_fen),
                       ("to pay (verified) 核定收购", r.to_pay_fen), ("not paid (rules) 不予收购", r.not_paid_fen),
                       (f"held ({r.held}) 待复核", r.held_fen), ("paid to date 已付", r.paid_fen),
                       ("in flight 在途", r.in_flight_fen), ("owed 应付未付", r.owed_fen),
                       ("subrogated claim 清算债权", r.subrogated_fen), ("recovered 已收回", r.recovered_fen),
                       ("written off 已核销", r.written_off_fen),
                       ("claim outstanding 未收回债权", r.claim_outstanding_fen)):
        t.add_row(label, _y(fen))
    out.print(t)
    c = Table(title="By category / 分类别", title_justify="left")
    for col in ("category 类别", "claims 笔数", "registered 申报", "to pay 核定", "held 待复核", "paid 已付"):
        c.add_column(col, justify="left" if col.startswith("category") else "right")
    for k in r.categories:
        c.add_row(k.category, str(k.claims), _y(k.registered_fen), _y(k.to_pay_fen), _y(k.held_fen), _y(k.paid_fen))
    out.print(c)
    for number, status, count, total, by, released_by in r.batches:
        out.print(f"batch {number}: {status}, {count} payment(s), {_y(total)} yuan, proposed by {by}"
                  f"{f', released by {released_by}' if released_by else ''}", highlight=False)


@firm_app.command("claimant")
def firm_claimant(firm_id: Firm, claimant_id: Annotated[str, typer.Argument(help="The claimant / 申报人")],
                  db: Db = None) -> None:
    """One claimant's claims, compensation with the rule lines, and payments / 申报人明细。"""
    from redress.admin.ipf import firms

    with session(db) as s:
        lines = firms.claimant_statement(s, firm_id, claimant_id)
    for ln in lines:
        out.print(f"[bold]{claimant_id} / {ln.category}[/]: claimed {_y(ln.claimed_fen)}, eligible "
                  f"{_y(ln.eligible_fen)}, to pay {_y(ln.to_pay_fen)}{' (HELD 待复核)' if ln.held else ''}; paid "
                  f"{_y(ln.paid_fen)}, in flight {_y(ln.in_flight_fen)}, owed {_y(ln.owed_fen)}", highlight=False)
        for ref, principal, interest in ln.claims:
            out.print(f"  claim {ref}: principal {_y(principal)}, interest {_y(interest)}", highlight=False)
        for text in ln.lines:
            out.print(f"  {text}", highlight=False, markup=False)
        for iid, fen, status, on, reason in ln.transfers:
            out.print(f"  {iid}: {_y(fen)} {status}{f' on {on}' if on else ''}{f' ({reason})' if reason else ''}",
                      highlight=False, markup=False)
