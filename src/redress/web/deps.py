"""Per-request plumbing: the database transaction, who is signed in, what they may see, CSRF checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.admin.cases import STAFF
from redress.admin.errors import AdminError, Forbidden, NotFound
from redress.store.db import unit_of_work
from redress.store.models import Claim, User
from redress.web import security


class NotSignedIn(AdminError):
    status_code = 401


class CsrfFailed(AdminError):
    status_code = 403


READS = frozenset({"GET", "HEAD", "OPTIONS"})


@contextmanager
def tx(request: Request, *, write: bool = False) -> Iterator[Session]:
    """One unit of work, committed before the response is built (so a success is never reported for a
    change that did not commit).  Requests that only read use the read engine, which on SQLite does not
    queue for the write lock."""
    engine = request.app.state.read_engine if request.method in READS and not write else request.app.state.engine
    with unit_of_work(engine) as s:
        yield s


@dataclass(frozen=True)
class Principal:
    name: str
    display_name: str
    roles: frozenset[str]
    csrf_token: str
    investor_id: str | None
    payer_case_id: str | None
    payer_id: str | None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF)

    def has(self, role: str) -> bool:
        return role in self.roles

    def require(self, *roles: str) -> None:
        if not self.roles & set(roles):
            raise Forbidden(f"this needs the {' or '.join(roles)} role / 无权限")

    def may_see_case(self, case_id: str) -> bool:
        return self.is_staff or (self.has("payer") and self.payer_case_id == case_id)

    def require_case(self, case_id: str) -> None:
        if not self.may_see_case(case_id):
            raise Forbidden("you cannot see this case's administration / 无权查看")

    def require_claim(self, investor_id: str) -> None:
        """Investors see their own claims only; staff see all; payers see none individually."""
        if self.is_staff:
            return
        if self.has("investor") and self.investor_id == investor_id:
            return
        raise Forbidden("this claim is not yours / 无权查看该申报")


# what a user who is not staff hears about any case that is not theirs, whether or not it exists
NOT_YOURS = "not found, or not yours to see / 未找到或无权查看"


def require_visible_case(session: Session, who: Principal, case_id: str) -> None:
    """Staff see every case; a payer its own case; an investor the cases in which they have a claim.  Anyone
    else gets the same 404 for a case that exists and one that does not, so ids cannot be probed."""
    if who.is_staff:
        return
    if who.has("payer") and who.payer_case_id == case_id:
        return
    if who.has("investor") and who.investor_id and session.execute(
            select(Claim.id).where(Claim.case_id == case_id, Claim.investor_id == who.investor_id).limit(1)
    ).first() is not None:
        return
    raise NotFound(NOT_YOURS)


def _principal(user: User, csrf: str) -> Principal:
    return Principal(user.name, user.display_name, frozenset(r for r in user.roles.split(",") if r), csrf,
                     user.investor_id, user.payer_case_id, user.payer_id)


def optional_principal(request: Request) -> Principal | None:
    token = request.cookies.get(security.COOKIE)
    if not token:
        return None
    with unit_of_work(request.app.state.read_engine) as s:      # looking a session up only reads
        found = security.session_for(s, token)
        return _principal(*found[:1], found[1].csrf_token) if found else None


def principal(request: Request) -> Principal:
    p = optional_principal(request)
    if p is None:
        raise NotSignedIn("sign in first / 请先登录")
    return p


async def checked(request: Request, who: Principal = Depends(principal)) -> Principal:
    """The signed-in user, for a request that changes something: the CSRF token must match."""
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        given = (await request.form()).get("csrf_token")
    if not security.csrf_ok(who.csrf_token, given if isinstance(given, str) else None):
        raise CsrfFailed("missing or wrong CSRF token; reload the page and try again / 请求校验失败，请刷新页面")
    return who
