"""Commands for hearings, recourse and fair funds: the verifiable lot, the payers' recourse, distributions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from redress.money import parse_yuan, yuan
from redress.cli import admin as admin_cli
from redress.ids import BadId, IdKind, check

out = Console()
err = Console(stderr=True)

hearing_app = typer.Typer(name="hearing", help="Hearings on the plan: commitments and verifiable lots / 听证抽签",
                          no_args_is_help=True)
recourse_app = typer.Typer(name="recourse", help="The payers' recourse against the liable parties / 追偿",
                           no_args_is_help=True)
fairfund_app = typer.Typer(name="fairfund", help="Fair funds from fines and confiscated gains / 公平基金",
                           no_args_is_help=True)
CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False)]


def _refuse(message: str) -> typer.Exit:
    err.print(f"[bold red]Refused / 未执行:[/] {escape(message)}", highlight=False)
    return typer.Exit(2)


def _id(kind: IdKind, path: Path, line: int, value: str) -> str:
    """An identifier of an input file, checked against ``redress.ids`` (refused naming file and line)."""
    try:
        return check(kind, value.strip())
    except BadId as exc:
        raise _refuse(f"{path.name}:{line}: {exc}") from None


def _rows(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """The rows of an input CSV with their line numbers (the same reader as the fund's input files)."""
    from redress.admin.errors import BadInput
    from redress.admin.fund import read_csv

    try:
        return read_csv(path, path.read_bytes(), required)
    except BadInput as exc:
        raise _refuse(str(exc)) from None


def _fen(path: Path, line: int, text: str, column: str) -> int:
    try:
        return parse_yuan(text or "0")
    except ValueError as exc:
        raise _refuse(f"{path.name}:{line}: {column}: {exc}") from None


# -- hearings ------------------------------------------------------------------------------------------------

@hearing_app.command("commit")
def hearing_commit(seed: Annotated[str, typer.Argument(help="The secret seed (at least 32 characters)")]) -> None:
    """Print the commitment (SHA-256) to publish before applications close / 公布种子承诺值。"""
    from redress.hearing import LotteryError, commitment

    try:
        out.print(commitment(seed), highlight=False)
    except LotteryError as exc:
        raise _refuse(str(exc)) from None


@hearing_app.command("draw")
def hearing_draw(applicants: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                            help="One applicant id per line")],
                 seats: Annotated[int, typer.Option("--seats")],
                 seed: Annotated[str, typer.Option("--seed", help="The revealed seed")],
                 purpose: Annotated[str, typer.Option("--purpose")] = "",
                 commitment_hex: Annotated[str | None, typer.Option("--commitment",
                                                                    help="Check the seed against it first")] = None,
                 out_file: Annotated[Path | None, typer.Option("--out", help="Write the published record")] = None
                 ) -> None:
    """Draw seats by lot, reproducibly: rank = SHA-256(seed, applicant) / 抽签。"""
    from redress.hearing import LotteryError, check_reveal, draw

    names = [line.strip() for line in applicants.read_text(encoding="utf-8").splitlines() if line.strip()]
    if commitment_hex is not None and not check_reveal(commitment_hex, seed):
        raise _refuse("the seed does not match the published commitment / 种子与承诺值不符")
    try:
        record = draw(names, seats, seed, purpose=purpose)
    except LotteryError as exc:
        raise _refuse(str(exc)) from None
    if out_file:
        out_file.write_text(record.as_json() + "\n", encoding="utf-8")
    t = Table(title=f"Draw / 抽签结果: {seats} of {len(names)} ({record.algorithm})", title_justify="left")
    for c in ("rank", "applicant 申请人", "ticket SHA-256", "seat 当选"):
        t.add_column(c)
    for ticket in record.tickets:
        t.add_row(str(ticket.rank), ticket.applicant_id, ticket.ticket_sha256[:16] + "…",
                  "yes 是" if ticket.applicant_id in record.winners else "")
    out.print(t)


@hearing_app.command("verify")
def hearing_verify(record_file: CsvFile) -> None:
    """Recompute a published draw record; exit 1 if it does not hold / 核验抽签记录。"""
    from redress.hearing import Draw, LotteryError, verify

    try:
        record = Draw.from_json(record_file.read_text(encoding="utf-8"))
    except LotteryError as exc:
        raise _refuse(str(exc)) from None
    if verify(record):
        out.print(f"The draw holds: winners {', '.join(record.winners)} / 抽签记录核验一致", highlight=False)
        return
    err.print("[bold red]The draw does not hold / 抽签记录不一致[/]")
    raise typer.Exit(1)


def _names(path: Path | None) -> list[str]:
    if path is None:
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@hearing_app.command("open")
def hearing_open(case_id: Annotated[str, typer.Argument(help="Case id")],
                 organiser: Annotated[str, typer.Option("--organiser", help="Who presides (not a payer or investor)")],
                 commitment_hex: Annotated[str, typer.Option("--commitment", help="SHA-256 of the seed, published "
                                                             "now (`redress hearing commit SEED`)")],
                 on: Annotated[str | None, typer.Option("--on")] = None,
                 months: Annotated[int, typer.Option("--months", help="Time limit of the procedure")] = 3,
                 db: admin_cli.Db = None, actor: admin_cli.Actor = "admin") -> None:
    """Open a hearing on the plan / 启动听证。"""
    from redress.admin import hearings

    with admin_cli.session(db) as s:
        h = hearings.open_hearing(s, actor, case_id, organiser, [], admin_cli._date(on), commitment_hex, months)
        deadline = hearings.procedure(h).deadline
    out.print(f"Hearing {h.id} open; it must finish by {deadline} / 听证已启动，最迟于 {deadline} 结束",
              highlight=False)


@hearing_app.command("plan")
def hearing_plan(hearing_id: int,
                 plan: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                      help="A plan file ([plan] table, as for `redress compare`)")],
                 label: Annotated[str, typer.Option("--label", help="The plan's name at the hearing (e.g. A)")],
                 proposed_by: Annotated[str, typer.Option("--proposed-by", help="Who proposes it")],
                 case_dir: Annotated[Path | None, typer.Option("--case-dir", exists=True, file_okay=False,
                                                               help="The case directory, if none is on record")] = None,
                 on: Annotated[str | None, typer.Option("--on")] = None,
                 db: admin_cli.Db = None, actor: admin_cli.Actor = "admin") -> None:
    """Put a plan to the hearing (checked against the case, stored with its hash) / 提交听证方案。"""
    from redress.admin import hearings

    with admin_cli.session(db) as s:
        row = hearings.add_plan(s, actor, hearing_id, label, plan.read_text(encoding="utf-8"), proposed_by,
                                admin_cli._date(on), case_dir)
        sha = row.sha256
    out.print(f"Plan {label!r} put to hearing {hearing_id} (sha256 {sha[:16]}…) / 方案已提交", highlight=False)


@hearing_app.command("compare")
def hearing_compare(hearing_id: int,
                    case_dir: Annotated[Path | None, typer.Option("--case-dir", exists=True, file_okay=False,
                                                                  help="The case directory, if none is on record")]
                    = None,
                    on: Annotated[str | None, typer.Option("--on")] = None,
                    db: admin_cli.Db = None, actor: admin_cli.Actor = "admin") -> None:
    """Compute the plans under discussion side by side and publish the comparison with the hearing
    / 计算并公布各方案对比。"""
    import polars as pl

    from redress.admin import hearings
    from redress.cli.render import render_comparison

    with admin_cli.session(db) as s:
        with out.status("Computing the plans / 正在计算各方案") as status:
            row = hearings.publish_comparison(s, actor, hearing_id, admin_cli._date(on), case_dir,
                                              progress=lambda what: status.update(f"{what} …"))
        table = json.loads(row.table_json)
    render_comparison(out, pl.DataFrame(table), f"hearing {hearing_id}")
    out.print("Gainers and losers are counted against the case's own plan / 增减人数以案件方案为基准。")


@hearing_app.command("panel")
def hearing_panel(hearing_id: int,
                  payer_side: Annotated[list[str], typer.Option("--payer", help="A payer-side member (repeat)")],
                  representatives: Annotated[Path, typer.Option("--representatives", exists=True, dir_okay=False,
                                                                help="Applicants for representative seats")],
                  lawyers: Annotated[Path | None, typer.Option("--lawyers", exists=True, dir_okay=False,
                                                               help="Applicants for lawyer seats")] = None,
                  lawyer_seats: Annotated[int, typer.Option("--lawyer-seats")] = 0,
                  seed: Annotated[str | None, typer.Option("--seed", help="The revealed seed (for a lot)")] = None,
                  agreed: Annotated[list[str] | None, typer.Option("--agreed", help="Seats agreed by the applicants "
                                                                   "(repeat); without it, by lot")] = None,
                  db: admin_cli.Db = None, actor: admin_cli.Actor = "admin") -> None:
    """Seat a balanced panel; the investor side by agreement or by verifiable lot / 组成听证小组。"""
    from redress.admin import hearings

    with admin_cli.session(db) as s:
        seated = hearings.form(s, actor, hearing_id, payer_side, _names(representatives), _names(lawyers),
                               lawyer_seats, seed, agreed or None)
        rows = [(m.person, m.side, m.selected_by) for m in seated]
    t = Table(title=f"Panel of hearing {hearing_id} / 听证小组", title_justify="left")
    for c in ("member 成员", "side 方", "chosen by 产生方式"):
        t.add_column(c)
    for r in rows:
        t.add_row(*r)
    out.print(t)


@hearing_app.command("decide")
def hearing_decide(hearing_id: int,
                   minutes: Annotated[Path, typer.Option("--minutes", exists=True, dir_okay=False)],
                   decision: Annotated[str, typer.Option("--decision")],
                   on: Annotated[str | None, typer.Option("--on")] = None,
                   db: admin_cli.Db = None, actor: admin_cli.Actor = "admin") -> None:
    """Record the minutes and the decision; they appear on the case's public page / 记录听证结论。"""
    from redress.admin import hearings

    with admin_cli.session(db) as s:
        hearings.decide(s, actor, hearing_id, minutes.read_text(encoding="utf-8"), decision, admin_cli._date(on))
    out.print(f"Hearing {hearing_id} decided / 听证已结束", highlight=False)


# -- recourse ------------------------------------------------------------------------------------------------

@recourse_app.command("compute")
def recourse_compute(parties: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
        "CSV party_id,name,kind,fault_share_bp[,solvent,recovery_rate_bp]"))],
        payments: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
            "CSV payer_id,paid[,party_id]: amount paid to investors (yuan); party_id if the payer is itself liable"))],
        as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What each payer may recover from each liable party, and what each party bears / 追偿计算。"""
    from redress.recovery import LiableParty, Payment, RecourseError, recourse_claims

    try:
        liable = []
        for line, row in _rows(parties, ["party_id", "name", "kind", "fault_share_bp"]):
            solvent = (row.get("solvent") or "true").strip().lower() not in ("false", "no", "0")
            rate = int(row.get("recovery_rate_bp") or 10000)
            liable.append(LiableParty(_id(IdKind.PARTY, parties, line, row["party_id"]), row["name"],
                                      row["kind"].strip(),
                                      int(row["fault_share_bp"]), solvent, rate))
        paid, own = [], {}
        for line, row in _rows(payments, ["payer_id", "paid"]):
            payer = _id(IdKind.PAYER, payments, line, row["payer_id"])
            paid.append(Payment(payer, _fen(payments, line, row["paid"], "paid")))
            own[payer] = (row.get("party_id") or "").strip() or None
        plan = recourse_claims(paid, liable, own)
    except (RecourseError, ValueError) as exc:
        raise _refuse(str(exc)) from None
    if as_json:
        body = {"payers": [{"payer_id": p.payer_id, "paid_fen": p.paid_fen, "own_share_fen": p.own_share_fen,
                            "recoverable_fen": p.recoverable_fen, "unrecoverable_fen": p.unrecoverable_fen,
                            "claims": [{"against": c.against_party_id, "amount_fen": c.amount_fen,
                                        "expected_fen": c.expected_fen} for c in p.claims]} for p in plan.payers],
                "parties": [{"party_id": b.party_id, "total_fen": b.total_fen} for b in plan.burdens]}
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    t = Table(title="Recourse claims / 追偿请求", title_justify="left")
    for c in ("payer 出资人", "against 被追偿方", "claim 请求金额", "expected 预计可收回"):
        t.add_column(c, justify="right" if c[0] in "ce" else "left")
    for p in plan.payers:
        for c in p.claims:
            t.add_row(p.payer_id, c.against_party_id, yuan(c.amount_fen, grouping=True),
                      yuan(c.expected_fen, grouping=True))
    out.print(t)
    out.print(plan.explain(), highlight=False)


# -- fair funds ----------------------------------------------------------------------------------------------

@fairfund_app.command("distribute")
def fairfund_distribute(eligible: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
        "CSV investor_id,loss[,advance_paid] in yuan (loss: the engine's compensation)"))],
        available: Annotated[list[str], typer.Option("--available", help="Money for a round, yuan (repeat for "
                                                                        "later rounds)")],
        minimum: Annotated[str, typer.Option("--minimum", help="De minimis payment, yuan")] = "0",
        residual_to: Annotated[str, typer.Option("--residual-to")] = "investor protection fund",
        withhold: Annotated[bool, typer.Option("--withhold-below-minimum", help="Keep small shares as residual "
                                               "instead of spreading them over the others")] = False,
        out_file: Annotated[Path | None, typer.Option("--out", help="Write every investor's payments (CSV)")] = None
        ) -> None:
    """Distribute a fair fund in rounds: net of advance compensation, pro rata when short / 公平基金分配。"""
    from redress.fairfund import Eligible, FairFundError, FairFundPlan, cumulative_payments, rounds

    try:
        people = [Eligible(_id(IdKind.INVESTOR, eligible, line, row["investor_id"]),
                           _fen(eligible, line, row["loss"], "loss"),
                           _fen(eligible, line, row.get("advance_paid") or "0", "advance_paid"))
                  for line, row in _rows(eligible, ["investor_id", "loss"])]
        plan = FairFundPlan(admin_cli._fen(minimum, "--minimum"), residual_to,
                            redistribute_below_minimum=not withhold)
        history = rounds(plan, people, [admin_cli._fen(a, "--available") for a in available])
    except (FairFundError, ValueError) as exc:
        raise _refuse(str(exc)) from None
    t = Table(title="Fair fund rounds / 公平基金分配轮次", title_justify="left")
    for c in ("round 轮次", "available 可分配", "paid 已付", "investors paid 人数", "below minimum 低于起付",
              "residual 余额", "to 去向"):
        t.add_column(c)
    for r in history:
        t.add_row(str(r.number), yuan(r.available_fen, grouping=True), yuan(r.paid_fen, grouping=True),
                  f"{sum(1 for v in r.payments.values() if v):,}", f"{len(r.below_minimum):,}",
                  yuan(r.residual_fen, grouping=True), r.residual_destination)
    out.print(t)
    if out_file:
        total = cumulative_payments(history)
        from redress import exports

        exports.write_csv(out_file, ["investor_id", *[f"round_{r.number}" for r in history], "total"],
                          [[inv, *[yuan(r.payments.get(inv, 0)) for r in history], yuan(total[inv])]
                           for inv in sorted(total)])
        out.print(f"Payments written to {out_file}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(hearing_app)
    app.add_typer(recourse_app)
    app.add_typer(fairfund_app)
