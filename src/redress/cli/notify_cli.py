"""``redress notify``: tell investors by e-mail and SMS what happened in their case, each event once."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from redress.cli.admin import Actor, CaseId, Db, On, _date, err, out, session

notify_app = typer.Typer(name="notify", help="Tell investors by e-mail and SMS, each event once / 通知投资者",
                         no_args_is_help=True, rich_markup_mode="rich")

Smtp = Annotated[str | None, typer.Option(
    "--smtp", envvar="REDRESS_SMTP_URL", show_envvar=True,
    help="Mail server: smtp://USER:PASSWORD@HOST:PORT?from=ADDR&starttls=1 (user and password optional)")]
SmsOutbox = Annotated[Path | None, typer.Option(
    "--sms-outbox", envvar="REDRESS_SMS_OUTBOX", show_envvar=True, file_okay=False,
    help="Folder an SMS gateway collects text messages from (one JSON file each)")]


def _notifier(smtp: str | None, sms_outbox: Path | None):
    from redress.notify.channels import configured

    try:
        notifier = configured(smtp, sms_outbox)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--smtp") from None
    if notifier is None:
        err.print("[bold red]Nothing to send with:[/] give --smtp (e-mail) and/or --sms-outbox (SMS), or set "
                  "REDRESS_SMTP_URL / REDRESS_SMS_OUTBOX / 未配置邮件或短信通道", highlight=False)
        raise typer.Exit(2)
    return notifier


@contextmanager
def _engine(db: str | None) -> Iterator[Engine]:
    """An engine for work that commits in several units of its own (a run commits each message's record
    before sending it); a refusal is reported as ``session`` reports it."""
    from sqlalchemy.exc import SQLAlchemyError

    from redress.admin.errors import AdminError
    from redress.store.db import make_engine

    engine = make_engine(db)
    try:
        yield engine
    except AdminError as exc:
        err.print(f"[bold red]Refused / 操作未执行:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    except SQLAlchemyError as exc:
        err.print(f"[bold red]Database error / 数据库错误:[/] {escape(str(getattr(exc, 'orig', exc)))}",
                  highlight=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def _operator(db: str | None, actor: str) -> None:
    from redress.admin.cases import require_user

    with session(db) as s:
        require_user(s, actor, "operator")


@notify_app.command("run")
def notify_run(case_id: CaseId, on: On = None, smtp: Smtp = None, sms_outbox: SmsOutbox = None,
               portal_url: Annotated[str | None, typer.Option(
                   "--portal-url", envvar="REDRESS_PORTAL_URL", show_envvar=True,
                   help="The investor portal's address, named in e-mails (SMS carry no link)")] = None,
               db: Db = None, actor: Actor = "admin") -> None:
    """Send every message due for the case on the day (default today): offers, reminders 7 and 1 days before
    the deadline, decisions, payments sent or returned, a late window.  A message already recorded is never
    sent again / 发送到期通知。"""
    from redress.notify import events

    notifier = _notifier(smtp, sms_outbox)
    today = _date(on)
    _operator(db, actor)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("sending / 发送中", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        with _engine(db) as engine:
            report = events.send_due(engine, actor, case_id, notifier, today, portal_url=portal_url,
                                     progress=step)
    out.print(f"{report.sent:,} sent, {report.failed:,} failed"
              + (f", {report.already:,} already recorded by another run" if report.already else "")
              + " / 已发送、失败", highlight=False)
    for event, n in sorted(report.by_event.items()):
        out.print(f"  {event}: {n:,}", highlight=False)
    if report.failed:
        out.print(f"See them with `redress notify list {case_id} --failed`; send again with "
                  f"`redress notify resend ID`", highlight=False)
        raise typer.Exit(1)


@notify_app.command("list")
def notify_list(case_id: CaseId,
                investor: Annotated[str | None, typer.Option("--investor", help="Only this investor")] = None,
                failed: Annotated[bool, typer.Option(
                    "--failed", help="Only those not delivered (failed, or left pending by an interrupted "
                                     "run)")
                ] = False,
                db: Db = None) -> None:
    """The notifications of a case, newest first / 通知记录。"""
    from redress.notify.events import listing

    with session(db) as s:
        rows = listing(s, case_id, investor_id=investor, undelivered=failed)
        t = Table(title=f"Notifications / 通知 ({len(rows):,})", title_justify="left")
        for c in ("id", "investor 投资者", "event 事件", "ref", "channel", "address 地址", "result 结果",
                  "attempts", "sent at", "detail"):
            t.add_column(c)
        for n in rows:
            colour = {"sent": "green", "failed": "red"}.get(n.result, "yellow")
            t.add_row(str(n.id), escape(n.investor_id), n.event, escape(n.ref), n.channel, escape(n.address),
                      f"[{colour}]{n.result}[/]", str(n.attempts), n.sent_at or "", escape(n.detail or ""))
    out.print(t)


@notify_app.command("resend")
def notify_resend(notification_id: Annotated[int, typer.Argument(help="Notification id (see `notify list`)")],
                  smtp: Smtp = None, sms_outbox: SmsOutbox = None, db: Db = None,
                  actor: Actor = "admin") -> None:
    """Send a failed (or interrupted) notification again, on the same record / 重新发送。"""
    from redress.notify import events

    notifier = _notifier(smtp, sms_outbox)
    _operator(db, actor)
    with _engine(db) as engine:
        row = events.resend(engine, actor, notification_id, notifier)
    out.print(f"Notification {row.id}: {row.result} after {row.attempts} attempt(s): {row.detail}",
              highlight=False, markup=False)
    if row.result != "sent":
        raise typer.Exit(1)


@notify_app.command("contacts")
def notify_contacts(case_id: CaseId,
                    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                         help="CSV investor_id,email,phone,language")],
                    db: Db = None, actor: Actor = "admin") -> None:
    """Import investors' e-mail, phone and language (CSV investor_id,email,phone,language): all or nothing;
    the same file again changes nothing; details the investor gave themselves are kept / 导入联系方式。"""
    from redress.admin.cases import require_user
    from redress.notify.contacts import import_contacts

    with session(db) as s:
        require_user(s, actor, "operator")
        res = import_contacts(s, actor, case_id, file)
    out.print(f"{res.added:,} added, {res.updated:,} updated, {res.unchanged:,} unchanged, "
              f"{res.kept:,} kept as the investor gave them / 新增、更新、未变、保留", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(notify_app)
