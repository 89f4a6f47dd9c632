"""Sign-in, server-side sessions, CSRF tokens, rate limiting and lock-out.

- Passwords are argon2id hashes (argon2-cffi); an unknown user costs the same verification time as a known one.
- A session is a random 256-bit token in an HttpOnly, SameSite=Lax, Secure cookie; the database keeps only its
  SHA-256, so a leaked database does not hand out sessions.  Sessions expire and can be revoked (sign-out).
- Every state-changing request must carry the session's CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``), compared in constant time.
- Five wrong passwords within 15 minutes lock out: for staff (and for names that are no user's), the pair of
  that address and that account, so that someone elsewhere cannot lock the administrators out; for investors
  and payers, the account, for 15 minutes.  Thirty failures from one client in 10 minutes refuse that client
  for the rest of the window.  Every attempt is recorded; ``unlock`` (``redress user unlock``) lifts every
  lock-out of an account at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from redress.admin.errors import AdminError, NotFound
from redress.store import audit
from redress.store.db import unit_of_work
from redress.store.models import LoginAttempt, User, WebSession

COOKIE = "redress_session"
SESSION_HOURS = 8
MAX_FAILURES = 5
LOCK_MINUTES = 15
CLIENT_WINDOW_MINUTES = 10
CLIENT_MAX_FAILURES = 30
UNLOCKED = "(unlocked)"          # the client of the row that ``unlock`` records; no address looks like it
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("redress-dummy-password")


class AuthError(AdminError):
    status_code = 401


class LockedOut(AdminError):
    status_code = 429


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(t: dt.datetime) -> str:
    return t.isoformat(timespec="microseconds")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str
    csrf_token: str


@dataclass(frozen=True)
class Checked:
    """A password verified before the sign-in's write transaction, against ``password_hash``."""

    password_hash: str | None
    ok: bool


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def check_password(read_engine: Engine, name: str, password: str) -> Checked:
    """The slow part of signing in (argon2), outside any transaction: inside the sign-in's write transaction
    it would hold SQLite's write lock for the whole verification, and every other change would queue behind it."""
    with unit_of_work(read_engine) as s:
        user = s.get(User, name)
        stored = user.password_hash if user is not None else None
    return Checked(stored, _verify(stored, password))


def _account_locked(user: User | None) -> bool:
    """Investors and payers are locked out by account; staff, and names that are no user's, by address."""
    if user is None:
        return False
    from redress.admin.cases import STAFF

    return not set(user.roles.split(",")) & STAFF


def _locked(session: Session, user: User | None, name: str, client: str, now: dt.datetime) -> bool:
    """Locked out: an investor's or payer's account until ``locked_until``; otherwise this (address, account)
    pair after ``MAX_FAILURES`` failures in ``LOCK_MINUTES`` since its last success or the last ``unlock``.
    A name that is no user's locks the same way, so the answer does not tell which names are real."""
    if _account_locked(user):
        return bool(user.locked_until and user.locked_until > _stamp(now))
    return _failures(session, name, client, now) >= MAX_FAILURES


def _failures(session: Session, name: str, client: str | None, now: dt.datetime,
              after: str | None = None) -> int:
    """Recent failures of ``name`` from ``client`` (``None``: from anywhere): those of the last
    ``LOCK_MINUTES`` after its last success there, its last ``unlock`` and the stamp ``after``."""
    name = name[:64]
    reset_where = [LoginAttempt.user_name == name, LoginAttempt.success.is_(True)]
    count_where = [LoginAttempt.user_name == name, LoginAttempt.success.is_(False)]
    if client is not None:
        reset_where.append(LoginAttempt.client.in_((client[:64], UNLOCKED)))
        count_where.append(LoginAttempt.client == client[:64])
    reset = session.execute(select(func.max(LoginAttempt.at)).where(*reset_where)).scalar_one()
    since = max(_stamp(now - dt.timedelta(minutes=LOCK_MINUTES)), reset or "", after or "")
    return session.execute(select(func.count()).select_from(LoginAttempt).where(
        *count_where, LoginAttempt.at > since)).scalar_one()


def unlock(session: Session, actor: str, name: str) -> User:
    """Lift every lock-out of ``name`` (the account's, and those of each address): the way back in for an
    administrator locked out of the web.  Needs the operator role; recorded in the audit log."""
    from redress.admin.cases import require_user

    require_user(session, actor, "operator")
    user = session.execute(select(User).where(User.name == name).with_for_update()).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {name!r} / 无此用户")
    user.failed_logins = 0
    user.locked_until = None
    session.add(LoginAttempt(user_name=name[:64], client=UNLOCKED, at=_stamp(_now()), success=True))
    session.flush()
    audit.record(session, actor, "user.unlock", name, {})
    return user


def sign_in(session: Session, name: str, password: str, client: str, checked: Checked | None = None) -> SignedIn:
    """``checked``: the password already verified by ``check_password``; used only if the user's password hash
    is still the one it was checked against (else the password is verified here)."""
    now = _now()
    since = _stamp(now - dt.timedelta(minutes=CLIENT_WINDOW_MINUTES))
    recent = session.execute(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.client == client, LoginAttempt.success.is_(False), LoginAttempt.at >= since)).scalar_one()
    if recent >= CLIENT_MAX_FAILURES:
        session.add(LoginAttempt(user_name=name[:64], client=client[:64], at=_stamp(now), success=False))
        session.flush()
        raise LockedOut("too many failed sign-ins from this address; try again later / 登录失败次数过多，请稍后再试")
    user = session.execute(select(User).where(User.name == name).with_for_update()).scalar_one_or_none()
    if _locked(session, user, name, client, now):
        session.add(LoginAttempt(user_name=name[:64], client=client[:64], at=_stamp(now), success=False))
        raise LockedOut(f"this account is locked after repeated wrong passwords; try again in {LOCK_MINUTES} "
                        f"minutes / 账户已临时锁定")
    stored = user.password_hash if user is not None else None
    ok = checked.ok if checked is not None and checked.password_hash == stored else _verify(stored, password)
    session.add(LoginAttempt(user_name=name[:64], client=client[:64], at=_stamp(now), success=ok))
    if not ok:
        if _account_locked(user):
            session.flush()
            # counted afresh after a lock-out has run its time
            user.failed_logins = _failures(session, name, None, now, after=user.locked_until)
            if user.failed_logins >= MAX_FAILURES:      # released by time: LOCK_MINUTES, or by ``unlock``
                user.locked_until = _stamp(now + dt.timedelta(minutes=LOCK_MINUTES))
                user.failed_logins = 0
        session.flush()
        raise AuthError("wrong user name or password / 用户名或密码错误")
    user.failed_logins = 0
    user.locked_until = None
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(WebSession(token_sha256=token_hash(token), user_name=user.name, csrf_token=csrf, created_at=_stamp(now),
                           expires_at=_stamp(now + dt.timedelta(hours=SESSION_HOURS)), revoked=False))
    session.flush()
    return SignedIn(user, token, csrf)


def session_for(session: Session, token: str | None) -> tuple[User, WebSession] | None:
    if not token or len(token) > 100:
        return None
    row = session.get(WebSession, token_hash(token))
    if row is None or row.revoked or row.expires_at <= _stamp(_now()):
        return None
    user = session.get(User, row.user_name)
    return (user, row) if user is not None else None


def sign_out(session: Session, token: str | None) -> None:
    if token:
        row = session.get(WebSession, token_hash(token))
        if row is not None:
            row.revoked = True
            session.flush()


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())
