"""Domain errors of case administration (``redress.errors`` defines them, so that the store can raise them too),
and the checks services run where a value enters the database."""

from __future__ import annotations

from redress.errors import AdminError, BadInput, Forbidden, NotFound
from redress.ids import BadId, IdKind, check
from redress.money import check_fen

__all__ = ["AdminError", "BadInput", "Forbidden", "NotFound", "valid_fen", "valid_id"]


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
