"""Case administration commands: the database, users, cases, the fund, the plan, claims, payments, approvals
and the audit log.  Every command runs in one transaction: it commits all of its work or none of it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from redress.admin.errors import AdminError
from redress.money import parse_yuan, yuan
from redress.errors import CaseError

out = Console()
err = Console(stderr=True)

Db = Annotated[str | None, typer.Option("--db", envvar="REDRESS_DATABASE_URL", show_envvar=True,
                                        help="Database URL (default: SQLite file redress.sqlite3 here) / 数据库")]
Actor = Annotated[str, typer.Option("--as", "-u", envvar="REDRESS_USER", show_envvar=True,
                                    help="Who is acting (a user name) / 操作人")]
CaseId = Annotated[str, typer.Argument(help="Case id / 案件编号")]
On = Annotated[str | None, typer.Option("--on", help="Date it happened, YYYY-MM-DD (default today) / 日期")]


def _date(text: str | None, what: str = "--on", kind: str = "event"):
    """A date option (default today) in the range of its kind (``cases.DateKind``: ``event``, ``plan``)."""
    import datetime as dt

    from redress.admin.cases import DateKind, parse_date

    if text is None:
        return dt.date.today()
    try:
        return parse_date(text, what, DateKind(kind))
    except AdminError as exc:
        err.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(2) from None


def protection_date(text: str | None, what: str = "--on"):
    """A date option of the protection fund's commands: up to five years ahead (maturities and schedules are
    booked ahead), as the protection fund's books allow."""
    return _date(text, what, "plan")


def _fen(text: str, what: str) -> int:
    try:
        return parse_yuan(text)
    except ValueError as exc:
        err.print(f"[red]{escape(what)}: {escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(2) from None


@contextmanager
def session(db: str | None) -> Iterator[Any]:
    """One unit of work; a refused operation is reported and changes nothing."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    from redress.store.db import make_engine, unit_of_work

    engine = make_engine(db)
    try:
        with unit_of_work(engine) as s:
            yield s
    except AdminError as exc:
        err.print(f"[bold red]Refused / 操作未执行:[/] {escape(str(exc))}", highlight=False, markup=True)
        if exc.hint:
            err.print(exc.hint, highlight=False, markup=False)
        raise typer.Exit(2) from None
    except CaseError as exc:
        err.print("[bold red]Refused / 操作未执行:[/] the case directory has problems")
        for p in exc.problems[:50]:
            err.print(f"  {p}", highlight=False, markup=False)
        raise typer.Exit(2) from None
    except IntegrityError as exc:
        err.print(f"[bold red]Refused by the database / 数据库拒绝:[/] {escape(str(exc.orig))}", highlight=False)
        raise typer.Exit(2) from None
    except OperationalError as exc:
        msg = str(exc.orig)
        if "no such table" in msg or "does not exist" in msg:
            err.print("[bold red]The database has no Redress tables yet.[/] Run `redress db init --admin NAME` first "
                      "/ 请先初始化数据库", highlight=False)
        else:
            err.print(f"[bold red]Database error / 数据库错误:[/] {escape(msg)}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def _table(*columns: str) -> Table:
    t = Table()
    for c in columns:
        t.add_column(c)
    return t


def _sub(name: str, help_text: str) -> typer.Typer:
    return typer.Typer(name=name, help=help_text, no_args_is_help=True, rich_markup_mode="rich")


db_app = _sub("db", "The database: create or upgrade the schema / 数据库")
user_app = _sub("user", "Users and their roles / 用户")
case_app = _sub("case", "Cases and their lifecycle / 案件")
payer_app = _sub("payer", "Payers of the special fund / 出资人")
fund_app = _sub("fund", "The special fund's books / 专项基金账务")
plan_app = _sub("plan", "The compensation plan and the settlement agreement / 赔付方案与和解协议")
approval_app = _sub("approval", "Maker-checker approvals / 复核")
claims_app = _sub("claims", "Claims, decisions and deadlines / 申报与确认")
pay_app = _sub("pay", "Payment batches, results and reconciliation / 划付")
audit_app = _sub("audit", "The tamper-evident audit log / 审计日志")
APPS = [db_app, user_app, case_app, payer_app, fund_app, plan_app, approval_app, claims_app, pay_app, audit_app]


# -- db, users -----------------------------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade(db: Db = None) -> None:
    """Create the tables, or bring them up to date (Alembic migrations) / 建表或升级。"""
    from redress.store.db import database_url, make_engine, migrate

    engine = make_engine(db)
    migrate(engine)
    out.print(f"Schema up to date / 数据库已是最新: {_safe(database_url(db))}", highlight=False)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("init")
def db_init(db: Db = None,
            admin: Annotated[str, typer.Option("--admin", help="Name of the first user (all staff roles)")] = "admin",
            display: Annotated[str, typer.Option("--display-name")] = "Administrator",
            password: Annotated[bool, typer.Option("--password", help="Ask for the first user's web password")] = False
            ) -> None:
    """Create the schema and the first user / 初始化数据库与首个用户。"""
    from redress.admin import cases
    from redress.store import audit
    from redress.store.db import make_engine, migrate

    secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    migrate(make_engine(db))
    with session(db) as s:
        key = audit.ensure_key(s, admin)         # the audit log is keyed from its first event
        cases.bootstrap(s, admin, display, secret)
    out.print(f"Database ready; first user {admin!r} / 数据库已初始化", highlight=False)
    out.print(f"Audit key {key.key.id} {'created in' if key.created else 'taken from'} {key.path} (owner-only): "
              f"back it up apart from the database; without it the audit log can be neither verified nor written "
              f"/ 审计密钥文件，请另行备份", highlight=False)


@user_app.command("add")
def user_add(name: Annotated[str, typer.Argument(help="Login name")],
             role: Annotated[list[str], typer.Option("--role", help="operator | approver | auditor | "
                                                     "investor_service | investor | payer (repeat for several)")],
             display: Annotated[str, typer.Option("--display-name")] = "",
             investor_id: Annotated[str | None, typer.Option("--investor-id", help="For an investor: whose claims "
                                                             "they see / 投资者证件号")] = None,
             payer: Annotated[str | None, typer.Option("--payer", help="For a payer user: CASE:PAYER_ID")] = None,
             password: Annotated[bool, typer.Option("--password", help="Ask for a password (needed to sign in "
                                                    "on the web) / 设置登录密码")] = False,
             db: Db = None, actor: Actor = "admin") -> None:
    """Add a user with roles.  Approvals need an approver other than the maker / 添加用户。"""
    from redress.admin import cases

    secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    payer_case, payer_id = (payer.split(":", 1) if payer and ":" in payer else (None, payer))
    with session(db) as s:
        cases.add_user(s, actor, name, display or name, role, secret, investor_id=investor_id,
                       payer_case_id=payer_case, payer_id=payer_id)
    out.print(f"User {name} added with roles {', '.join(role)}", highlight=False)


@user_app.command("unlock")
def user_unlock(name: Annotated[str, typer.Argument(help="Login name")], db: Db = None,
                actor: Actor = "admin") -> None:
    """Lift a user's web sign-in lock-outs (after repeated wrong passwords) / 解除登录锁定。"""
    from redress.web import security

    with session(db) as s:
        security.unlock(s, actor, name)
    out.print(f"User {name} may sign in again / 已解除锁定", highlight=False)


# -- cases, payers -------------------------------------------------------------------------------------------

@case_app.command("create")
def case_create(case_id: CaseId, name: Annotated[str, typer.Option("--name", help="Case name / 案件名称")],
                custodian: Annotated[str | None, typer.Option("--custodian", help="Custodian bank / 托管银行")] = None,
                db: Db = None, actor: Actor = "admin") -> None:
    """Register a case (state draft) / 立案。"""
    from redress.admin import cases

    with session(db) as s:
        cases.create_case(s, actor, case_id, name, custodian)
    out.print(f"Case {case_id} created (draft) / 案件已创建", highlight=False)


@case_app.command("list")
def case_list(db: Db = None) -> None:
    """Every case with its state / 案件列表。"""
    from sqlalchemy import select

    from redress.claims.lifecycle import CaseState
    from redress.store.models import Case

    with session(db) as s:
        t = _table("case 案件", "name 名称", "state 状态", "deadline 截止日")
        for c in s.execute(select(Case).order_by(Case.id)).scalars():
            t.add_row(c.id, c.name, f"{c.state} {CaseState(c.state).label_zh}", str(c.deadline or ""))
        out.print(t)


@case_app.command("show")
def case_show(case_id: CaseId, db: Db = None) -> None:
    """State, key dates, payers, participation, pending approvals and the fund statement / 案件概况。"""
    from redress.admin import cases, claims, fund
    from redress.claims.lifecycle import CaseState
    from redress.cli.admin_render import render_participation, render_statement

    with session(db) as s:
        c = cases.get_case(s, case_id)
        out.print(f"[bold]{escape(c.name)}[/] ({c.id}) · {c.state} {CaseState(c.state).label_zh}", highlight=False)
        if c.plan_sha256:
            out.print(f"plan 方案 {c.plan_sha256[:12]} · results 结果 {c.results_sha256[:12]} · claims open "
                      f"{c.claims_open_on} · deadline 截止 {c.deadline}"
                      + (f" · late window until {c.late_window_until}" if c.late_window_until else ""), highlight=False)
        for p in cases.payers(s, case_id):
            out.print(f"payer 出资人 {p.payer_id}: {p.name} ({p.role}), committed {yuan(p.committed_fen, grouping=True)}",
                      highlight=False, markup=False)
        for ap in cases.pending_approvals(s, case_id):
            out.print(f"[yellow]waiting for approval 待复核: #{ap.id} {ap.action} {ap.subject} by {ap.requested_by}[/]",
                      highlight=False)
        render_statement(out, fund.statement(s, case_id), case_id)
        p = claims.participation(s, case_id)
        if p.claims:
            render_participation(out, p)


@case_app.command("history")
def case_history(case_id: CaseId, db: Db = None) -> None:
    """Every lifecycle transition with actor, time and reason / 状态变更记录。"""
    from sqlalchemy import select

    from redress.store.models import Transition

    with session(db) as s:
        t = Table()
        t.add_column("at (UTC) 时间", no_wrap=True, min_width=16)
        t.add_column("from", no_wrap=True, min_width=17)
        t.add_column("to", no_wrap=True, min_width=17)
        t.add_column("actor 操作人")
        t.add_column("reason 原因")
        for tr in s.execute(select(Transition).where(Transition.case_id == case_id).order_by(Transition.id)).scalars():
            t.add_row(tr.at[:16].replace("T", " "), tr.from_state, tr.to_state, tr.actor, tr.reason)
        out.print(t)


@case_app.command("close")
def case_close(case_id: CaseId, reason: Annotated[str, typer.Option("--reason")] = "books closed",
               db: Db = None, actor: Actor = "admin") -> None:
    """Close a liquidated case: the trust account must be empty and the audit log must verify / 结案。"""
    from redress.admin import payments

    with session(db) as s:
        payments.close_case(s, actor, case_id, reason)
    out.print(f"Case {case_id} closed / 已结案", highlight=False)


@payer_app.command("add")
def payer_add(case_id: CaseId, payer_id: Annotated[str, typer.Argument(help="Short id, e.g. sponsor")],
              name: Annotated[str, typer.Option("--name")],
              role: Annotated[str, typer.Option("--role", help="sponsor | controlling_shareholder | "
                                                "actual_controller | auditor | law_firm | asset_appraiser | other")],
              committed: Annotated[str, typer.Option("--committed", help="Committed amount, yuan / 承诺出资")] = "0",
              db: Db = None, actor: Actor = "admin") -> None:
    """Name a payer of the special fund / 添加出资人。"""
    from redress.admin import cases

    with session(db) as s:
        cases.add_payer(s, actor, case_id, payer_id, name, role, _fen(committed, "--committed"))
    out.print(f"Payer {payer_id} added to {case_id}", highlight=False)


# -- the fund ------------------------------------------------------------------------------------------------

Amount = Annotated[str, typer.Option("--amount", help="Yuan, at most two decimals / 金额（元）")]
Ref = Annotated[str, typer.Option("--ref", help="Bank reference: the idempotency key / 银行流水号")]


@fund_app.command("contribute")
def fund_contribute(case_id: CaseId, payer: Annotated[str, typer.Option("--payer")], amount: Amount, ref: Ref,
                    on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record money a payer paid into the trust account.  The same --ref again changes nothing / 出资入账。"""
    from redress.admin import fund

    with session(db) as s:
        e = fund.contribute(s, actor, case_id, payer, _fen(amount, "--amount"), _date(on), ref)
    out.print(f"Booked {e.key} / 已入账", highlight=False, markup=False)


@fund_app.command("establish")
def fund_establish(case_id: CaseId, db: Db = None, actor: Actor = "admin") -> None:
    """Declare the special fund established (money has arrived) / 基金设立。"""
    from redress.admin import fund

    with session(db) as s:
        fund.establish(s, actor, case_id)
    out.print(f"Case {case_id}: fund established / 基金已设立", highlight=False)


@fund_app.command("interest")
def fund_interest(case_id: CaseId, amount: Amount, ref: Ref, on: On = None, db: Db = None,
                  actor: Actor = "admin") -> None:
    """Record interest the bank credited (it belongs to investors) / 利息入账。"""
    from redress.admin import fund

    with session(db) as s:
        e = fund.interest(s, actor, case_id, _fen(amount, "--amount"), _date(on), ref)
    out.print(f"Booked {e.key}", highlight=False, markup=False)


@fund_app.command("fee")
def fund_fee(case_id: CaseId, amount: Amount, ref: Ref, memo: Annotated[str, typer.Option("--memo")],
             on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record a bank or custody fee paid from the fund / 费用。"""
    from redress.admin import fund

    with session(db) as s:
        e = fund.fee(s, actor, case_id, _fen(amount, "--amount"), _date(on), ref, memo)
    out.print(f"Booked {e.key}", highlight=False, markup=False)


@fund_app.command("reverse")
def fund_reverse(case_id: CaseId, key: Annotated[str, typer.Argument(help="Key of the entry to reverse")],
                 reason: Annotated[str, typer.Option("--reason")], on: On = None, db: Db = None,
                 actor: Actor = "admin") -> None:
    """Propose correcting a contribution, interest or fee entry with a reversing entry; a second person
    approves it / 冲正（须复核）。"""
    from redress.admin import fund
    from redress.money import yuan

    with session(db) as s:
        ap = fund.propose_reversal(s, actor, case_id, key, _date(on), reason)
        change = fund.payload(ap)["trust_cash_change_fen"]
    out.print(f"Reversal of {key} ({'+' if change > 0 else ''}{yuan(change, grouping=True)} yuan to the trust "
              f"account) is waiting for a second person: `redress approval approve {ap.id}` / 冲正待复核",
              highlight=False)


@fund_app.command("bank-statement")
def fund_bank_statement(case_id: CaseId, file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
                        db: Db = None, actor: Actor = "admin") -> None:
    """Check a bank statement (CSV date,balance[,reference]) against the books / 银行对账。"""
    from redress.admin import fund

    with session(db) as s:
        checks = fund.import_bank_statement(s, actor, case_id, file)
    out.print(f"{len(checks)} balance(s) agree with the books / 余额相符" if checks
              else "Already imported; nothing changed / 已导入过，未作改动", highlight=False)


@fund_app.command("statement")
def fund_statement(case_id: CaseId, as_json: Annotated[bool, typer.Option("--json")] = False, db: Db = None) -> None:
    """The fund statement: sources, uses, what is held and the surplus / 基金收支表。"""
    import dataclasses

    from redress.admin import fund
    from redress.cli.admin_render import render_statement

    with session(db) as s:
        st = fund.statement(s, case_id)
    if as_json:
        sys.stdout.write(json.dumps({**dataclasses.asdict(st), "surplus_fen": st.surplus_fen,
                                     "paid_out_fen": st.paid_out_fen}, ensure_ascii=False, indent=2) + "\n")
        return
    render_statement(out, st, case_id)


@fund_app.command("trial-balance")
def fund_trial(case_id: CaseId, db: Db = None) -> None:
    """Trial balance: every account's balance, debits equal credits / 试算平衡表。"""
    from redress.admin import fund
    from redress.cli.admin_render import render_trial

    with session(db) as s:
        render_trial(out, fund.trial(s, case_id))


@fund_app.command("entries")
def fund_entries(case_id: CaseId, db: Db = None) -> None:
    """Every journal entry with its postings / 分录。"""
    from redress.admin import fund

    with session(db) as s:
        t = _table("booked 日期", "key", "kind", "account 科目", "debit 借", "credit 贷")
        for e in fund.entries(s, case_id):
            for i, p in enumerate(e.postings):
                t.add_row(str(e.booked_on) if i == 0 else "", e.key if i == 0 else "", e.kind if i == 0 else "",
                          p.account, yuan(p.amount_fen, grouping=True) if p.amount_fen > 0 else "",
                          yuan(-p.amount_fen, grouping=True) if p.amount_fen < 0 else "")
        out.print(t)


# -- the plan, approvals -------------------------------------------------------------------------------------

@plan_app.command("propose")
def plan_propose(case_id: CaseId,
                 case_dir: Annotated[Path, typer.Option("--case-dir", exists=True, file_okay=False)],
                 results: Annotated[Path, typer.Option("--results", exists=True, dir_okay=False,
                                                       help="Output of `redress compute`")],
                 open_on: Annotated[str, typer.Option("--open-on", help="Claims open on / 申报开始日")],
                 deadline: Annotated[str, typer.Option("--deadline", help="Claims deadline / 申报截止日")],
                 recompute: Annotated[bool, typer.Option(help="Recompute and check the results match")] = True,
                 db: Db = None, actor: Actor = "admin") -> None:
    """Propose the plan (case.toml, results, dates) for a second person's approval / 提交赔付方案。"""
    from redress.admin import claims

    with session(db) as s:
        ap = claims.propose_plan(s, actor, case_id, case_dir, results, _date(open_on, "--open-on", "plan"),
                                 _date(deadline, "--deadline", "plan"), recompute=recompute)
        body = json.loads(ap.payload)
    out.print(f"Approval request #{ap.id}: {body['investors']:,} investors, {yuan(body['offered_fen'], grouping=True)}"
              f" yuan. A second person approves with `redress approval approve {ap.id}` / 待复核", highlight=False)


@plan_app.command("agreement")
def plan_agreement(case_id: CaseId, version: Annotated[str, typer.Option("--version")],
                   file: Annotated[Path, typer.Option("--file", exists=True, dir_okay=False)],
                   db: Db = None, actor: Actor = "admin") -> None:
    """Publish a version of the settlement agreement; acceptances cite its version and hash / 发布和解协议。"""
    from redress.admin import claims

    with session(db) as s:
        ag = claims.publish_agreement(s, actor, case_id, version, file.read_text(encoding="utf-8"))
    out.print(f"Agreement {version} published, sha256 {ag.sha256}", highlight=False, markup=False)


@approval_app.command("list")
def approval_list(case_id: CaseId, db: Db = None) -> None:
    """Requests waiting for a second person / 待复核事项。"""
    from redress.admin import approvals, cases

    with session(db) as s:
        t = _table("#", "action", "what it does 内容", "requested by 经办", "at")
        for ap in cases.pending_approvals(s, case_id):
            t.add_row(str(ap.id), ap.action, approvals.describe(ap), ap.requested_by, ap.requested_at[:19])
        out.print(t)


def _decide(approval_id: int, approve: bool, note: str, db: str | None, actor: str) -> None:
    from redress.admin import approvals
    from redress.store.models import Approval

    with session(db) as s:
        request = s.get(Approval, approval_id)
        what = approvals.describe(request) if request is not None else ""
        approvals.decide(s, actor, approval_id, approve, note)
    done = "approved and carried out / 已复核执行" if approve else "rejected, nothing done / 已退回"
    out.print(f"Request #{approval_id} {done}" + (f": {what}" if what else ""), highlight=False)


@approval_app.command("approve")
def approval_approve(approval_id: int, note: Annotated[str, typer.Option("--note")] = "", db: Db = None,
                     actor: Actor = "admin") -> None:
    """Approve a request made by someone else; it takes effect at once / 复核通过。"""
    _decide(approval_id, True, note, db, actor)


@approval_app.command("reject")
def approval_reject(approval_id: int, note: Annotated[str, typer.Option("--note", help="Why (required)")] = "",
                    db: Db = None, actor: Actor = "admin") -> None:
    """Reject a request, saying why with --note; what the maker prepared is released / 复核退回（须说明理由）。"""
    _decide(approval_id, False, note, db, actor)


# -- claims --------------------------------------------------------------------------------------------------

@claims_app.command("open")
def claims_open(case_id: CaseId, results: Annotated[Path, typer.Option("--results", exists=True, dir_okay=False)],
                db: Db = None, actor: Actor = "admin") -> None:
    """Load the approved results as one claim per investor and open claims / 开始申报。"""
    from redress.admin import claims

    with session(db) as s:
        n = claims.open_claims(s, actor, case_id, results)
    out.print(f"{n:,} claims offered / 已生成要约", highlight=False)


@claims_app.command("decide")
def claims_decide(case_id: CaseId, investor: Annotated[str, typer.Argument(help="Investor id")],
                  accept: Annotated[bool, typer.Option("--accept/--decline", help="Accept or decline the offer")],
                  key: Annotated[str, typer.Option("--key", help="Idempotency key from the channel")],
                  channel: Annotated[str, typer.Option("--channel")] = "counter",
                  agreement_version: Annotated[str | None, typer.Option("--agreement-version")] = None,
                  agreement_sha256: Annotated[str | None, typer.Option("--agreement-sha256")] = None,
                  on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Record one investor's decision / 记录投资者确认。"""
    from redress.admin import claims

    item = claims.DecisionInput(investor, "accept" if accept else "decline", _date(on), channel, key,
                                agreement_version, agreement_sha256)
    with session(db) as s:
        c = claims.decide(s, actor, case_id, item)
    out.print(f"{investor}: {c.status}", highlight=False, markup=False)


@claims_app.command("import")
def claims_import(case_id: CaseId, file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
                  db: Db = None, actor: Actor = "admin") -> None:
    """Import decisions collected by a channel (CSV investor_id,decision,decided_on,channel,key,
    agreement_version,agreement_sha256) / 批量导入确认。"""
    from redress.admin import claims

    with session(db) as s:
        n, again = claims.import_decisions(s, actor, case_id, file)
    out.print("Already imported; nothing changed / 已导入过" if again else f"{n:,} decisions recorded", highlight=False)


@claims_app.command("extend")
def claims_extend(case_id: CaseId, to: Annotated[str, typer.Option("--to")],
                  reason: Annotated[str, typer.Option("--reason")], db: Db = None, actor: Actor = "admin") -> None:
    """Extend the claims deadline (never shorten it) / 延长申报期。"""
    from redress.admin import claims

    with session(db) as s:
        claims.extend_deadline(s, actor, case_id, _date(to, "--to", "plan"), reason)
    out.print(f"Deadline extended to {to}", highlight=False)


@claims_app.command("close")
def claims_close(case_id: CaseId, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """After the deadline: unanswered offers lapse; a short fund is allocated pro rata / 申报截止。"""
    from redress.admin import claims

    with session(db) as s:
        res = claims.close_claims(s, actor, case_id, _date(on))
    out.print(", ".join(f"{k}: {yuan(v) if k.endswith('_fen') else v}" for k, v in res.items()), highlight=False)


@claims_app.command("reopen")
def claims_reopen(case_id: CaseId, until: Annotated[str, typer.Option("--until")],
                  reason: Annotated[str, typer.Option("--reason")], db: Db = None, actor: Actor = "admin") -> None:
    """Open a late window for investors whose offers lapsed / 补充申报。"""
    from redress.admin import claims

    with session(db) as s:
        n = claims.reopen_late_window(s, actor, case_id, _date(until, "--until", "plan"), reason)
    out.print(f"Late window open for {n:,} lapsed claims until {until}", highlight=False)


@claims_app.command("close-late")
def claims_close_late(case_id: CaseId, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Close the late window / 补充申报截止。"""
    from redress.admin import claims

    with session(db) as s:
        claims.close_late_window(s, actor, case_id, _date(on))
    out.print("Late window closed", highlight=False)


@claims_app.command("interest")
def claims_interest(case_id: CaseId, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Pass the fund's interest to accepting investors, pro rata to the fen / 分配利息。"""
    from redress.admin import claims

    with session(db) as s:
        res = claims.distribute_interest(s, actor, case_id, _date(on))
    out.print(f"{yuan(res['interest_fen'])} yuan of interest to {res['recipients']:,} investors", highlight=False)


@claims_app.command("show")
def claims_show(case_id: CaseId, investor: str, db: Db = None) -> None:
    """One investor's claim: offer, decisions, award, payments / 查询申报。"""
    from sqlalchemy import select

    from redress.admin import claims
    from redress.store.models import ClaimLine, Payment

    with session(db) as s:
        c = claims.claim_of(s, case_id, investor)
        out.print(f"[bold]{escape(investor)}[/] · {c.status} · offered {yuan(c.offered_fen, grouping=True)} · awarded "
                  f"{yuan(c.awarded_fen, grouping=True)} · interest {yuan(c.interest_fen)} · paid "
                  f"{yuan(c.paid_fen, grouping=True)}", highlight=False)
        for line in s.execute(select(ClaimLine).where(ClaimLine.claim_id == c.id)).scalars():
            out.print(f"  {line.security}: {line.status} net loss {yuan(line.net_loss_fen, grouping=True)} -> "
                      f"compensation {yuan(line.compensation_fen, grouping=True)}", highlight=False)
        for d in claims.decisions_for(s, c):
            out.print(f"  {d.decided_on} {d.decision} via {d.channel}"
                      + (f" agreement {d.agreement_version}" if d.agreement_version else ""), highlight=False,
                      markup=False)
        for p in s.execute(select(Payment).where(Payment.claim_id == c.id).order_by(Payment.id)).scalars():
            out.print(f"  payment {p.instruction_id}: {yuan(p.amount_fen)} {p.status}"
                      + (f" ({p.reason})" if p.reason else ""), highlight=False, markup=False)


@claims_app.command("participation")
def claims_participation(case_id: CaseId, db: Db = None) -> None:
    """How many accepted, declined and lapsed, and how much was paid / 参与情况。"""
    from redress.admin import claims
    from redress.cli.admin_render import render_participation

    with session(db) as s:
        render_participation(out, claims.participation(s, case_id))


# -- payments ------------------------------------------------------------------------------------------------

@pay_app.command("batch")
def pay_batch(case_id: CaseId, on: On = None, limit: Annotated[int | None, typer.Option("--limit")] = None,
              db: Db = None, actor: Actor = "admin") -> None:
    """Gather every accepted claim still owed (returned payments included) into a batch for approval / 生成批次。"""
    from redress.admin import payments

    with session(db) as s:
        ap = payments.propose_batch(s, actor, case_id, _date(on), limit)
        body = json.loads(ap.payload)
    out.print(f"Batch {body['batch']}: {body['count']:,} payments, {yuan(body['total_fen'], grouping=True)} yuan; "
              f"a second person releases it with `redress approval approve {ap.id}` / 待复核放行", highlight=False)


@pay_app.command("export")
def pay_export(case_id: CaseId, number: int, out_dir: Annotated[Path, typer.Option("--out")] = Path("."),
               db: Db = None, actor: Actor = "admin") -> None:
    """Write a released batch's instruction file and manifest for the clearing system / 导出划付指令。"""
    from redress.admin import payments

    with session(db) as s:
        path, manifest = payments.export_batch(s, actor, case_id, number, out_dir)
    out.print(f"Wrote {path} and {manifest}", highlight=False, markup=False)


@pay_app.command("import")
def pay_import(case_id: CaseId, file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
               db: Db = None, actor: Actor = "admin") -> None:
    """Apply a results file (instruction_id,status,amount,settled_on,reason): all or nothing, idempotent
    / 导入划付结果。"""
    from rich.progress import Progress

    from redress.admin import payments

    with Progress(console=err, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("applying results", total=None)
        with session(db) as s:
            rep = payments.import_results(s, actor, case_id, file, on_row=lambda i: bar.update(task, completed=i + 1))
    if rep.already_imported:
        out.print("Already imported; nothing changed / 已导入过，未作改动")
        return
    out.print(f"{rep.paid:,} paid ({yuan(rep.paid_fen, grouping=True)} yuan), {rep.returned:,} returned "
              f"({yuan(rep.returned_fen, grouping=True)} yuan), {rep.unchanged:,} already applied", highlight=False)
    for iid, reason in rep.returns[:20]:
        out.print(f"  returned 退回 {iid}: {reason}", highlight=False, markup=False)


@pay_app.command("reconcile")
def pay_reconcile(case_id: CaseId, db: Db = None) -> None:
    """Control accounts against claims and payments / 对账。"""
    from redress.admin import payments

    with session(db) as s:
        rec = payments.reconcile(s, case_id)
    t = Table(title="Reconciliation / 对账", title_justify="left")
    t.add_column("figure")
    t.add_column("yuan", justify="right")
    for k, v in rec.figures.items():
        t.add_row(k.removesuffix("_fen"), yuan(v, grouping=True))
    out.print(t)
    if rec.ok:
        out.print("Everything agrees / 账实相符")
    else:
        for p in rec.problems:
            err.print(f"[red]{p}[/]", highlight=False)
        raise typer.Exit(1)


@pay_app.command("complete")
def pay_complete(case_id: CaseId, db: Db = None, actor: Actor = "admin") -> None:
    """Declare payments complete (nothing owed, nothing in transit) / 赔付完成。"""
    from redress.admin import payments

    with session(db) as s:
        payments.complete_payments(s, actor, case_id)
    out.print("Payments complete / 赔付完成")


@pay_app.command("batches")
def pay_batches(case_id: CaseId, db: Db = None) -> None:
    """Every batch with its status / 批次列表。"""
    from redress.admin import payments

    with session(db) as s:
        t = _table("batch", "status", "count", "total (yuan)", "released", "file sha256")
        for b in payments.batches(s, case_id):
            t.add_row(str(b.number), b.status, f"{b.count:,}", yuan(b.total_fen, grouping=True), str(b.released_on or ""),
                      (b.file_sha256 or "")[:12])
        out.print(t)


@pay_app.command("return-surplus")
def pay_return_surplus(case_id: CaseId, on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Propose returning the surplus to payers in proportion to contributions (needs approval) / 返还剩余资金。"""
    from redress.admin import payments

    with session(db) as s:
        ap = payments.propose_surplus_return(s, actor, case_id, _date(on))
        body = json.loads(ap.payload)
    shares = ", ".join(f"{k} {yuan(v, grouping=True)}" for k, v in body["shares_fen"].items())
    out.print(f"Request #{ap.id}: return {yuan(body['surplus_fen'], grouping=True)} yuan ({shares}); a second person "
              f"approves with `redress approval approve {ap.id}`", highlight=False)


# -- audit ---------------------------------------------------------------------------------------------------

@audit_app.command("verify")
def audit_verify(db: Db = None,
                 checkpoint: Annotated[list[Path] | None, typer.Option(
                     "--checkpoint", help="A signed checkpoint (`redress audit checkpoint`) the log must still "
                                          "extend; repeat for several / 检查点文件")] = None,
                 key_file: Annotated[Path | None, typer.Option(
                     "--key-file", envvar="REDRESS_AUDIT_KEY_FILE", show_envvar=True,
                     help="The audit key file (default: next to a SQLite database, else "
                          "redress-data/audit-keys/) / 审计密钥文件")] = None) -> None:
    """Check the keyed hash chain, replay the books and the claims from it and compare them with the tables,
    and check that the log still extends each checkpoint given; exit 1 and say where if anything was edited,
    deleted or differs / 校验审计日志、账目与申报记录。"""
    from redress.store import audit

    with session(db) as s:
        checkpoints = tuple(audit.read_checkpoint(p) for p in checkpoint or ())
        v = audit.verify(s, key_path=key_file, checkpoints=checkpoints)
    for note in v.notes:
        out.print(f"Note / 说明: {note}", highlight=False, markup=False)
    if v.ok:
        keyed = (f"keyed with {', '.join(v.keys)} from event {v.keyed_from}" if v.keyed_from else "not keyed")
        out.print(f"Audit log intact: {v.events:,} events, head {v.head_seq}, {keyed}; the books ({v.entries:,} "
                  f"entries) and {v.claims:,} claims agree with it / 审计日志完整，账目与申报记录一致", highlight=False)
        for line in v.checkpoints:
            out.print(f"Checkpoint {line} / 与检查点一致", highlight=False, markup=False)
        return
    err.print(f"[bold red]Audit log broken / 审计日志被篡改:[/] {len(v.problems)} problem(s)")
    for p in v.problems[:50]:
        err.print(f"  {p}", highlight=False, markup=False)
    if len(v.problems) > 50:
        err.print(f"  ... and {len(v.problems) - 50} more")
    raise typer.Exit(1)


@audit_app.command("rotate-key")
def audit_rotate_key(db: Db = None, actor: Actor = "admin") -> None:
    """Make a new audit key and write the log with it from now on; the old keys stay in the key file, since
    old events must still verify.  A log that is not keyed yet is keyed / 更换审计密钥。"""
    from redress.admin import cases
    from redress.store import audit

    with session(db) as s:
        cases.require_user(s, actor, "operator")
        change = audit.rotate_key(s, actor)
    if change.adopted:
        out.print(f"The audit log is now keyed with {change.key.id}, kept in {change.path} (owner-only); back the "
                  f"file up apart from the database / 审计日志已启用密钥", highlight=False)
    else:
        out.print(f"Audit key rotated: {change.previous} -> {change.key.id}, both kept in {change.path} / "
                  f"审计密钥已更换", highlight=False)


@audit_app.command("checkpoint")
def audit_checkpoint(out_file: Annotated[Path, typer.Option("--out", help="Where to write the signed "
                                                                          "checkpoint (JSON)")],
                     db: Db = None, actor: Actor = "admin") -> None:
    """Sign where the audit log stands (head seq and hash) and what the books hold per case, for a regulator
    to keep; `audit verify --checkpoint FILE` later proves the log still extends it / 生成签名检查点。"""
    from redress.admin import cases
    from redress.store import audit
    from redress.store.audit_keys import fingerprint

    with session(db) as s:
        cases.require_user(s, actor)
        doc = audit.make_checkpoint(s, actor)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    head, sig = doc["checkpoint"]["head"], doc["signature"]
    out.print(f"Checkpoint at event {head['seq']} written to {out_file}, signed by {sig['key_id']} (Ed25519 public "
              f"key fingerprint {fingerprint(sig['public_key'])}). Give the file to the regulator and the "
              f"fingerprint by another channel / 检查点已签名", highlight=False)


@audit_app.command("log")
def audit_log(case_id: Annotated[str | None, typer.Option("--case")] = None,
              limit: Annotated[int, typer.Option("--limit")] = 50, db: Db = None) -> None:
    """The newest audit events / 审计日志。"""
    from sqlalchemy import select

    from redress.store.models import AuditEvent

    with session(db) as s:
        stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
        if case_id:
            stmt = stmt.where(AuditEvent.case_id == case_id)
        t = _table("seq", "at", "actor", "action", "subject")
        for ev in reversed(list(s.execute(stmt).scalars())):
            t.add_row(str(ev.seq), ev.at[:19], ev.actor, ev.action, ev.subject)
        out.print(t)


__all__: list[Callable[..., Any] | str] = ["register"]


def serve(host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port")] = 8000,
          demo: Annotated[bool, typer.Option("--demo", help="Load the sample case and create demo users "
                                                           "(their passwords are printed) / 演示数据")] = False,
          data_dir: Annotated[Path, typer.Option("--data-dir", help="Where uploaded case directories live")] =
          Path("redress-data"),
          insecure_cookies: Annotated[bool, typer.Option(
              "--insecure-cookies", help="Send the session cookie over plain HTTP (development only; browsers "
                                         "accept Secure cookies on localhost anyway)")] = False,
          trusted_proxy: Annotated[list[str] | None, typer.Option(
              "--trusted-proxy", envvar="REDRESS_TRUSTED_PROXIES", show_envvar=True,
              help="Address or network of a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are "
                   "believed (repeat for several; default: none, the headers are ignored) / 受信任的反向代理"
          )] = None,
          max_body_bytes: Annotated[int | None, typer.Option(
              "--max-body-bytes", envvar="REDRESS_MAX_BODY_BYTES", show_envvar=True, min=1,
              help="Largest request body of a signed-in user (default 1 MiB; 64 KiB before sign-in)")] = None,
          max_upload_bytes: Annotated[int | None, typer.Option(
              "--max-upload-bytes", envvar="REDRESS_MAX_UPLOAD_BYTES", show_envvar=True, min=1,
              help="Largest file an operator may upload (default 512 MiB)")] = None,
          smtp: Annotated[str | None, typer.Option(
              "--smtp", envvar="REDRESS_SMTP_URL", show_envvar=True,
              help="Mail server for investors' e-mails: "
                   "smtp://USER:PASSWORD@HOST:PORT?from=ADDR&starttls=1 (user and password optional)")] = None,
          sms_outbox: Annotated[Path | None, typer.Option(
              "--sms-outbox", envvar="REDRESS_SMS_OUTBOX", show_envvar=True, file_okay=False,
              help="Folder an SMS gateway collects text messages from (one JSON file each)")] = None,
          db: Db = None) -> None:
    """Start the web portal, console, public pages and HTTP API (docs at /api/docs) / 启动网站与接口。"""
    import uvicorn

    from redress.store.db import database_url, fresh_sqlite
    from redress.web.app import create_app

    url = database_url(db)
    if demo:
        from redress.web.demo import seed

        data_dir = data_dir if data_dir != Path("redress-data") else Path("redress-demo")
        data_dir.mkdir(parents=True, exist_ok=True)
        if db is None:
            url = fresh_sqlite(data_dir / "redress.sqlite3")
        users = seed(data_dir, url, say=lambda m: out.print(m, highlight=False))
        t = Table(title="Demo users / 演示用户 (passwords are new each start)", title_justify="left")
        for c in ("user 用户", "password 密码", "role 角色", "investor 投资者"):
            t.add_column(c)
        for u in users:
            t.add_row(u.name, u.password, u.roles, u.investor_id or "")
        out.print(t)
    proxies = [p for item in trusted_proxy or [] for p in item.split(",") if p.strip()]
    from redress.notify.channels import configured

    try:
        notifier = configured(smtp, sms_outbox)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--smtp") from None
    app = create_app(url, data_dir=data_dir, secure_cookies=not insecure_cookies, trusted_proxies=proxies,
                     max_body_bytes=max_body_bytes, max_upload_bytes=max_upload_bytes, notifier=notifier)
    out.print(f"Redress on http://{host}:{port}/ (API docs /api/docs, OpenAPI /openapi.json) / 网站已启动",
              highlight=False)
    # the application reads forwarding headers itself, from the trusted proxies only (uvicorn would believe
    # any local peer)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


def register(app: typer.Typer) -> None:
    for sub in APPS:
        app.add_typer(sub)
    app.command("serve")(serve)


