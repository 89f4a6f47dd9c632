"""Recourse on an administered case: liable parties, steps against them, recoveries and the report / 追偿。
Every command runs in one transaction: it commits all of its work or none of it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from redress.money import yuan
from redress.cli.admin import Actor, Db, _date, _fen, out, session

recovery_app = typer.Typer(name="recovery", help="Recourse against the liable parties of a case / 追偿管理",
                           no_args_is_help=True, rich_markup_mode="rich")
CaseId = Annotated[str, typer.Argument(help="Case id / 案件编号")]
PartyId = Annotated[str, typer.Argument(help="Liable party id, e.g. issuer / 责任方")]
On = Annotated[str | None, typer.Option("--on", help="Date it happened, YYYY-MM-DD (default today) / 日期")]


@recovery_app.command("party")
def party_add(case_id: CaseId, party_id: PartyId,
              name: Annotated[str, typer.Option("--name", help="Name / 名称")],
              kind: Annotated[str, typer.Option("--kind", help="issuer | controlling_shareholder | actual_controller "
                                                "| director | sponsor | auditor | law_firm | other")],
              share: Annotated[int, typer.Option("--share-bp", help="Internal share of fault, basis points "
                                                 "(10000 = 100%) / 责任份额")],
              insolvent: Annotated[bool, typer.Option("--insolvent", help="In bankruptcy / 已破产")] = False,
              rate: Annotated[int, typer.Option("--rate-bp", help="Expected bankruptcy dividend, bp / 清偿率")] = 10000,
              payer: Annotated[str | None, typer.Option("--payer", help="The payer of the fund this party also is "
                                                        "/ 同时为出资人")] = None,
              db: Db = None, actor: Actor = "admin") -> None:
    """Name a liable party and its internal share of fault / 添加责任方。"""
    from redress.admin import recovery

    with session(db) as s:
        recovery.add_party(s, actor, case_id, party_id, name, kind, share, solvent=not insolvent,
                           recovery_rate_bp=rate, payer_id=payer)
    out.print(f"Liable party {party_id} added to {case_id} / 已添加责任方", highlight=False)


@recovery_app.command("action")
def action(case_id: CaseId, party_id: PartyId,
           stage: Annotated[str, typer.Option("--stage", help="demand | lawsuit | judgment | enforcement | "
                                              "bankruptcy_claim | settlement")],
           ref: Annotated[str, typer.Option("--ref", help="Letter, court or case number / 文书编号")],
           amount: Annotated[str, typer.Option("--amount", help="Amount at stake, yuan / 金额（元）")] = "0",
           note: Annotated[str, typer.Option("--note")] = "", on: On = None, db: Db = None,
           actor: Actor = "admin") -> None:
    """Record a step taken against a party (demand, lawsuit, judgment ...) / 记录追偿进展。"""
    from redress.admin import recovery

    with session(db) as s:
        recovery.record_action(s, actor, case_id, party_id, stage, _date(on), _fen(amount, "--amount"), ref, note)
    out.print(f"Recorded {stage} {ref} against {party_id} / 已记录", highlight=False)


@recovery_app.command("receipt")
def receipt(case_id: CaseId, party_id: PartyId,
            amount: Annotated[str, typer.Option("--amount", help="Yuan recovered / 收回金额（元）")],
            ref: Annotated[str, typer.Option("--ref", help="Bank reference: the idempotency key / 银行流水号")],
            on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Book money recovered from a party and pass it on to the payers / 追偿款入账并分配给出资人。"""
    from redress.admin import fund, recovery

    with session(db) as s:
        e = recovery.record_recovery(s, actor, case_id, party_id, _fen(amount, "--amount"), _date(on), ref)
        key = e.key
        shares = [(p.account.split(":", 1)[1], p.amount_fen) for p in
                  next(x for x in fund.entries(s, case_id) if x.key == key).postings if p.amount_fen > 0]
    out.print(f"Booked {key} / 已入账: " + ", ".join(f"{p} {yuan(fen)}" for p, fen in shares), highlight=False)


@recovery_app.command("report")
def report(case_id: CaseId, db: Db = None) -> None:
    """Per liable party: share, claim, expected, recovered, outstanding, latest step / 追偿情况。"""
    from redress.admin import recovery

    with session(db) as s:
        rows = recovery.report(s, case_id)
        received = recovery.received_by_payer(s, case_id)
    t = Table(title=f"Recourse / 追偿情况 {case_id}", title_justify="left")
    t.add_column("party 责任方")
    for c in ("share 份额", "claim 可追偿", "expected 预计收回", "recovered 已收回", "outstanding 未收回"):
        t.add_column(c, justify="right")
    t.add_column("latest step 最新进展")
    for r in rows:
        step = f"{r.latest_stage} {r.latest_on}" if r.latest_stage else "-"
        t.add_row(f"{r.party_id}" + ("" if r.solvent else " (insolvent 破产)"), f"{r.fault_share_bp / 100:.2f}%",
                  yuan(r.claim_fen), yuan(r.expected_fen), yuan(r.recovered_fen), yuan(r.outstanding_fen), step)
    t.add_row("total 合计", "", yuan(sum(r.claim_fen for r in rows)), yuan(sum(r.expected_fen for r in rows)),
              yuan(sum(r.recovered_fen for r in rows)), yuan(sum(r.outstanding_fen for r in rows)), "")
    out.print(t)
    if any(received.values()):
        out.print("Passed on to payers / 已支付给出资人: "
                  + ", ".join(f"{p} {yuan(fen)}" for p, fen in sorted(received.items())), highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(recovery_app)


__all__ = ["recovery_app", "register"]
