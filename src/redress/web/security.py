"""Sign-in, server-side sessions, CSRF tokens, rate limiting and lock-out.

- Passwords are argon2id hashes (argon2-cffi); an unknown user costs the same verification time as a known one.
- A session is a random 256-bit token in an HttpOnly, SameSite=Lax, Secure cookie; the database keeps only its
  SHA-256, so a leaked database does not hand out sessions.  Sessions expire and can be revoked (sign-out).
- Every state-changing request must carry the session's CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``), compared in constant time.
- Five wrong passwords lock the account for 15 minutes; thirty failures from one client in 10 minutes refuse
  that client for the rest of the window.  Every attempt is recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from redress.admin.errors import AdminError
from redress.store.models import LoginAttempt, User, WebSession

COOKIE = "redress_session"
SESSION_HOURS = 8
MAX_FAILURES = 5
LOCK_MINUTES = 15
CLIENT_WINDOW_MINUTES = 10
CLIENT_MAX_FAILURES = 30
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


def sign_in(session: Session, name: str, password: str, client: str) -> SignedIn:
    now = _now()
    since = _stamp(now - dt.timedelta(minutes=CLIENT_WINDOW_MINUTES))
    recent = session.execute(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.client == client, LoginAttempt.success.is_(False), LoginAttempt.at >= since)).scalar_one()
    if recent >= CLIENT_MAX_FAILURES:
        raise LockedOut("too many failed sign-ins from this address; try again later / 登录失败次数过多，请稍后再试")
    user = session.execute(select(User).where(User.name == name).with_for_update()).scalar_one_or_none()
    if user is not None and user.locked_until and user.locked_until > _stamp(now):
        session.add(LoginAttempt(user_name=name[:64], client=client[:64], at=_stamp(now), success=False))
        raise LockedOut("this account is locked after repeated wrong passwords; try again in 15 minutes "
                        "/ 账户已临时锁定")
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user is not None and user.password_hash else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and bool(user.password_hash)
    session.add(LoginAttempt(user_name=name[:64], client=client[:64], at=_stamp(now), success=ok))
    if not ok:
        if user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= MAX_FAILURES:
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
