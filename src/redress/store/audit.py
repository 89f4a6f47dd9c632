"""The tamper-evident audit log: a hash chain over every state change.

Each event's hash is SHA-256 over its canonical content and the previous event's hash; the single-row
``audit_head`` holds the newest seq and hash.  Every writer locks the head (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite transactions are already serial), so events form one unbroken chain.  ``verify`` replays
it: an edited row breaks its own hash, a deleted row breaks the sequence and the next row's link, and a
deleted newest row no longer matches the head.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.store.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def now_stamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def canonical(detail: Any) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(seq: int, at: str, actor: str, case_id: str | None, action: str, subject: str, detail: str,
               prev_hash: str) -> str:
    body = canonical([seq, at, actor, case_id, action, subject, detail, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def lock_head(session: Session) -> AuditHead:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def record(session: Session, actor: str, action: str, subject: str, detail: Any = None,
           case_id: str | None = None) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    head = lock_head(session)
    seq = head.seq + 1
    at = now_stamp()
    text = canonical(detail if detail is not None else {})
    digest = event_hash(seq, at, actor, case_id, action, subject, text, head.hash)
    ev = AuditEvent(seq=seq, at=at, actor=actor, case_id=case_id, action=action, subject=subject, detail=text,
                    prev_hash=head.hash, hash=digest)
    session.add(ev)
    head.seq, head.hash = seq, digest
    session.flush()
    return ev


@dataclass(frozen=True)
class Verification:
    events: int
    head_seq: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> Verification:
    """Replay the whole chain and say where it breaks (if anywhere)."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    n = 0
    for ev in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
        n += 1
        if ev.seq != expected_seq:
            problems.append(f"event {expected_seq}" + (f"..{ev.seq - 1}" if ev.seq - 1 > expected_seq else "")
                            + " missing (deleted?)")
        if ev.prev_hash != prev:
            problems.append(f"event {ev.seq}: link to the previous event is broken")
        digest = event_hash(ev.seq, ev.at, ev.actor, ev.case_id, ev.action, ev.subject, ev.detail, ev.prev_hash)
        if digest != ev.hash:
            problems.append(f"event {ev.seq} ({ev.action} {ev.subject}): content does not match its hash (edited?)")
        prev = ev.hash
        expected_seq = ev.seq + 1
    head = session.get(AuditHead, 1)
    head_seq = head.seq if head else 0
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        problems.append(f"the newest event is {expected_seq - 1} but the head records {head.seq}: "
                        f"events after {expected_seq - 1} were deleted, or the head was altered")
    return Verification(n, head_seq, tuple(problems))
