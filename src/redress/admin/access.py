"""The investor's way in: activation codes printed on claim notices, one-time codes sent by e-mail or SMS, the
second factor (a securities account number from the case's own records) and the limits on guessing.

- An **activation code** is 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown
  as ``XXXX-XXXX-XXXX``; entry ignores case, spaces and dashes.  Only its SHA-256 is stored.  It works once,
  until 30 days after the deadline of the notice it was printed on, and a newer code of the same investor
  and case revokes the older ones.  With the code the investor gives one of their securities accounts;
  five wrong accounts revoke the code.
- A **one-time code** has 6 digits, lives 10 minutes and works once: to sign in (``sign_in``) or, with an
  account number, to set a new password (``reset``).  Five wrong entries void it and lock that purpose for
  the user for 15 minutes; at most three codes go to one user an hour.
- Every entry of a code, and every request to send one, is a ``CodeAttempt``: thirty failures from one
  client in ten minutes refuse that client for the rest of the window.
- Accounts are kept as digests: SHA-256 of ``"{case_id}\\n{investor_id}\\n{account_id}"``, the account written
  without spaces and in capitals (``account_key``), the same way it is written when an investor types it.

The service functions return results (``Outcome``) instead of raising on a wrong entry, so that the caller can
commit the attempt that was counted; the words for each outcome live with the pages.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from redress.admin.cases import STAFF, _check_password, get_case, require_user
from redress.admin.errors import AdminError, BadInput, Forbidden, NotFound
from redress.claims.lifecycle import CaseState
from redress.store import audit
from redress.store.db import bulk_insert
from redress.store.models import (ActivationCode, Case, Claim, CodeAttempt, InvestorAccount, InvestorContact,
                                  SignInCode, User, WebSession)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"      # no 0/O, 1/I/L
CODE_LENGTH = 12
CODE_VALID_AFTER_DEADLINE_DAYS = 30
ONE_TIME_DIGITS = 6
ONE_TIME_MINUTES = 10
MAX_CODE_FAILURES = 5              # wrong entries of a code: an activation code revoked, a one-time code void
LOCK_MINUTES = 15                  # then that purpose of one-time codes waits this long
CLIENT_WINDOW_MINUTES = 10
CLIENT_MAX_FAILURES = 30
SENDS_PER_HOUR = 3
CLIENT_MAX_SENDS = 30              # requests to send a code from one client in CLIENT_WINDOW_MINUTES
HOTLINE_ROLES = frozenset({"investor_service", "operator"})
BEIJING = dt.timezone(dt.timedelta(hours=8))
_CHUNK = 5_000


class Outcome(enum.StrEnum):
    """What became of an entry; the pages say each in words."""

    OK = "ok"
    WRONG_CODE = "wrong_code"                # no such code, or not the right one
    CODE_USED = "code_used"                  # an activation code already used
    CODE_REVOKED = "code_revoked"            # replaced by a newer code, or withdrawn after wrong accounts
    CODE_EXPIRED = "code_expired"
    WRONG_ACCOUNT = "wrong_account"
    CODE_NOW_REVOKED = "code_now_revoked"    # this wrong account was the last one allowed
    NO_ACCOUNTS = "no_accounts"              # the fund holds no account number for this investor
    LOCKED = "locked"                        # too many wrong one-time codes: wait LOCK_MINUTES
    CLIENT_REFUSED = "client_refused"        # too many failures from this client: wait
    TOO_MANY_SENDS = "too_many_sends"        # (never shown to the visitor: the page says the same either way)
    SENT = "sent"                            # a one-time code was made for a known contact
    NOT_FOUND = "not_found"                  # no contact matched (never shown differently from SENT)
    BAD_PASSWORD = "bad_password"            # the new password is refused (the code stays unused)


# -- codes ---------------------------------------------------------------------------------------------------

def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(t: dt.datetime) -> str:
    return t.isoformat(timespec="microseconds")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    """``ABCDEFGHJKMN`` -> ``ABCD-EFGH-JKMN``: how a code is printed."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def entered(text: str) -> str:
    """A code as typed: case, spaces and dashes ignored."""
    return re.sub(r"[\s\-_]+", "", text or "").upper()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def account_key(account_id: str) -> str:
    """An account number as recorded and as typed: no spaces, capitals (``a 0001 2345`` -> ``A00012345``)."""
    return re.sub(r"\s+", "", account_id or "").upper()


def account_sha256(case_id: str, investor_id: str, account_id: str) -> str:
    return digest(f"{case_id}\n{investor_id}\n{account_key(account_id)}")


def expiry_for(deadline: dt.date) -> str:
    """The end (Beijing time) of the 30th day after ``deadline``, as a UTC stamp."""
    day = deadline + dt.timedelta(days=CODE_VALID_AFTER_DEADLINE_DAYS)
    return _stamp(dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=BEIJING).astimezone(dt.UTC))


# -- the second factor ---------------------------------------------------------------------------------------

def _account_frames(case_dir: Path) -> list[pl.LazyFrame]:
    frames = []
    for name in ("trades", "positions", "holdings"):
        for path in (case_dir / f"{name}.csv", case_dir / f"{name}.parquet"):
            if not path.is_file():
                continue
            lf = (pl.scan_parquet(path) if path.suffix == ".parquet"
                  else pl.scan_csv(path, infer_schema=False))
            if not {"investor_id", "account_id"} <= set(lf.collect_schema().names()):
                continue
            frames.append(lf.select(pl.col("investor_id").cast(pl.String).str.strip_chars(),
                                    pl.col("account_id").cast(pl.String)))
    return frames


def record_accounts(session: Session, case_id: str, case_dir: Path | str | None) -> int:
    """Keep the digests of the securities accounts each claimant of ``case_id`` traded or held through (from
    ``trades``, ``positions`` and ``holdings``, CSV or Parquet, where present); replaces any kept before.
    Without a case directory nothing is kept, and activation sends the investor to the hotline.
    Returns the number of accounts kept."""
    session.execute(delete(InvestorAccount).where(InvestorAccount.case_id == case_id))
    if not case_dir or not Path(case_dir).is_dir():
        return 0
    frames = _account_frames(Path(case_dir))
    if not frames:
        return 0
    claimants = pl.DataFrame({"investor_id": list(session.execute(
        select(Claim.investor_id).where(Claim.case_id == case_id)).scalars())},
        schema={"investor_id": pl.String})
    pairs = (pl.concat(frames)
             .with_columns(pl.col("account_id").str.replace_all(r"\s+", "").str.to_uppercase())
             .filter(pl.col("account_id").str.len_chars() > 0)
             .join(claimants.lazy(), on="investor_id", how="semi").unique().collect())
    prefix = f"{case_id}\n"
    bulk_insert(session, InvestorAccount.__table__, [
        {"case_id": case_id, "investor_id": inv, "account_sha256": digest(f"{prefix}{inv}\n{acc}")}
        for inv, acc in pairs.iter_rows()])
    return pairs.height


def _account_matches(session: Session, investor_id: str, account_id: str, case_id: str | None = None
                     ) -> bool | None:
    """Whether ``account_id`` is one of the investor's (in ``case_id``, or in any case); ``None`` when the
    fund holds no account of theirs at all.  Every kept digest is compared in constant time."""
    stmt = select(InvestorAccount.case_id, InvestorAccount.account_sha256).where(
        InvestorAccount.investor_id == investor_id)
    if case_id is not None:
        stmt = stmt.where(InvestorAccount.case_id == case_id)
    kept = session.execute(stmt).all()
    if not kept:
        return None
    found = False
    for case, sha in kept:
        found |= hmac.compare_digest(sha, account_sha256(case, investor_id, account_id))
    return found


# -- activation codes ----------------------------------------------------------------------------------------

def _revoke_unused(session: Session, case_id: str, investor_ids: list[str], now: str) -> None:
    for i in range(0, len(investor_ids), _CHUNK):
        session.execute(update(ActivationCode).where(
            ActivationCode.case_id == case_id, ActivationCode.investor_id.in_(investor_ids[i:i + _CHUNK]),
            ActivationCode.used_at.is_(None), ActivationCode.revoked_at.is_(None)).values(revoked_at=now))


def issue_codes(session: Session, actor: str, case_id: str, investor_ids: Iterable[str], expires_at: str
                ) -> dict[str, str]:
    """A fresh activation code for each investor (their earlier unused codes in the case revoked); the codes
    in clear, by investor, for the letters.  Only their digests are kept."""
    wanted = sorted(set(investor_ids))
    if not wanted:
        return {}
    now = _stamp(_now())
    _revoke_unused(session, case_id, wanted, now)
    codes = {inv: new_code() for inv in wanted}
    bulk_insert(session, ActivationCode.__table__, [
        {"code_sha256": digest(code), "case_id": case_id, "investor_id": inv, "issued_by": actor,
         "created_at": now, "expires_at": expires_at, "failures": 0} for inv, code in codes.items()])
    return codes


def investors_with_users(session: Session) -> set[str]:
    return set(session.execute(select(User.investor_id).where(User.investor_id.is_not(None))).scalars())


def notice_deadline(case: Case) -> dt.date | None:
    """The deadline investors are told of now: the claims period's, or the late window's."""
    if case.state == CaseState.LATE_WINDOW:
        return case.late_window_until
    return case.deadline


def issue_for_caller(session: Session, actor: str, case_id: str, investor_id: str) -> str:
    """A new activation code for one investor who called the hotline (staff with the investor_service or
    operator role); any earlier unused code stops working.  Audited without the code itself."""
    user = require_user(session, actor)
    if not set(user.roles.split(",")) & HOTLINE_ROLES:
        raise Forbidden(f"user {actor!r} may not issue codes: it needs the investor_service or operator role")
    case = get_case(session, case_id)
    if session.execute(select(Claim.id).where(Claim.case_id == case_id, Claim.investor_id == investor_id)
                       ).first() is None:
        raise NotFound(f"investor {investor_id!r} has no claim in case {case_id}; check the id on the "
                       f"caller's notice letter")
    deadline = notice_deadline(case) or _now().astimezone(BEIJING).date()
    expires = expiry_for(max(deadline, _now().astimezone(BEIJING).date()))
    code = issue_codes(session, actor, case_id, [investor_id], expires)[investor_id]
    row_id = session.execute(select(ActivationCode.id).where(ActivationCode.code_sha256 == digest(code))
                             ).scalar_one()
    audit.record(session, actor, "access.code_issued", investor_id,
                 {"code_id": row_id, "expires_at": expires, "accounts_known": _account_matches(
                     session, investor_id, "", case_id) is not None}, case_id)
    return code


# -- counting attempts ---------------------------------------------------------------------------------------

def _attempt(session: Session, kind: str, subject: str, client: str, success: bool) -> None:
    session.add(CodeAttempt(kind=kind, subject=subject[:64], client=client[:64], at=_stamp(_now()),
                            success=success))
    session.flush()


def client_refused(session: Session, client: str) -> bool:
    since = _stamp(_now() - dt.timedelta(minutes=CLIENT_WINDOW_MINUTES))
    wrong = session.execute(select(func.count()).select_from(CodeAttempt).where(
        CodeAttempt.client == client[:64], CodeAttempt.success.is_(False), CodeAttempt.kind != "send",
        CodeAttempt.at >= since)).scalar_one()
    return wrong >= CLIENT_MAX_FAILURES


# -- activation ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checked:
    outcome: Outcome
    code_id: int | None = None
    case_id: str | None = None
    investor_id: str | None = None
    expires_at: str | None = None
    code_sha256: str | None = None


def check_activation(session: Session, code_text: str, account_id: str, client: str) -> Checked:
    """Step one of activation: the code from the letter and one of the investor's securities accounts."""
    if client_refused(session, client):
        _attempt(session, "activate", "", client, False)
        return Checked(Outcome.CLIENT_REFUSED)
    code = entered(code_text)
    row = session.execute(select(ActivationCode).where(ActivationCode.code_sha256 == digest(code))
                          .with_for_update()).scalar_one_or_none() if len(code) == CODE_LENGTH else None
    if row is None:
        _attempt(session, "activate", "", client, False)
        return Checked(Outcome.WRONG_CODE)
    stale = _unusable(row)
    if stale is not None:
        _attempt(session, "activate", row.investor_id, client, False)
        return Checked(stale, row.id, row.case_id, row.investor_id)
    known = _account_matches(session, row.investor_id, account_id, row.case_id)
    if known is None:
        _attempt(session, "activate", row.investor_id, client, True)    # the code was right: not a guess
        return Checked(Outcome.NO_ACCOUNTS, row.id, row.case_id, row.investor_id)
    if not known:
        row.failures += 1
        _attempt(session, "activate", row.investor_id, client, False)
        if row.failures >= MAX_CODE_FAILURES:
            row.revoked_at = _stamp(_now())
            audit.record(session, row.issued_by, "access.code_revoked", row.investor_id,
                         {"code_id": row.id, "reason": "wrong account numbers"}, row.case_id)
            return Checked(Outcome.CODE_NOW_REVOKED, row.id, row.case_id, row.investor_id)
        return Checked(Outcome.WRONG_ACCOUNT, row.id, row.case_id, row.investor_id)
    _attempt(session, "activate", row.investor_id, client, True)
    return Checked(Outcome.OK, row.id, row.case_id, row.investor_id, row.expires_at, row.code_sha256)


def _unusable(row: ActivationCode) -> Outcome | None:
    if row.used_at is not None:
        return Outcome.CODE_USED
    if row.revoked_at is not None:
        return Outcome.CODE_REVOKED
    if row.expires_at <= _stamp(_now()):
        return Outcome.CODE_EXPIRED
    return None


@dataclass(frozen=True)
class Contact:
    email: str | None = None
    phone: str | None = None
    language: str = "zh"


def clean_contact(email: str, phone: str, language: str) -> Contact:
    """What an investor typed for notices: an e-mail address and a mobile number, each optional."""
    email = (email or "").strip().lower()
    if email and (len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        raise BadInput("the e-mail address does not look right (like name@example.com)")
    phone = phone_key(phone)
    if phone and not re.fullmatch(r"\+?\d{6,15}", phone):
        raise BadInput("the mobile number should have digits only (like 13812345678)")
    return Contact(email or None, phone or None, language if language in ("zh", "en") else "zh")


def phone_key(phone: str) -> str:
    """A phone number as kept: digits (and a leading +), without spaces or dashes."""
    return re.sub(r"[\s\-().]+", "", phone or "")


def activate(session: Session, code_id: int, code_sha256: str, password: str, contact: Contact
             ) -> tuple[User, str]:
    """Step two of activation: the code (checked in step one and still usable) is used up, the investor's user
    created or given the new password, their contact kept.  Returns the user and the case to show."""
    row = session.execute(select(ActivationCode).where(ActivationCode.id == code_id).with_for_update()
                          ).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.code_sha256, code_sha256) or _unusable(row) is not None:
        raise AdminError("this activation has run out of time or the code no longer works; start again with "
                         "the code from your letter")
    investor_id = row.investor_id
    user = session.execute(select(User).where(User.investor_id == investor_id).order_by(User.name)
                           .with_for_update()).scalars().first()
    name = user.name if user is not None else investor_id
    _check_password(password, name)
    from redress.web.security import hash_password

    now = _stamp(_now())
    row.used_at = now
    if user is None:
        if session.get(User, investor_id) is not None:
            raise AdminError(f"the user name {investor_id!r} is taken by another user; call the hotline")
        user = User(name=investor_id, display_name=investor_id, roles="investor", investor_id=investor_id,
                    password_hash=hash_password(password), created_at=now, failed_logins=0)
        session.add(user)
        session.flush()
        audit.record(session, user.name, "user.add", user.name,
                     {"roles": "investor", "investor_id": investor_id, "by": "activation", "code_id": row.id},
                     row.case_id)
    else:
        if set(user.roles.split(",")) & STAFF:
            raise Forbidden("a staff account cannot be set through an investor's code")
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
        audit.record(session, user.name, "user.password", user.name, {"by": "activation", "code_id": row.id},
                     row.case_id)
    audit.record(session, user.name, "access.activated", investor_id, {"code_id": row.id}, row.case_id)
    save_contact(session, investor_id, contact, "activation")
    session.flush()
    return user, row.case_id


def save_contact(session: Session, investor_id: str, contact: Contact, source: str) -> None:
    row = session.get(InvestorContact, investor_id)
    now = _stamp(_now())
    if row is None:
        session.add(InvestorContact(investor_id=investor_id, email=contact.email, phone=contact.phone,
                                    language=contact.language, source=source, updated_at=now))
    else:
        row.email = contact.email or row.email
        row.phone = contact.phone or row.phone
        row.language = contact.language
        row.source = source
        row.updated_at = now
    session.flush()


def open_session(session: Session, user: User, hours: int | None = None) -> tuple[str, str]:
    """A signed-in browser for ``user`` (as a password sign-in makes one): its cookie token and CSRF token."""
    from redress.web import security

    now = _now()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSession(token_sha256=security.token_hash(token), user_name=user.name, csrf_token=csrf,
                           created_at=_stamp(now),
                           expires_at=_stamp(now + dt.timedelta(hours=hours or security.SESSION_HOURS)),
                           revoked=False))
    session.flush()
    return token, csrf


# -- one-time codes ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sending:
    """A one-time code to send (``to`` is empty when nothing matched: nothing is sent)."""

    outcome: Outcome
    channel: str = ""
    to: str = ""
    code: str = ""
    language: str = "zh"
    user_name: str = ""


def find_user(session: Session, typed: str) -> tuple[User | None, str, str]:
    """The investor user behind what was typed (user name, e-mail or mobile), with the channel and address to
    send a code to; ``(None, "", "")`` when nothing matches or there is nowhere to send."""
    typed = (typed or "").strip()[:254]
    if not typed:
        return None, "", ""
    contact = None
    channel = ""
    if "@" in typed:
        contact = session.execute(select(InvestorContact).where(InvestorContact.email == typed.lower())
                                  .order_by(InvestorContact.investor_id)).scalars().first()
        channel = "email"
    user = session.get(User, typed[:64])
    if contact is None and user is None and re.fullmatch(r"\+?\d{6,15}", phone_key(typed)):
        contact = session.execute(select(InvestorContact).where(InvestorContact.phone == phone_key(typed))
                                  .order_by(InvestorContact.investor_id)).scalars().first()
        channel = "sms"
    if contact is None and user is not None and user.investor_id:
        contact = session.get(InvestorContact, user.investor_id)
        channel = "email" if contact is not None and contact.email else "sms"
    if contact is None:
        return None, "", ""
    if user is None or user.investor_id != contact.investor_id:
        user = session.execute(select(User).where(User.investor_id == contact.investor_id).order_by(User.name)
                               ).scalars().first()
    if user is None or set(user.roles.split(",")) & STAFF:
        return None, "", ""
    to = contact.email if channel == "email" else contact.phone
    if not to:
        return None, "", ""
    return user, channel, to


def prepare_code(session: Session, typed: str, purpose: str, client: str) -> Sending:
    """A one-time code for whoever ``typed`` names, if anyone (the caller sends it, and says the same either
    way).  Counted: at most ``SENDS_PER_HOUR`` codes per user, ``CLIENT_MAX_SENDS`` requests per client."""
    now = _now()
    since = _stamp(now - dt.timedelta(minutes=CLIENT_WINDOW_MINUTES))
    sends = session.execute(select(func.count()).select_from(CodeAttempt).where(
        CodeAttempt.client == client[:64], CodeAttempt.kind == "send", CodeAttempt.at >= since)).scalar_one()
    if sends >= CLIENT_MAX_SENDS or client_refused(session, client):
        _attempt(session, "send", "", client, False)
        return Sending(Outcome.CLIENT_REFUSED)
    user, channel, to = find_user(session, typed)
    if user is None:
        _attempt(session, "send", "", client, False)
        return Sending(Outcome.NOT_FOUND)
    hour = _stamp(now - dt.timedelta(hours=1))
    sent = session.execute(select(func.count()).select_from(SignInCode).where(
        SignInCode.user_name == user.name, SignInCode.created_at >= hour)).scalar_one()
    if sent >= SENDS_PER_HOUR:
        _attempt(session, "send", user.name, client, False)
        return Sending(Outcome.TOO_MANY_SENDS)
    code = "".join(secrets.choice("0123456789") for _ in range(ONE_TIME_DIGITS))
    session.add(SignInCode(user_name=user.name, purpose=purpose, channel=channel, code_sha256=digest(code),
                           created_at=_stamp(now),
                           expires_at=_stamp(now + dt.timedelta(minutes=ONE_TIME_MINUTES)), failures=0))
    _attempt(session, "send", user.name, client, True)
    contact = session.get(InvestorContact, user.investor_id) if user.investor_id else None
    return Sending(Outcome.SENT, channel, to, code, contact.language if contact else "zh", user.name)


def check_one_time(session: Session, typed: str, code_text: str, purpose: str, client: str,
                   account_id: str | None = None, new_password: str | None = None
                   ) -> tuple[Outcome, User | None]:
    """An entered one-time code (and, to reset a password, an account number and the new password, checked
    before the code is used up) for whoever ``typed`` names.  A wrong code and an unknown name read the
    same."""
    if client_refused(session, client):
        _attempt(session, purpose, "", client, False)
        return Outcome.CLIENT_REFUSED, None
    user, _channel, _to = find_user(session, typed)
    subject = user.name if user is not None else ""
    now = _now()
    if user is not None:
        since = _stamp(now - dt.timedelta(minutes=LOCK_MINUTES))
        wrong = session.execute(select(func.count()).select_from(CodeAttempt).where(
            CodeAttempt.kind == purpose, CodeAttempt.subject == subject, CodeAttempt.success.is_(False),
            CodeAttempt.at >= since)).scalar_one()
        if wrong >= MAX_CODE_FAILURES:
            _attempt(session, purpose, subject, client, False)
            return Outcome.LOCKED, None
    rows = [] if user is None else list(session.execute(select(SignInCode).where(
        SignInCode.user_name == user.name, SignInCode.purpose == purpose, SignInCode.used_at.is_(None),
        SignInCode.failures < MAX_CODE_FAILURES, SignInCode.expires_at > _stamp(now))
        .order_by(SignInCode.id.desc()).with_for_update()).scalars())
    given = digest(re.sub(r"\s+", "", code_text or ""))
    match = None
    for row in rows:
        if hmac.compare_digest(row.code_sha256, given):
            match = row
    if match is None:
        for row in rows[:1]:
            row.failures += 1
        _attempt(session, purpose, subject, client, False)
        return Outcome.WRONG_CODE, None
    if account_id is not None:
        known = _account_matches(session, user.investor_id or "", account_id)
        if not known:
            match.failures += 1
            _attempt(session, purpose, subject, client, False)
            return (Outcome.NO_ACCOUNTS if known is None else Outcome.WRONG_ACCOUNT), None
    if new_password is not None:
        from redress import passwords

        if passwords.problem(new_password, user.name):
            _attempt(session, purpose, subject, client, True)
            return Outcome.BAD_PASSWORD, user
    match.used_at = _stamp(now)
    _attempt(session, purpose, subject, client, True)
    return Outcome.OK, user


def reset_password(session: Session, user: User, password: str) -> None:
    """A new password after a one-time code and an account number were right (``check_one_time``)."""
    from redress.web.security import hash_password

    _check_password(password, user.name)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, user.name, "user.password", user.name, {"by": "reset"})
    session.flush()


def claims_of(session: Session, investor_id: str | None) -> list[str]:
    """The cases in which ``investor_id`` has a claim."""
    if not investor_id:
        return []
    return list(session.execute(select(Claim.case_id).where(Claim.investor_id == investor_id)
                                .order_by(Claim.case_id)).scalars())
