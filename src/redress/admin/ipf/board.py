"""Board decisions of the fund company, recorded and checked (Measures Art. 9-11): a meeting is recorded with
who was present and whether it could be held; a resolution with the votes and whether it passed.  Both are
kept, valid or not (append-only), so the record shows what was attempted; services that need a board
decision (using the fund for a failed firm, the annual budget) ask ``require_resolution``."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.admin.cases import require_user
from redress.admin.errors import AdminError, BadInput, NotFound
from redress.protection import (Meeting, ProtectionError, Resolution, check_meeting, check_resolution,
                                decisions_needing_board)
from redress.store import audit
from redress.store.models import BoardMeeting, BoardResolution


def _findings(outcome) -> str:
    return json.dumps([{"code": f.code.value, "en": f.message_en, "zh": f.message_zh, "source": f.source}
                       for f in outcome.reasons], ensure_ascii=False)


def record_meeting(session: Session, actor: str, held_on: dt.date, directors: list[str], present: list[str],
                   kind: str = "regular") -> BoardMeeting:
    """Record a board meeting; whether it could be held (nine directors, two thirds or more present: 6 of 9)
    is checked and stored with the findings, in English and Chinese."""
    require_user(session, actor, "operator")
    try:
        meeting = Meeting(held_on, tuple(directors), frozenset(present), kind)  # type: ignore[arg-type]
    except ProtectionError as exc:
        raise BadInput(f"board meeting refused: {exc}") from None
    outcome = check_meeting(meeting)
    row = BoardMeeting(held_on=held_on, kind=meeting.kind.value, directors_json=json.dumps(list(meeting.directors),
                       ensure_ascii=False), present_json=json.dumps(sorted(meeting.present), ensure_ascii=False),
                       valid=outcome.valid, findings_json=_findings(outcome))
    session.add(row)
    session.flush()
    audit.record(session, actor, "ipf.board_meeting", f"meeting {row.id}",
                 {"held_on": held_on.isoformat(), "kind": row.kind, "present": sorted(meeting.present),
                  "valid": outcome.valid})
    return row


def meeting_of(row: BoardMeeting) -> Meeting:
    return Meeting(row.held_on, tuple(json.loads(row.directors_json)), frozenset(json.loads(row.present_json)),
                   row.kind)  # type: ignore[arg-type]


def record_resolution(session: Session, actor: str, meeting_id: int, subject: str, reference: str, text: str,
                      votes_for: list[str], votes_against: list[str] = (), abstain: list[str] = ()
                      ) -> BoardResolution:
    """Record a resolution and the votes; whether it passed (more than half of ALL directors in favour, at a
    meeting that could be held, votes only by directors present, each once) is checked and stored.  Idempotent
    by reference: the same resolution again returns the stored one."""
    require_user(session, actor, "operator")
    m = session.get(BoardMeeting, meeting_id)
    if m is None:
        raise NotFound(f"no board meeting {meeting_id}")
    if not reference.strip() or not subject.strip():
        raise BadInput("a resolution needs a subject and a reference (its number) / 决议需有事项和编号")
    votes = {"for": sorted(votes_for), "against": sorted(votes_against), "abstain": sorted(abstain)}
    old = session.execute(select(BoardResolution).where(BoardResolution.reference == reference)).scalar_one_or_none()
    if old is not None:
        if (old.meeting_id, old.subject, old.text, json.loads(old.votes_json)) == (meeting_id, subject, text, votes):
            return old
        raise AdminError(f"resolution {reference!r} was already recorded differently / 决议编号已使用")
    try:
        outcome = check_resolution(meeting_of(m), Resolution(subject, tuple(votes_for), tuple(votes_against),
                                                             tuple(abstain)))
    except ProtectionError as exc:
        raise BadInput(f"resolution refused: {exc}") from None
    row = BoardResolution(meeting_id=meeting_id, subject=subject, reference=reference, text=text,
                          votes_json=json.dumps(votes, ensure_ascii=False), passed=outcome.valid,
                          findings_json=_findings(outcome))
    session.add(row)
    session.flush()
    audit.record(session, actor, "ipf.board_resolution", reference,
                 {"meeting": meeting_id, "subject": subject, "votes": votes, "passed": outcome.valid})
    return row


def findings(row: BoardMeeting | BoardResolution) -> list[dict]:
    return json.loads(row.findings_json)


def require_resolution(session: Session, subject: str, reference: str) -> BoardResolution:
    """The passed board resolution ``reference`` on ``subject``, or a refusal saying what is missing."""
    row = session.execute(select(BoardResolution).where(BoardResolution.reference == reference)).scalar_one_or_none()
    need = decisions_needing_board().get(subject)
    what = f"{need.name_en} / {need.name_zh}" if need else subject
    if row is None:
        raise AdminError(f"no board resolution {reference!r}: {what} needs one / 需要董事会决议",
                         hint="`redress ipf board meeting` then `redress ipf board resolve`")
    if row.subject != subject:
        raise AdminError(f"board resolution {reference!r} is on {row.subject!r}, not {subject!r}")
    if not row.passed:
        reasons = "; ".join(f["en"] for f in findings(row))
        raise AdminError(f"board resolution {reference!r} did not pass ({reasons}) / 决议未通过")
    return row


def meetings(session: Session) -> list[BoardMeeting]:
    return list(session.execute(select(BoardMeeting).order_by(BoardMeeting.held_on, BoardMeeting.id)).scalars())


def resolutions(session: Session, meeting_id: int | None = None) -> list[BoardResolution]:
    stmt = select(BoardResolution).order_by(BoardResolution.id)
    if meeting_id is not None:
        stmt = stmt.where(BoardResolution.meeting_id == meeting_id)
    return list(session.execute(stmt).scalars())
