"""Domain errors of case administration, each with the HTTP status the API answers with."""

from __future__ import annotations

from redress.admin.money import check_fen
from redress.ids import BadId, IdKind, check


class AdminError(ValueError):
    """The operation was refused; nothing was changed."""

    status_code = 409

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class NotFound(AdminError):
    status_code = 404


class Forbidden(AdminError):
    status_code = 403


class BadInput(AdminError):
    """An input file or value is malformed.  ``problems`` name file, line and reason."""

    status_code = 422

    def __init__(self, message: str, problems: list[str] | None = None, *, hint: str | None = None):
        self.problems = list(problems or [])
        full = message if not self.problems else message + "\n" + "\n".join(f"  {p}" for p in self.problems[:50])
        if len(self.problems) > 50:
            full += f"\n  ... and {len(self.problems) - 50} more"
        super().__init__(full, hint=hint)


def valid_id(kind: IdKind, value: object) -> str:
    """``value`` if it is a valid identifier of ``kind`` (``redress.ids``); otherwise ``BadInput`` saying what
    is allowed.  Services call it where an identifier enters the database."""
    try:
        return check(kind, value)
    except BadId as exc:
        raise BadInput(str(exc)) from None


def valid_fen(value: object, what: str) -> int:
    """``value`` if it is a whole number of fen from 0 to the largest amount (``money.check_fen``); otherwise
    ``BadInput`` naming ``what``."""
    try:
        return check_fen(value, what)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
