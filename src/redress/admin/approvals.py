"""Maker-checker: what every approval action does when a second person grants or rejects it.

The registry is built here, in one module that imports every service owning an action, so that any process
that decides an approval (a fresh ``redress approval approve`` as much as the web server) knows all of them.
Each action has an ``execute`` (run when granted, in the same transaction) and, where the maker prepared
something that must be released, an ``unwind`` (run when rejected: a rejected payment batch frees its claims
for the next batch).  ``ApprovalAction`` in ``admin.cases`` names the actions; a test holds the two together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session

from redress.admin import claims, fairfunds, fund, payments
from redress.admin.cases import ApprovalAction, get_case, require_user
from redress.admin.errors import AdminError, BadInput, Forbidden, NotFound
from redress.money import yuan
from redress.store import audit
from redress.store.models import Approval

Step = Callable[[Session, Approval, str], Any]


@dataclass(frozen=True)
class Handling:
    """What granting an action does, and how rejecting it is unwound (None: the maker prepared nothing)."""

    execute: Step
    unwind: Step | None = None


REGISTRY: Mapping[ApprovalAction, Handling] = MappingProxyType({
    ApprovalAction.APPROVE_PLAN: Handling(claims.grant_plan),
    ApprovalAction.RELEASE_BATCH: Handling(payments.grant_release, payments.unwind_release),
    ApprovalAction.RETURN_SURPLUS: Handling(payments.grant_surplus_return),
    ApprovalAction.RELEASE_FAIRFUND: Handling(fairfunds.grant_release, fairfunds.unwind_release),
    ApprovalAction.REVERSE_ENTRY: Handling(fund.grant_reversal),
})


def decide(session: Session, actor: str, approval_id: int, approve: bool, note: str = "") -> Any:
    """The checker's decision.  The maker cannot check their own request (four eyes); a rejection says why.
    Granting runs the action; rejecting unwinds what the maker prepared; both in the caller's transaction."""
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
    if not approve and not note.strip():
        raise BadInput("a rejection needs a note saying why, for the maker and the audit log / 驳回须说明理由")
    try:
        handling = REGISTRY[ApprovalAction(ap.action)]
    except (KeyError, ValueError):
        raise AdminError(f"approval request {approval_id} names an unknown action {ap.action!r}") from None
    ap.status = "approved" if approve else "rejected"
    ap.decided_by, ap.decided_at = actor, audit.now_stamp()
    session.flush()
    audit.record(session, actor, f"approval.{ap.status}", f"{ap.action} {ap.subject}",
                 {"approval": ap.id, "payload_sha256": ap.payload_sha256, "note": note}, ap.case_id)
    if approve:
        return handling.execute(session, ap, actor)
    if handling.unwind is not None:
        handling.unwind(session, ap, actor)
    return None


def describe(ap: Approval) -> str:
    """What granting the request will do, in words and amounts, for the person about to decide it."""
    body = json.loads(ap.payload)
    action = ApprovalAction(ap.action)
    if action is ApprovalAction.APPROVE_PLAN:
        return (f"adopt plan {body['plan_sha256'][:12]}: {body['investors']:,} investors offered "
                f"{yuan(body['offered_fen'], grouping=True)} yuan; claims open {body['claims_open_on']}, "
                f"deadline {body['deadline']}")
    if action in (ApprovalAction.RELEASE_BATCH, ApprovalAction.RELEASE_FAIRFUND):
        what = "payment" if action is ApprovalAction.RELEASE_BATCH else "fair-fund payment"
        return (f"send batch {body['batch']} to the clearing system: {body['count']:,} {what}s, "
                f"{yuan(body['total_fen'], grouping=True)} yuan, dated {body['on']}")
    if action is ApprovalAction.RETURN_SURPLUS:
        shares = ", ".join(f"{p} {yuan(f, grouping=True)}" for p, f in sorted(body["shares_fen"].items()))
        return (f"return the surplus of {yuan(body['surplus_fen'], grouping=True)} yuan to the payers ({shares}) "
                f"on {body['on']} and liquidate the fund")
    change = body["trust_cash_change_fen"]
    return (f"reverse {body['kind']} entry {body['key']} on {body['on']}: the trust account "
            f"{'gains' if change > 0 else 'loses'} {yuan(abs(change), grouping=True)} yuan ({body['reason']})")
