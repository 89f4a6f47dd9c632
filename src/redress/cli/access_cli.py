"""The investor's way in, from the command line: claim notices with activation codes (and their PDF letters),
and a new activation code for one investor who calls the hotline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redress.cli.admin import Actor, CaseId, Db, On, _date, claims_app, out, session


def claims_notices(case_id: CaseId, out_file: Annotated[Path, typer.Option("--out")],
                   kind: Annotated[str, typer.Option("--kind", help="offer | late_window")] = "offer",
                   letters: Annotated[Path | None, typer.Option(
                       "--letters", dir_okay=False,
                       help="Also write one PDF of every letter, one page each / 同时生成通知书PDF")] = None,
                   portal_url: Annotated[str, typer.Option(
                       "--portal-url", envvar="REDRESS_PORTAL_URL", show_envvar=True,
                       help="The portal's address printed on the letters")] = "",
                   on: On = None, db: Db = None, actor: Actor = "admin") -> None:
    """Write the notices to send, with an activation code for each investor who has no account yet, and
    record them as issued / 生成通知（含激活码）。"""
    from redress.admin import claims

    with session(db) as s:
        n = claims.write_notices(s, actor, case_id, kind, out_file, _date(on), letters=letters,
                                 portal_url=portal_url)
    out.print(f"{n:,} notices written to {out_file}", highlight=False, markup=False)
    if letters is not None:
        out.print(f"Letters written to {letters}", highlight=False, markup=False)
    out.print("The file holds activation codes: keep it safe and delete it once the letters are sent "
              "/ 文件含激活码，请妥善保管，寄出后删除", highlight=False, markup=False)


def claims_code(case_id: CaseId, investor: Annotated[str, typer.Argument(help="Investor id (on the letter)")],
                db: Db = None, actor: Actor = "admin") -> None:
    """Issue a new activation code for one investor who called the hotline (investor_service or operator);
    their earlier codes stop working.  The code is shown once / 为来电投资者重新生成激活码。"""
    from redress.admin import access

    with session(db) as s:
        code = access.issue_for_caller(s, actor, case_id, investor)
    out.print(f"Activation code for {investor}: {access.grouped(code)}", highlight=False, markup=False)
    out.print("Read it to the caller; it is not stored and cannot be shown again. The caller opens /activate "
              "and types it with a securities account number.", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``claims`` commands."""
    claims_app.command("notices")(claims_notices)
    claims_app.command("code")(claims_code)
