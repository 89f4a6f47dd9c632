"""``redress case help``: the hotline, e-mail address, office hours and payment calendar that the
investor's pages show for a case (the portal's claim page, the public case page and its help page)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from redress.cli.admin import Actor, CaseId, Db, case_app, out, session


def case_help(
    case_id: CaseId,
    hotline: Annotated[
        str | None,
        typer.Option("--hotline", help="Telephone hotline, e.g. 400-123-4567; '' clears it / 热线电话"),
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="E-mail address for questions / 电子邮箱")
    ] = None,
    hours: Annotated[
        str | None,
        typer.Option("--hours", help="Office hours in words, e.g. 'Mon-Fri 9:00-17:00' / 办公时间"),
    ] = None,
    payment_dates: Annotated[
        str | None,
        typer.Option(
            "--payment-dates", help="Dates the fund pays on, YYYY-MM-DD, comma-separated / 划付日期"
        ),
    ] = None,
    db: Db = None,
    actor: Actor = "admin",
) -> None:
    """Set what investors are told about a case: whom to call, when, and when it pays (operator; audited).
    Options not given keep their value / 设置案件的咨询方式与划付日期。"""
    from redress.admin.case_help import set_help

    with session(db) as s:
        row = set_help(
            s, actor, case_id, hotline=hotline, email=email, office_hours=hours, payment_dates=payment_dates
        )
        shown = (
            f"hotline {row.hotline or '-'} · e-mail {row.email or '-'} · hours {row.office_hours or '-'} · "
            f"payment dates {row.payment_dates or '-'}"
        )
    out.print(f"Help for case {escape(case_id)} set / 已设置: {escape(shown)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``redress case help`` to the ``case`` commands (already on ``app``)."""
    case_app.command("help")(case_help)
