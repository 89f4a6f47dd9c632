"""Identifiers: one schema for every id a person types or a file carries into the database.

Case, payer, user and hearing-related ids are *slugs*: they name folders, appear in URLs and file names, and
so allow only ASCII letters, digits and ``-``, ``_``, ``.`` (not first), at most 64 characters.  Investor and
account ids come from clearing-house records: they may also hold CJK characters and ``:``, ``/``, but never
whitespace at either end, control characters, or a first character that a spreadsheet would take for a
formula (``= + - @``, tab, carriage return).

``check(kind, value)`` returns the value or raises ``BadId`` (a ``ValueError``) saying what is allowed;
``inside(root, *parts)`` builds a path from ids and proves it stays under ``root``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

MAX_LENGTH = 64


class IdKind(StrEnum):
    """What an identifier names; each kind has one pattern."""

    CASE = "case id"
    PAYER = "payer id"
    USER = "user name"
    PARTY = "party id"
    INVESTOR = "investor id"
    ACCOUNT = "account id"


_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# letters and digits of any script, and the separators seen in account numbers; the first character is a
# letter or digit, so no formula lead, no leading space and no path separator can start an id
_HOLDER = re.compile(r"[^\W_][\w.:/()-]{0,63}")

_PATTERN = {IdKind.CASE: _SLUG, IdKind.PAYER: _SLUG, IdKind.USER: _SLUG, IdKind.PARTY: _SLUG,
            IdKind.INVESTOR: _HOLDER, IdKind.ACCOUNT: _HOLDER}

_ALLOWED = {
    _SLUG: "ASCII letters, digits and . _ - (starting with a letter or digit)",
    _HOLDER: "letters, digits and . _ - : / ( ) (starting with a letter or digit), no spaces",
}


class BadId(ValueError):
    """An identifier outside its schema."""


def check(kind: IdKind, value: object) -> str:
    """``value`` if it is a valid ``kind``; otherwise ``BadId`` naming the rule (and never echoing control bytes)."""
    if not isinstance(value, str):
        raise BadId(f"{kind} must be text, got {type(value).__name__}")
    pattern = _PATTERN[kind]
    if pattern.fullmatch(value) is None or ".." in value:
        shown = value[:MAX_LENGTH]     # repr escapes control and other unprintable characters, keeps CJK
        length = f" ({len(value)} characters)" if len(value) > MAX_LENGTH else ""
        raise BadId(f"{kind} {shown!r}{length} is not allowed: use 1 to {MAX_LENGTH} {_ALLOWED[pattern]} "
                    f"/ 编号格式有误")
    return value


def problem(kind: IdKind, value: object) -> str | None:
    """Why ``value`` is not a valid ``kind`` (the message ``check`` raises), or None."""
    try:
        check(kind, value)
    except BadId as exc:
        return str(exc)
    return None


def is_valid(kind: IdKind, value: object) -> bool:
    return problem(kind, value) is None


def inside(root: Path, *parts: str) -> Path:
    """``root / parts...``, resolved, refused with ``BadId`` unless it lies strictly inside ``root``."""
    base = Path(root).resolve()
    for part in parts:
        if not part or part in {".", ".."} or "/" in part or "\\" in part or "\x00" in part:
            raise BadId(f"path part {part!r} is not allowed")
    target = base.joinpath(*parts).resolve()
    if target == base or base not in target.parents:
        raise BadId(f"path {'/'.join(parts)!r} leaves {base}")
    return target
