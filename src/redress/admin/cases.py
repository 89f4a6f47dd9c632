"""Users, cases, payers, the lifecycle and maker-checker approvals."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.admin.errors import AdminError, BadInput, Forbidden, NotFound
from redress.claims.lifecycle import CaseState, IllegalTransition, check_transition
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
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.DRAFT, CaseState.FUND_ESTABLISHED}, "add a payer")
    if role not in PAYER_ROLES:
        raise BadInput(f"unknown payer role {role!r}; one of: {', '.join(sorted(PAYER_ROLES))}")
    if committed_fen < 0:
        raise BadInput("a commitment cannot be negative")
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

Executor = Callable[[Session, Approval, str], Any]
_EXECUTORS: dict[str, Executor] = {}
_ON_REJECT: dict[str, Executor] = {}


def executor(action: str) -> Callable[[Executor], Executor]:
    """Register what happens when an approval of ``action`` is granted."""

    def register(fn: Executor) -> Executor:
        _EXECUTORS[action] = fn
        return fn

    return register


def on_reject(action: str) -> Callable[[Executor], Executor]:
    """Register how a rejected request of ``action`` is unwound (what the maker prepared is released)."""

    def register(fn: Executor) -> Executor:
        _ON_REJECT[action] = fn
        return fn

    return register


def request_approval(session: Session, actor: str, case: Case, action: str, subject: str,
                     payload: dict[str, Any]) -> Approval:
    require_user(session, actor, "operator")
    pending = session.execute(select(Approval).where(Approval.case_id == case.id, Approval.action == action,
                                                     Approval.subject == subject,
                                                     Approval.status == "pending")).scalar_one_or_none()
    if pending is not None:
        raise AdminError(f"{action} {subject} is already waiting for approval (request {pending.id})")
    text = audit.canonical(payload)
    ap = Approval(case_id=case.id, action=action, subject=subject, payload=text, payload_sha256=sha256_text(text),
                  requested_by=actor, requested_at=audit.now_stamp(), status="pending")
    session.add(ap)
    session.flush()
    audit.record(session, actor, "approval.request", f"{action} {subject}",
                 {"approval": ap.id, "payload_sha256": ap.payload_sha256}, case.id)
    return ap


def decide_approval(session: Session, actor: str, approval_id: int, approve: bool, note: str = "") -> Any:
    """The checker's decision.  The maker cannot check their own request (four eyes)."""
    require_user(session, actor, "approver")
    ap = session.get(Approval, approval_id)
    if ap is None:
        raise NotFound(f"no approval request {approval_id}")
    get_case(session, ap.case_id, lock=True)
    session.refresh(ap)
    if ap.status != "pending":
        raise AdminError(f"approval request {approval_id} is already {ap.status}")
    if ap.requested_by == actor:
        raise Forbidden(f"{actor} made request {approval_id} and cannot also approve it: a second person must "
                        f"check it / 经办与复核须为不同人员")
    ap.status = "approved" if approve else "rejected"
    ap.decided_by, ap.decided_at = actor, audit.now_stamp()
    session.flush()
    audit.record(session, actor, f"approval.{ap.status}", f"{ap.action} {ap.subject}",
                 {"approval": ap.id, "payload_sha256": ap.payload_sha256, "note": note}, ap.case_id)
    if approve:
        return _EXECUTORS[ap.action](session, ap, actor)
    if ap.action in _ON_REJECT:
        _ON_REJECT[ap.action](session, ap, actor)
    return None


def payload(ap: Approval) -> dict[str, Any]:
    return json.loads(ap.payload)


def pending_approvals(session: Session, case_id: str) -> list[Approval]:
    return list(session.execute(select(Approval).where(Approval.case_id == case_id, Approval.status == "pending")
                                .order_by(Approval.id)).scalars())


def parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from None
