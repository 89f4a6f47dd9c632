"""Investors' contact details imported by the fund: a CSV ``investor_id,email,phone,language``.

The file is taken whole or not at all: any bad line refuses it, each problem named ``file:line: reason``.  A
cell that a spreadsheet would run as a formula is refused (a phone number may start with ``+``).  Importing
the same file again changes nothing.  Details an investor gave themselves (at activation, or at the counter)
are kept: the fund's list does not overwrite the investor's own choice.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress import i18n
from redress.admin.errors import BadInput, NotFound
from redress.exports import FORMULA_LEADS
from redress.ids import IdKind, problem
from redress.store import audit
from redress.store.models import Case, Claim, InvestorContact

COLUMNS = ("investor_id", "email", "phone", "language")
EMAIL = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"'.]+")
EMAIL_CHARS_MAX = 254
PHONE = re.compile(r"\+?[0-9]{6,20}")
PHONE_SEPARATORS = re.compile(r"[\s-]")
ROWS_MAX = 2_000_000
OWN_SOURCES = frozenset({"activation", "counter"})   # given by the investor: an import keeps them


@dataclass(frozen=True)
class ContactRow:
    line: int
    investor_id: str
    email: str | None
    phone: str | None
    language: str


@dataclass(frozen=True)
class ContactImport:
    added: int
    updated: int
    unchanged: int
    kept: int           # the investor's own details, left as they are

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "kept": self.kept}


def read_contacts(path: Path) -> list[ContactRow]:
    """The rows of ``path``, checked; ``BadInput`` listing every bad line (``file:line: reason``)."""
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"contacts {name} refused: not UTF-8 text (byte {exc.start}); save it as CSV UTF-8 "
                       f"/ 文件编码有误") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != list(COLUMNS):
        raise BadInput(f"contacts {name} refused: the first line must be {','.join(COLUMNS)} "
                       f"(found {','.join(header or [])!r}) / 表头有误")
    rows: list[ContactRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) + len(problems) >= ROWS_MAX:
            problems.append(f"{name}:{line}: more than {ROWS_MAX:,} rows; split the file")
            break
        if len(record) != len(COLUMNS):
            problems.append(f"{name}:{line}: {len(record)} cells, expected {len(COLUMNS)} "
                            f"({','.join(COLUMNS)})")
            continue
        inv, email, phone, language = (cell.strip() for cell in record)
        why = _row_problem(inv, email, phone, language)
        if why is None and inv in seen:
            why = f"investor {inv} appears twice (first on line {seen[inv]})"
        if why is not None:
            problems.append(f"{name}:{line}: {why}")
            continue
        seen[inv] = line
        rows.append(ContactRow(line, inv, email or None, PHONE_SEPARATORS.sub("", phone) or None,
                               (language or i18n.DEFAULT).lower()))
    if problems:
        raise BadInput(f"contacts {name} refused; nothing changed / 联系方式文件有误，未作任何处理", problems)
    return rows


def _row_problem(inv: str, email: str, phone: str, language: str) -> str | None:
    for column, cell in zip(COLUMNS, (inv, email, phone, language), strict=True):
        if cell and cell[0] in FORMULA_LEADS and not (column == "phone" and cell[0] == "+"):
            return f"{column} {cell[:40]!r} starts like a spreadsheet formula; remove the leading {cell[0]!r}"
        if any(ord(ch) < 32 for ch in cell):
            return f"{column} holds a control character"
    if (why := problem(IdKind.INVESTOR, inv)) is not None:
        return why
    if not email and not phone:
        return f"investor {inv}: neither e-mail nor phone; give at least one"
    if email and (len(email) > EMAIL_CHARS_MAX or not EMAIL.fullmatch(email)):
        return f"e-mail {email[:60]!r} is not an e-mail address (name@example.cn)"
    if phone and not PHONE.fullmatch(PHONE_SEPARATORS.sub("", phone)):
        return f"phone {phone[:40]!r} is not a phone number (digits, optionally a leading +, 6 to 20 digits)"
    if language and language.lower() not in i18n.LANGUAGES:
        return f"language {language[:20]!r} is not one of {', '.join(i18n.LANGUAGES)}"
    return None


def import_contacts(session: Session, actor: str, case_id: str, path: Path) -> ContactImport:
    """Take in the contacts of ``path`` for investors of ``case_id``; an investor without a claim in the case
    refuses the file.  One audit event with the counts."""
    if session.get(Case, case_id) is None:
        raise NotFound(f"no case {case_id!r}; `redress case list` shows the cases")
    rows = read_contacts(path)
    ids = [r.investor_id for r in rows]
    known: set[str] = set()
    existing: dict[str, InvestorContact] = {}
    for start in range(0, len(ids), 5000):
        part = ids[start:start + 5000]
        known.update(session.execute(select(Claim.investor_id).where(Claim.case_id == case_id,
                                                                     Claim.investor_id.in_(part))).scalars())
        existing.update({c.investor_id: c for c in session.execute(
            select(InvestorContact).where(InvestorContact.investor_id.in_(part)).with_for_update()).scalars()})
    unknown = [f"{path.name}:{r.line}: investor {r.investor_id} has no claim in case {case_id}"
               for r in rows if r.investor_id not in known]
    if unknown:
        raise BadInput(f"contacts {path.name} refused; nothing changed / 联系方式文件有误，未作任何处理",
                       unknown)
    at = audit.now_stamp()
    added = updated = unchanged = kept = 0
    for r in rows:
        c = existing.get(r.investor_id)
        if c is None:
            session.add(InvestorContact(investor_id=r.investor_id, email=r.email, phone=r.phone,
                                        language=r.language, source="import", updated_at=at))
            added += 1
        elif c.source in OWN_SOURCES:
            kept += 1
        elif (c.email, c.phone, c.language) == (r.email, r.phone, r.language):
            unchanged += 1
        else:
            c.email, c.phone, c.language, c.source, c.updated_at = r.email, r.phone, r.language, "import", at
            updated += 1
    session.flush()
    result = ContactImport(added, updated, unchanged, kept)
    audit.record(session, actor, "notify.contacts", path.name[:200], {"rows": len(rows), **result.as_dict()},
                 case_id)
    return result
