"""What the fund tells investors about a case beyond the numbers: the hotline, the e-mail address, the office
hours and the payment calendar (``CaseHelp``).  Set by an operator, checked here, recorded in the audit
log."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.orm import Session

from redress.admin.cases import DateKind, get_case, parse_date, require_user
from redress.admin.errors import BadInput
from redress.store import audit
from redress.store.models import CaseHelp

HOTLINE = re.compile(r"^\+?[0-9][0-9 ()\-]{2,30}$")
EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.\-]{1,189}\.[A-Za-z]{2,24}$")
HOURS_CHARS = 200


def _text(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit or any(ord(ch) < 32 for ch in value):
        raise BadInput(f"{what}: give 1 to {limit} characters on one line")
    return value


def parse_payment_dates(text: str, *, today: dt.date | None = None) -> list[dt.date]:
    """``2026-12-20,2027-01-05``: dates the fund pays on, each a real date no more than five years ahead."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > 60:
        raise BadInput(f"--payment-dates: at most 60 dates, not {len(parts)}")
    return sorted({parse_date(p, "--payment-dates", DateKind.PLAN, today=today) for p in parts})


def set_help(
    session: Session,
    actor: str,
    case_id: str,
    *,
    hotline: str | None = None,
    email: str | None = None,
    office_hours: str | None = None,
    payment_dates: str | None = None,
) -> CaseHelp:
    """Set what is given (``None`` keeps the value; ``""`` clears it) and record the change in the audit
    log."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id)
    problems = []
    values: dict[str, object] = {}
    if hotline is not None:
        if hotline.strip() and not HOTLINE.match(hotline.strip()):
            problems.append(
                f"--hotline {hotline[:40]!r}: digits, spaces, '-', '(', ')' and a leading '+' only"
            )
        values["hotline"] = hotline.strip() or None
    if email is not None:
        if email.strip() and not EMAIL.match(email.strip()):
            problems.append(f"--email {email[:60]!r} is not an e-mail address (name@example.org)")
        values["email"] = email.strip() or None
    if office_hours is not None:
        try:
            values["office_hours"] = (
                _text(office_hours, "--hours", HOURS_CHARS) if office_hours.strip() else None
            )
        except BadInput as exc:
            problems.append(str(exc))
    if payment_dates is not None:
        try:
            values["payment_dates"] = ",".join(d.isoformat() for d in parse_payment_dates(payment_dates))
        except BadInput as exc:
            problems.append(str(exc))
    if problems:
        raise BadInput(
            "case help refused; nothing changed",
            problems,
            hint="e.g. redress case help CASE --hotline '400-123-4567' --email help@fund.example "
            "--hours 'Mon-Fri 9:00-17:00' --payment-dates 2026-12-20,2027-01-05",
        )
    if not values:
        raise BadInput("nothing to set: give --hotline, --email, --hours or --payment-dates")
    row = session.get(CaseHelp, case.id)
    now = audit.now_stamp()
    if row is None:
        row = CaseHelp(
            case_id=case.id,
            hotline=None,
            email=None,
            office_hours=None,
            payment_dates="",
            updated_by=actor,
            updated_at=now,
        )
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_by, row.updated_at = actor, now
    session.flush()
    audit.record(session, actor, "case.help_set", case.id, dict(values), case.id)
    return row
