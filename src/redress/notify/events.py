"""What an investor is told about one case, and sending it exactly once.

An *event* is a fact of the case that concerns one investor: claims opened with an offer for them, a deadline
drawing near, a decision recorded, a payment sent or returned, a late window opened.  Each is named by
``(case, investor, event, ref)``; ``ref`` says which occurrence it is (the deadline's date, a decision's id, a
payment's instruction id), so an extended deadline is reminded of again while a repeated run is not.

``send_due`` records every message as a ``Notification`` row (``pending``) and commits *before* it sends, then
records what became of it.  The database's ``uq_notification_once`` allows one row per case, investor, event,
ref and channel: a second run, a concurrent run, or a run after a crash finds the row and sends nothing.  A
crash between the commit and the answer leaves the row ``pending`` (never sent twice, possibly not at all);
``resend`` tries a ``failed`` or ``pending`` row again, on the same row.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from redress import i18n
from redress.admin.errors import AdminError, NotFound
from redress.i18n import _
from redress.notify import Channel, Delivery, Message, Notifier
from redress.store import audit
from redress.store.db import unit_of_work
from redress.store.models import (Case, CaseHelp, Claim, Decision, InvestorContact, Notification, Payment,
                                  PaymentBatch)

log = logging.getLogger("redress.notify")

PORTAL_URL_ENV = "REDRESS_PORTAL_URL"
RECENT_DAYS = 30           # a decision or payment older than this is history, not news: it is not announced
REMINDER_DAYS_FIRST = 7    # deadline_7: from 7 days before the deadline (down to 2)
REMINDER_DAYS_LAST = 1     # deadline_1: the day before the deadline, or the day itself
CHANNELS: tuple[Channel, ...] = ("email", "sms")


class Event(StrEnum):
    """The events an investor is told of (``Notification.event``)."""

    OFFER_OPENED = "offer_opened"              # claims are open and the investor has an offer
    DEADLINE_7 = "deadline_7"                  # a week before the deadline, the offer still unanswered
    DEADLINE_1 = "deadline_1"                  # the last day or two, the offer still unanswered
    DECISION_RECORDED = "decision_recorded"    # the investor's acceptance or refusal was recorded
    PAYMENT_SENT = "payment_sent"              # a payment was instructed to the investor's bank
    PAYMENT_RETURNED = "payment_returned"      # the bank sent a payment back: the bank details need checking
    LATE_WINDOW_OPENED = "late_window_opened"  # a lapsed offer may be accepted again, until a date


@dataclass(frozen=True)
class Due:
    """One event for one investor, before it is written for a channel."""

    investor_id: str
    event: Event
    ref: str
    amount_fen: int = 0
    on: dt.date | None = None        # the date the text names: deadline, decision, payment, late window's end
    decision: str | None = None      # accept or decline, for decision_recorded


@dataclass(frozen=True)
class Outgoing:
    """One message to write down and send: an event on one channel, in the investor's language."""

    due: Due
    message: Message


@dataclass(frozen=True)
class Setting:
    """What every text of a case names besides the event itself."""

    case_id: str
    case_name: str
    hotline: str | None = None
    portal_url: str | None = None


@dataclass
class RunReport:
    """What a run did: messages recorded and sent, failed, or left pending (a crash mid-run)."""

    case_id: str
    recorded: int = 0
    sent: int = 0
    failed: int = 0
    already: int = 0                  # found recorded by a concurrent run between listing and recording
    by_event: dict[str, int] = field(default_factory=dict)
    notification_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"recorded": self.recorded, "sent": self.sent, "failed": self.failed, "already": self.already,
                "by_event": dict(sorted(self.by_event.items()))}


Unit = Engine | Callable[[], AbstractContextManager[Session]]


def _unit(where: Unit) -> Callable[[], AbstractContextManager[Session]]:
    """A factory of transactions: an engine gives ``unit_of_work``; a callable is used as it is."""
    if isinstance(where, Engine):
        return lambda: unit_of_work(where)
    return where


# -- the events ----------------------------------------------------------------------------------------------

def events(session: Session, case: Case, today: dt.date, investor_id: str | None = None) -> list[Due]:
    """Every event of ``case`` that concerns an investor on ``today`` (recorded or not)."""
    state = case.state
    out: list[Due] = []

    def claims_in(status: str):
        q = select(Claim.investor_id, Claim.offered_fen).where(Claim.case_id == case.id,
                                                               Claim.status == status)
        if investor_id is not None:
            q = q.where(Claim.investor_id == investor_id)
        return session.execute(q.order_by(Claim.investor_id)).all()

    if state == "claims_open" and case.deadline is not None and today <= case.deadline:
        days_left = (case.deadline - today).days
        opened = (case.claims_open_on or case.deadline).isoformat()
        deadline = case.deadline.isoformat()
        for inv, fen in claims_in("offered"):
            out.append(Due(inv, Event.OFFER_OPENED, opened, fen, case.deadline))
            if REMINDER_DAYS_LAST < days_left <= REMINDER_DAYS_FIRST:
                out.append(Due(inv, Event.DEADLINE_7, deadline, fen, case.deadline))
            elif days_left <= REMINDER_DAYS_LAST:
                out.append(Due(inv, Event.DEADLINE_1, deadline, fen, case.deadline))
    if state == "late_window" and case.late_window_until is not None and today <= case.late_window_until:
        for inv, fen in claims_in("lapsed"):
            out.append(Due(inv, Event.LATE_WINDOW_OPENED, case.late_window_until.isoformat(), fen,
                           case.late_window_until))

    since = today - dt.timedelta(days=RECENT_DAYS)
    q = (select(Decision.id, Decision.decision, Decision.decided_on, Claim.investor_id, Claim.offered_fen,
                Claim.awarded_fen)
         .join(Claim, Claim.id == Decision.claim_id)
         .where(Claim.case_id == case.id, Decision.decision.in_(("accept", "decline")),
                Decision.decided_on >= since, Decision.decided_on <= today))
    if investor_id is not None:
        q = q.where(Claim.investor_id == investor_id)
    for did, decision, on, inv, offered, awarded in session.execute(q.order_by(Decision.id)):
        amount = (awarded or offered) if decision == "accept" else offered
        out.append(Due(inv, Event.DECISION_RECORDED, str(did), amount, on, decision))

    q = (select(Payment.instruction_id, Payment.status, Payment.amount_fen, Payment.settled_on,
                PaymentBatch.released_on, Claim.investor_id)
         .join(PaymentBatch, PaymentBatch.id == Payment.batch_id).join(Claim, Claim.id == Payment.claim_id)
         .where(PaymentBatch.case_id == case.id, Payment.status.in_(("instructed", "paid", "returned"))))
    if investor_id is not None:
        q = q.where(Claim.investor_id == investor_id)
    for instruction, status, fen, settled_on, released_on, inv in session.execute(q.order_by(Payment.id)):
        if status == "returned":
            if settled_on is not None and since <= settled_on <= today:
                out.append(Due(inv, Event.PAYMENT_RETURNED, instruction, fen, settled_on))
        elif released_on is not None and since <= released_on <= today:
            out.append(Due(inv, Event.PAYMENT_SENT, instruction, fen, released_on))
    return out


def setting(session: Session, case: Case, portal_url: str | None = None) -> Setting:
    help_ = session.get(CaseHelp, case.id)
    portal = portal_url if portal_url is not None else os.environ.get(PORTAL_URL_ENV) or None
    return Setting(case.id, case.name, (help_.hotline or None) if help_ else None, portal)


def due(session: Session, case_id: str, today: dt.date, *, investor_id: str | None = None,
        channels: Iterable[str] = CHANNELS, portal_url: str | None = None) -> list[Outgoing]:
    """The messages due for ``case_id`` on ``today`` and not yet recorded: one per event, investor and channel
    the investor gave (``InvestorContact``), written in the investor's language."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id!r}; `redress case list` shows the cases")
    found = events(session, case, today, investor_id)
    if not found:
        return []
    q = select(Notification.investor_id, Notification.event, Notification.ref, Notification.channel).where(
        Notification.case_id == case_id)
    if investor_id is not None:
        q = q.where(Notification.investor_id == investor_id)
    recorded = {tuple(r) for r in session.execute(q)}
    investors = sorted({d.investor_id for d in found})
    contacts: dict[str, InvestorContact] = {}
    for start in range(0, len(investors), 5000):
        contacts.update({c.investor_id: c for c in session.execute(select(InvestorContact).where(
            InvestorContact.investor_id.in_(investors[start:start + 5000]))).scalars()})
    where = setting(session, case, portal_url)
    wanted = tuple(c for c in CHANNELS if c in set(channels))
    out: list[Outgoing] = []
    for d in found:
        contact = contacts.get(d.investor_id)
        if contact is None:
            continue
        for channel, address in (("email", contact.email), ("sms", contact.phone)):
            if channel not in wanted or not address or (d.investor_id, d.event, d.ref, channel) in recorded:
                continue
            out.append(Outgoing(d, write(d, where, channel, contact.language, address)))
    return out


# -- the words -----------------------------------------------------------------------------------------------

def _amount(fen: int) -> str:
    return _("%(amount)s yuan", amount=i18n.money(fen))


def write(d: Due, where: Setting, channel: Channel, language: str | None, address: str) -> Message:
    """The message for event ``d`` on ``channel``, in ``language`` (Chinese when unknown)."""
    with i18n.use(language) as lang:
        if channel == "sms":
            return Message("sms", address, "", sms_text(d, where), lang)
        return Message("email", address, email_subject(d, where), email_body(d, where), lang)


def email_subject(d: Due, where: Setting) -> str:
    case = where.case_name
    match d.event:
        case Event.OFFER_OPENED:
            return _("Your advance compensation offer in case %(case)s", case=case)
        case Event.DEADLINE_7:
            return _("Reminder: please decide on your offer by %(deadline)s", deadline=i18n.date(d.on))
        case Event.DEADLINE_1:
            return _("Last reminder: your offer ends on %(deadline)s", deadline=i18n.date(d.on))
        case Event.DECISION_RECORDED:
            return (_("We have recorded your acceptance (case %(case)s)", case=case) if d.decision == "accept"
                    else _("We have recorded your refusal (case %(case)s)", case=case))
        case Event.PAYMENT_SENT:
            return _("Your compensation has been sent (case %(case)s)", case=case)
        case Event.PAYMENT_RETURNED:
            return _("Your payment came back: please check your bank details (case %(case)s)", case=case)
        case Event.LATE_WINDOW_OPENED:
            return _("You may still accept your offer until %(until)s", until=i18n.date(d.on))
    raise ValueError(f"unknown event {d.event!r}")


def _paragraph(d: Due, where: Setting) -> str:
    case, amount, on = where.case_name, _amount(d.amount_fen), i18n.date(d.on)
    match d.event:
        case Event.OFFER_OPENED:
            return _("Claims are now open in case %(case)s. The fund offers you %(amount)s in advance "
                     "compensation. Please decide by %(deadline)s whether you accept the offer. "
                     "If you do not accept it, you keep your right to go to court.",
                     case=case, amount=amount, deadline=on)
        case Event.DEADLINE_7:
            return _("You have not yet answered the offer of %(amount)s in case %(case)s. Please decide by "
                     "%(deadline)s.", amount=amount, case=case, deadline=on)
        case Event.DEADLINE_1:
            return _("You have not yet answered the offer of %(amount)s in case %(case)s. The offer ends on "
                     "%(deadline)s; without an answer by then it lapses.",
                     amount=amount, case=case, deadline=on)
        case Event.DECISION_RECORDED:
            if d.decision == "accept":
                return _("On %(date)s we recorded that you accept the offer of %(amount)s in case %(case)s. "
                         "The money will be paid to your bank account; we will tell you when it is sent.",
                         date=on, amount=amount, case=case)
            return _("On %(date)s we recorded that you do not accept the offer in case %(case)s. "
                     "You keep your right to go to court.", date=on, case=case)
        case Event.PAYMENT_SENT:
            return _("%(amount)s has been sent to your bank account in case %(case)s (payment reference "
                     "%(ref)s). It may take a few working days to arrive.",
                     amount=amount, case=case, ref=d.ref)
        case Event.PAYMENT_RETURNED:
            return _("Your bank sent back the payment of %(amount)s in case %(case)s "
                     "(payment reference %(ref)s). Please call the hotline to check your bank details. "
                     "The fund will then pay you again; "
                     "you do not need to pay anything.", amount=amount, case=case, ref=d.ref)
        case Event.LATE_WINDOW_OPENED:
            return _("Your offer of %(amount)s in case %(case)s lapsed because no answer came by the "
                     "deadline. You now have a second chance: you may still accept it until %(until)s.",
                     amount=amount, case=case, until=on)
    raise ValueError(f"unknown event {d.event!r}")


def email_body(d: Due, where: Setting) -> str:
    parts = [_("Dear investor %(investor)s,", investor=d.investor_id), _paragraph(d, where)]
    if d.event is Event.DECISION_RECORDED:
        parts.append(_("If you did not make this decision, please call the hotline at once."))
    if where.portal_url:
        parts.append(_("You can see the details on the investor portal: %(portal)s (your user name is your "
                       "investor number, %(investor)s).", portal=where.portal_url, investor=d.investor_id))
    else:
        parts.append(_("You can see the details on the fund's investor portal (your user name is your "
                       "investor number, %(investor)s).", investor=d.investor_id))
    if where.hotline:
        parts.append(_("Questions? Call the hotline: %(hotline)s.", hotline=where.hotline))
    parts.append(_("The fund never asks you to pay money, or for your password, by telephone, text message "
                   "or e-mail. Ignore any message that does."))
    parts.append(_("The advance compensation fund, case %(case)s", case=where.case_name))
    return "\n\n".join(parts) + "\n"


def sms_text(d: Due, where: Setting) -> str:
    """A short text (about 70 Chinese characters): no link, the amount, the date, the hotline."""
    amount, on = _amount(d.amount_fen), i18n.date(d.on)
    match d.event:
        case Event.OFFER_OPENED:
            text = _("You are offered %(amount)s in advance compensation. Please decide on the investor "
                     "portal by %(deadline)s.", amount=amount, deadline=on)
        case Event.DEADLINE_7 | Event.DEADLINE_1:
            text = _("Reminder: your offer of %(amount)s ends on %(deadline)s. Please decide on the investor "
                     "portal.", amount=amount, deadline=on)
        case Event.DECISION_RECORDED:
            if d.decision == "accept":
                text = _("We recorded that you accept %(amount)s on %(date)s.", amount=amount, date=on)
            else:
                text = _("We recorded that you do not accept the offer on %(date)s.", date=on)
        case Event.PAYMENT_SENT:
            text = _("%(amount)s has been sent to your bank account.", amount=amount)
        case Event.PAYMENT_RETURNED:
            text = _("Your payment of %(amount)s came back from your bank. Please call the hotline to check "
                     "your bank details; it will be paid again.", amount=amount)
        case Event.LATE_WINDOW_OPENED:
            text = _("Your lapsed offer of %(amount)s may still be accepted until %(until)s.", amount=amount,
                     until=on)
        case _:
            raise ValueError(f"unknown event {d.event!r}")
    text = _("[Advance compensation] %(text)s", text=text)
    if where.hotline:
        text += _(" Hotline %(hotline)s", hotline=where.hotline)
    return text


# -- recording and sending -----------------------------------------------------------------------------------

def _channels_of(notifier: Notifier) -> tuple[str, ...]:
    served = getattr(notifier, "channels", None)
    return tuple(served()) if callable(served) else CHANNELS


def _record(s: Session, case_id: str, o: Outgoing, at: str) -> Notification | None:
    """The pending row of ``o``; None when a concurrent run recorded it first."""
    m = o.message
    row = Notification(case_id=case_id, investor_id=o.due.investor_id, event=o.due.event.value, ref=o.due.ref,
                       channel=m.channel, address=m.to, language=m.language, subject=m.subject[:300],
                       body=m.body, created_at=at, result="pending", attempts=0)
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError:
        return None
    return row


def _deliver(notifier: Notifier, message: Message) -> Delivery:
    try:
        return notifier.send(message)
    except Exception as exc:            # a notifier must not raise; if one does, the row says why it failed
        log.exception("notifier %s raised", type(notifier).__name__)
        return Delivery(False, f"{type(exc).__name__}: {exc}"[:300])


def _note(s: Session, notification_id: int, delivery: Delivery) -> Notification:
    row = s.get(Notification, notification_id, with_for_update=True)
    row.attempts = (row.attempts or 0) + 1
    row.result = "sent" if delivery.ok else "failed"
    row.detail = (delivery.detail or "")[:300]
    if delivery.ok:
        row.sent_at = audit.now_stamp()
    s.flush()
    return row


def send_due(unit: Unit, actor: str, case_id: str, notifier: Notifier, today: dt.date, *,
             investor_id: str | None = None, portal_url: str | None = None,
             progress: Callable[[int, int], None] | None = None) -> RunReport:
    """Record and send what is due for ``case_id`` on ``today`` (one investor with ``investor_id``).

    The rows are committed as ``pending`` before the first message leaves; each answer is committed as it
    comes.  ``progress(done, total)`` is told after each message.  One audit event records the run's
    counts."""
    tx = _unit(unit)
    report = RunReport(case_id)
    at = audit.now_stamp()
    with tx() as s:
        todo = due(s, case_id, today, investor_id=investor_id, channels=_channels_of(notifier),
                   portal_url=portal_url)
        pending: list[tuple[int, Message]] = []
        for o in todo:
            row = _record(s, case_id, o, at)
            if row is None:
                report.already += 1
                continue
            pending.append((row.id, o.message))
            report.recorded += 1
            report.by_event[o.due.event.value] = report.by_event.get(o.due.event.value, 0) + 1
    # committed: from here on a crash leaves pending rows, which no later run sends again
    for i, (nid, message) in enumerate(pending, 1):
        delivery = _deliver(notifier, message)
        with tx() as s:
            _note(s, nid, delivery)
        report.notification_ids.append(nid)
        if delivery.ok:
            report.sent += 1
        else:
            report.failed += 1
        if progress is not None:
            progress(i, len(pending))
    if report.recorded or report.already:
        with tx() as s:
            audit.record(s, actor, "notify.run", investor_id or case_id,
                         {"on": today.isoformat(), **report.as_dict()}, case_id)
    return report


def resend(unit: Unit, actor: str, notification_id: int, notifier: Notifier) -> Notification:
    """Send a ``failed`` (or ``pending``) notification again: the same row, one more attempt."""
    tx = _unit(unit)
    with tx() as s:
        row = s.get(Notification, notification_id)
        if row is None:
            raise NotFound(f"no notification {notification_id}; `redress notify list CASE --failed` shows "
                           f"those not delivered")
        if row.result == "sent":
            raise AdminError(f"notification {notification_id} was sent on {row.sent_at}; nothing to resend")
        message = Message(row.channel, row.address, row.subject, row.body, row.language)
        case_id = row.case_id
    delivery = _deliver(notifier, message)
    with tx() as s:
        row = _note(s, notification_id, delivery)
        audit.record(s, actor, "notify.resend", str(notification_id),
                     {"result": row.result, "attempts": row.attempts, "detail": row.detail}, case_id)
        return row


def notify_investor(engine: Engine, notifier: Notifier | None, case_id: str, investor_id: str,
                    today: dt.date | None = None, *, actor: str = "system") -> RunReport | None:
    """Send what is due for one investor now (after an online decision, say).  Best effort: any failure is
    logged and None returned; it never raises into the caller, whose own work is already done."""
    if notifier is None:
        return None
    try:
        return send_due(engine, actor, case_id, notifier, today or dt.date.today(), investor_id=investor_id)
    except Exception:
        log.exception("notifying investor %s of case %s failed", investor_id, case_id)
        return None


def listing(session: Session, case_id: str, *, investor_id: str | None = None,
            undelivered: bool = False) -> list[Notification]:
    """The notifications of a case, newest first; ``undelivered``: failed or still pending."""
    q = select(Notification).where(Notification.case_id == case_id)
    if investor_id is not None:
        q = q.where(Notification.investor_id == investor_id)
    if undelivered:
        q = q.where(Notification.result.in_(("failed", "pending")))
    return list(session.execute(q.order_by(Notification.id.desc())).scalars())
