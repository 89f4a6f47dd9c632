"""Users, cases, payers, the lifecycle and maker-checker approvals."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.admin.errors import AdminError, BadInput, Forbidden, NotFound, valid_fen, valid_id
from redress.claims.lifecycle import CaseState, IllegalTransition, check_transition
from redress.ids import IdKind
from redress.store import audit
from redress.store.models import Approval, Case, Payer, Transition, User

# operator: the administrator who prepares (maker); approver: checks (checker); auditor: reads everything
# (regulators); investor_service: records decisions at the counter; investor and payer: see their own only.
ROLES = frozenset({"operator", "approver", "auditor", "investor_service", "investor", "payer"})
STAFF = frozenset({"operator", "approver", "auditor", "investor_service"})
PAYER_ROLES = frozenset({"sponsor", "controlling_shareholder", "actual_controller", "auditor", "law_firm",
                         "asset_appraiser", "other"})


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- users ---------------------------------------------------------------------------------------------------

def add_user(session: Session, actor: str, name: str, display_name: str, roles: list[str],
             password: str | None = None, *, investor_id: str | None = None, payer_case_id: str | None = None,
             payer_id: str | None = None) -> User:
    require_user(session, actor, "operator")
    valid_id(IdKind.USER, name)
    if investor_id is not None:
        valid_id(IdKind.INVESTOR, investor_id)
    if payer_case_id is not None:
        valid_id(IdKind.CASE, payer_case_id)
    if payer_id is not None:
        valid_id(IdKind.PAYER, payer_id)
    bad = sorted(set(roles) - ROLES)
    if bad:
        raise BadInput(f"unknown role(s) {', '.join(bad)}; roles are: {', '.join(sorted(ROLES))}")
    if ("investor" in roles) != (investor_id is not None):
        raise BadInput("an investor user needs --investor-id (and only investor users have one)")
    if ("payer" in roles) != (payer_id is not None and payer_case_id is not None):
        raise BadInput("a payer user needs the case and payer it speaks for (and only payer users have them)")
    if {"investor", "payer"} & set(roles) and STAFF & set(roles):
        raise BadInput("investor and payer users cannot also hold staff roles")
    if session.get(User, name) is not None:
        raise AdminError(f"user {name!r} already exists")
    _check_password(password, name)
    pw = None
    if password:
        from argon2 import PasswordHasher
        pw = PasswordHasher().hash(password)
    user = User(name=name, display_name=display_name, roles=",".join(sorted(set(roles))), password_hash=pw,
                created_at=audit.now_stamp(), investor_id=investor_id, payer_case_id=payer_case_id, payer_id=payer_id,
                failed_logins=0)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.add", name, {"roles": user.roles, "display_name": display_name,
                                                    "investor_id": investor_id, "payer": payer_id})
    return user


def bootstrap(session: Session, name: str, display_name: str, password: str | None = None) -> User:
    """Create the first user of an empty database (every staff role; a second person is still needed to check)."""
    if session.execute(select(User).limit(1)).scalar_one_or_none() is not None:
        raise AdminError("the database already has users; add more with `redress user add`")
    valid_id(IdKind.USER, name)
    _check_password(password, name)
    pw = None
    if password:
        from argon2 import PasswordHasher
        pw = PasswordHasher().hash(password)
    user = User(name=name, display_name=display_name, roles=",".join(sorted(STAFF)), password_hash=pw,
                created_at=audit.now_stamp(), failed_logins=0)
    session.add(user)
    session.flush()
    audit.record(session, name, "user.bootstrap", name, {"roles": user.roles})
    return user


def _check_password(password: str | None, name: str) -> None:
    """A password is set only if ``redress.passwords`` accepts it (no password: the user cannot sign in)."""
    from redress import passwords

    found = passwords.problem(password, name) if password else None
    if found:
        raise BadInput(found)


def require_user(session: Session, name: str, role: str | None = None) -> User:
    user = session.get(User, name)
    if user is None:
        raise Forbidden(f"unknown user {name!r}", hint="add users with `redress user add` / 请先添加用户")
    if role and role not in user.roles.split(","):
        raise Forbidden(f"user {name!r} does not have the {role} role (has: {user.roles})")
    return user


# -- cases ---------------------------------------------------------------------------------------------------

def create_case(session: Session, actor: str, case_id: str, name: str, custodian: str | None = None) -> Case:
    require_user(session, actor, "operator")
    valid_id(IdKind.CASE, case_id)
    if session.get(Case, case_id) is not None:
        raise AdminError(f"case {case_id!r} already exists")
    case = Case(id=case_id, name=name, state=CaseState.DRAFT, created_at=audit.now_stamp(), custodian=custodian,
                version=0)
    session.add(case)
    session.flush()
    audit.record(session, actor, "case.create", case_id, {"name": name, "custodian": custodian}, case_id)
    return case


def get_case(session: Session, case_id: str, *, lock: bool = False) -> Case:
    """The case; with ``lock`` its row is locked for the rest of the transaction (writers on a case queue)."""
    stmt = select(Case).where(Case.id == case_id)
    if lock:
        stmt = stmt.with_for_update()
    case = session.execute(stmt).scalar_one_or_none()
    if case is None:
        raise NotFound(f"no case {case_id!r}", hint="`redress case list` shows the cases / 查看案件列表")
    return case


def require_state(case: Case, allowed: frozenset[CaseState] | set[CaseState], doing: str) -> None:
    if CaseState(case.state) not in allowed:
        raise AdminError(f"case {case.id} is {case.state}: cannot {doing} (allowed when "
                         f"{' or '.join(sorted(allowed))}) / 当前案件状态不允许该操作")


def transition(session: Session, case: Case, target: CaseState, actor: str, reason: str) -> None:
    current = CaseState(case.state)
    try:
        check_transition(case.id, current, target)
    except IllegalTransition as exc:
        raise AdminError(str(exc)) from None
    if not reason.strip():
        raise BadInput("a transition needs a reason")
    at = audit.now_stamp()
    session.add(Transition(case_id=case.id, from_state=current, to_state=target, actor=actor, at=at, reason=reason))
    case.state = target
    case.version += 1
    session.flush()
    audit.record(session, actor, "case.transition", case.id, {"from": current, "to": target, "reason": reason},
                 case.id)


def add_payer(session: Session, actor: str, case_id: str, payer_id: str, name: str, role: str,
              committed_fen: int) -> Payer:
    require_user(session, actor, "operator")
    valid_id(IdKind.PAYER, payer_id)
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.DRAFT, CaseState.FUND_ESTABLISHED}, "add a payer")
    if role not in PAYER_ROLES:
        raise BadInput(f"unknown payer role {role!r}; one of: {', '.join(sorted(PAYER_ROLES))}")
    valid_fen(committed_fen, f"payer {payer_id}: the commitment")
    if session.get(Payer, (case_id, payer_id)) is not None:
        raise AdminError(f"payer {payer_id!r} already named in case {case_id}")
    payer = Payer(case_id=case_id, payer_id=payer_id, name=name, role=role, committed_fen=committed_fen)
    session.add(payer)
    session.flush()
    audit.record(session, actor, "payer.add", payer_id, {"name": name, "role": role, "committed_fen": committed_fen},
                 case_id)
    return payer


def payers(session: Session, case_id: str) -> list[Payer]:
    return list(session.execute(select(Payer).where(Payer.case_id == case_id).order_by(Payer.payer_id)).scalars())


# -- maker-checker -------------------------------------------------------------------------------------------

class ApprovalAction(StrEnum):
    """Every action that one person prepares and a second person must check before it takes effect.
    What each does when granted or rejected is in ``redress.admin.approvals``."""

    APPROVE_PLAN = "approve_plan"              # the plan and results become the case's; claims can open
    RELEASE_BATCH = "release_batch"            # a payment batch goes to the clearing system
    RETURN_SURPLUS = "return_surplus"          # what is left returns to the payers; the fund is liquidated
    RELEASE_FAIRFUND = "release_fairfund"      # a fair-fund batch goes to the clearing system
    REVERSE_ENTRY = "reverse_entry"            # a contribution, interest or fee entry is corrected


def request_approval(session: Session, actor: str, case: Case, action: ApprovalAction | str, subject: str,
                     payload: dict[str, Any]) -> Approval:
    require_user(session, actor, "operator")
    try:
        action = ApprovalAction(action)
    except ValueError:
        raise AdminError(f"{action!r} is not an action that needs approval") from None
    pending = session.execute(select(Approval).where(Approval.case_id == case.id, Approval.action == action,
                                                     Approval.subject == subject,
                                                     Approval.status == "pending")).scalar_one_or_none()
    if pending is not None:
        raise AdminError(f"{action} {subject} is already waiting for approval (request {pending.id})")
    text = audit.canonical(payload)
    ap = Approval(case_id=case.id, action=str(action), subject=subject, payload=text,
                  payload_sha256=sha256_text(text), requested_by=actor, requested_at=audit.now_stamp(),
                  status="pending")
    session.add(ap)
    session.flush()
    audit.record(session, actor, "approval.request", f"{action} {subject}",
                 {"approval": ap.id, "payload_sha256": ap.payload_sha256}, case.id)
    return ap


def payload(ap: Approval) -> dict[str, Any]:
    return json.loads(ap.payload)


def pending_approvals(session: Session, case_id: str) -> list[Approval]:
    return list(session.execute(select(Approval).where(Approval.case_id == case_id, Approval.status == "pending")
                                .order_by(Approval.id)).scalars())


# -- dates people give ---------------------------------------------------------------------------------------

FIRST_TRADING_DAY = dt.date(1990, 12, 19)   # the Shanghai Stock Exchange opened: no case concerns an earlier day
EVENT_DAYS_AHEAD = 7      # a bank may value-date a credit a few days ahead; nothing else is dated later
PLAN_YEARS_AHEAD = 5      # claims periods, deadlines and late windows are set at most this far ahead
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class DateKind(StrEnum):
    """What a date a person gives stands for; each kind has its range (``date_range``)."""

    EVENT = "event"   # it happened: a booking, a settlement, a decision, a closing, a step in a hearing
    PLAN = "plan"     # it is set ahead: claims opening, a deadline, the end of a late window


def date_range(kind: DateKind, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last date allowed for ``kind``: from the first day of exchange trading in China to a week
    from today (events) or five years from today (plans)."""
    today = today or dt.date.today()
    if kind is DateKind.PLAN:
        leap_day = today.month == 2 and today.day == 29
        last = today.replace(year=today.year + PLAN_YEARS_AHEAD, day=28 if leap_day else today.day)
    else:
        last = today + dt.timedelta(days=EVENT_DAYS_AHEAD)
    return FIRST_TRADING_DAY, last


def check_date(on: dt.date, what: str, kind: DateKind = DateKind.EVENT, *,
               today: dt.date | None = None) -> dt.date:
    """``on`` if it lies in ``date_range(kind)``; otherwise ``BadInput`` naming ``what`` and the range."""
    if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
        raise BadInput(f"{what}: {on!r} is not a date (YYYY-MM-DD) / 日期格式有误")
    first, last = date_range(kind, today)
    if on < first:
        raise BadInput(f"{what}: {on} is before {first}, the first day of exchange trading in China "
                       f"/ 日期早于证券交易所开业日")
    if on > last:
        ahead = (f"what happened is dated at most {EVENT_DAYS_AHEAD} days ahead" if kind is DateKind.EVENT
                 else f"dates are set at most {PLAN_YEARS_AHEAD} years ahead")
        raise BadInput(f"{what}: {on} is after {last} ({ahead}) / 日期晚于允许范围")
    return on


def iso_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` exactly (spaces around it aside), as a date; ``ValueError`` for anything else (the other
    forms ``date.fromisoformat`` takes, such as ``20230101``, are not what a person means by a date here)."""
    cleaned = text.strip() if isinstance(text, str) else ""
    if not _ISO_DATE.fullmatch(cleaned):
        raise ValueError(cleaned)
    return dt.date.fromisoformat(cleaned)


def parse_date(text: str, what: str, kind: DateKind = DateKind.EVENT, *,
               today: dt.date | None = None) -> dt.date:
    """A date as a person writes it (``YYYY-MM-DD``), in the range of its ``kind``; ``BadInput`` otherwise."""
    try:
        on = iso_date(text)
    except ValueError:
        shown = text[:40] + "..." if isinstance(text, str) and len(text) > 40 else text
        raise BadInput(f"{what}: {shown!r} is not a date (YYYY-MM-DD) / 日期格式有误") from None
    return check_date(on, what, kind, today=today)
