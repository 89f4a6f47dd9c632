"""The protection fund's books in the database: entries appended once (idempotent by key), balances derived
from the postings, the bank account never overdrawn on any day, the statement checked exactly.

Writers serialise on the books: SQLite takes its write lock when the unit of work begins; PostgreSQL takes a
transaction-scoped advisory lock (``lock``) before reading what it will change."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from redress.admin.cases import DateKind, check_date
from redress.admin.errors import AdminError, BadInput
from redress.money import over_limits, yuan
from redress.ledger.core import LedgerError, Posting, lowest_balance, trial_balance
from redress.protection.book import FundEntry, ProtectionAccount, ProtectionStatement, pa, statement, transfer
from redress.store import audit
from redress.store.models import ProtectionEntry, ProtectionPosting

BANK = pa(ProtectionAccount.BANK)
IN_TRANSIT = pa(ProtectionAccount.IN_TRANSIT)
_LOCK_KEY = 0x1F0_5EC   # the protection fund's advisory lock on PostgreSQL


def lock(session: Session) -> None:
    """Serialise writers of the protection fund (a no-op on SQLite, whose writers already hold the lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def _stored(row: ProtectionEntry, postings: list[ProtectionPosting]) -> FundEntry:
    return FundEntry(row.booked_on, row.kind, row.memo, tuple(Posting(p.account, p.amount_fen) for p in postings),
                 row.key, row.reverses)


def entries(session: Session, through: dt.date | None = None) -> list[FundEntry]:
    """Every entry, in booking order, as pure values."""
    stmt = select(ProtectionEntry).order_by(ProtectionEntry.id)
    if through is not None:
        stmt = stmt.where(ProtectionEntry.booked_on <= through)
    rows = list(session.execute(stmt).scalars())
    by_entry: dict[int, list[ProtectionPosting]] = defaultdict(list)
    for p in session.execute(select(ProtectionPosting).order_by(ProtectionPosting.id)).scalars():
        by_entry[p.entry_id].append(p)
    return [_stored(r, by_entry[r.id]) for r in rows]


def balances(session: Session, through: dt.date | None = None, since: dt.date | None = None) -> dict[str, int]:
    """Debit-positive balance per account (movements only, when ``since`` is given), summed by the database."""
    stmt = (select(ProtectionPosting.account, func.sum(ProtectionPosting.amount_fen)).join(ProtectionEntry)
            .group_by(ProtectionPosting.account))
    if through is not None:
        stmt = stmt.where(ProtectionEntry.booked_on <= through)
    if since is not None:
        stmt = stmt.where(ProtectionEntry.booked_on >= since)
    return {a: int(b) for a, b in session.execute(stmt) if int(b) != 0}


def _lowest_bank(session: Session, booked_on: dt.date, change_fen: int) -> tuple[dt.date, int]:
    daily = session.execute(select(ProtectionEntry.booked_on, func.sum(ProtectionPosting.amount_fen))
                            .join(ProtectionEntry).where(ProtectionPosting.account == BANK)
                            .group_by(ProtectionEntry.booked_on).order_by(ProtectionEntry.booked_on)).all()
    return lowest_balance(daily, booked_on, change_fen)


def _within_limits(session: Session, entry: FundEntry) -> None:
    """Refuse an entry dated outside the dates allowed (from the first day of exchange trading to five years
    ahead: scheduled maturities are booked ahead) or one that would take an account or the books beyond the
    limits of ``redress.money``."""
    check_date(entry.booked_on, f"entry {entry.key}: booked on", DateKind.PLAN)
    rows = session.execute(select(ProtectionPosting.account, func.sum(ProtectionPosting.amount_fen),
                                  func.sum(func.abs(ProtectionPosting.amount_fen)))
                           .group_by(ProtectionPosting.account)).all()      # balances and turnover in one query
    after = {a: int(b) for a, b, _moved in rows}
    for p in entry.postings:
        after[p.account] = after.get(p.account, 0) + p.amount_fen
    moved = sum(int(m) for *_ab, m in rows) + sum(abs(p.amount_fen) for p in entry.postings)
    beyond = over_limits(after, (p.account for p in entry.postings), moved)
    if beyond:
        raise BadInput(f"entry {entry.key} refused: {beyond}")


def post(session: Session, entry: FundEntry, actor: str) -> ProtectionEntry:
    """Append ``entry`` (a ``FundEntry``: checked against the protection fund's chart when it was made).  The
    same entry again returns the stored one; another entry under a used key is refused naming the field that
    differs; an entry that would overdraw the bank on any day is refused."""
    if not isinstance(entry, FundEntry):
        raise AdminError(f"entry {entry.key} is not an entry of the protection fund's books")
    lock(session)
    existing = session.execute(select(ProtectionEntry).where(ProtectionEntry.key == entry.key)).scalar_one_or_none()
    if existing is not None:
        old = _stored(existing, list(session.execute(select(ProtectionPosting).where(
            ProtectionPosting.entry_id == existing.id).order_by(ProtectionPosting.id)).scalars()))
        for field in ("booked_on", "kind", "memo", "postings", "reverses"):
            if getattr(old, field) != getattr(entry, field):
                raise AdminError(f"entry {entry.key} was already booked with a different {field}; a retry must "
                                 f"repeat the original exactly, a new transaction needs a new reference / 流水号已使用")
        return existing
    _within_limits(session, entry)
    change = sum(p.amount_fen for p in entry.postings if p.account == BANK)
    if change < 0:
        low_on, low = _lowest_bank(session, entry.booked_on, change)
        if low < 0:
            raise AdminError(f"entry {entry.key} dated {entry.booked_on} would overdraw the protection fund's bank "
                             f"account by {yuan(-low)} yuan on {low_on} / 保护基金银行存款不足")
    row = ProtectionEntry(key=entry.key, booked_on=entry.booked_on, kind=entry.kind, memo=entry.memo,
                          reverses=entry.reverses, actor=actor, at=audit.now_stamp())
    session.add(row)
    session.flush()
    session.add_all([ProtectionPosting(entry_id=row.id, account=p.account, amount_fen=p.amount_fen)
                     for p in entry.postings])
    session.flush()
    audit.record(session, actor, f"ipf.{entry.kind}", entry.key,
                 {"booked_on": entry.booked_on.isoformat(), "memo": entry.memo, "reverses": entry.reverses,
                  "postings": [[p.account, p.amount_fen] for p in entry.postings]})
    return row


def fund_statement(session: Session, through: dt.date | None = None) -> ProtectionStatement:
    try:
        return statement(balances(session, through))
    except LedgerError as exc:
        raise AdminError(str(exc)) from None


def trial(session: Session, through: dt.date | None = None):
    return trial_balance(balances(session, through))


def open_capital(session: Session, actor: str, amount_fen: int, on: dt.date, reference: str) -> ProtectionEntry:
    """The fund's opening capital paid into its bank account (Art. 13)."""
    return post(session, transfer(on, "capital", f"opening capital ({reference})", f"capital:{reference}", BANK,
                                  pa(ProtectionAccount.CAPITAL), amount_fen), actor)


def operating_expense(session: Session, actor: str, amount_fen: int, on: dt.date, reference: str, memo: str,
                      budget_reference: str) -> ProtectionEntry:
    """The fund company's running costs (Art. 21), paid from the fund only under a passed board resolution on
    the annual budget (``annual_budget``) adopted in the year of the expense or the year before it."""
    from redress.admin.cases import require_user
    from redress.admin.ipf.board import require_resolution
    from redress.store.models import BoardMeeting

    require_user(session, actor, "operator")
    if not reference.strip() or not memo.strip():
        raise AdminError("an expense needs a bank reference and a description / 需要流水号和用途说明")
    budget = require_resolution(session, "annual_budget", budget_reference)
    adopted = session.get(BoardMeeting, budget.meeting_id).held_on
    if adopted.year not in (on.year, on.year - 1) or adopted > on:
        raise AdminError(f"the budget {budget_reference} was adopted on {adopted}; it does not cover an expense on "
                         f"{on} / 该预算不涵盖此项支出", hint="name the budget resolution of that year")
    return post(session, transfer(on, "expense", f"{memo} (budget {budget_reference})", f"expense:{reference}",
                                  pa(ProtectionAccount.OPERATING_EXPENSE), BANK, amount_fen), actor)
