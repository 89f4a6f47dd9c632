"""Events sent exactly once, through a real SMTP server on loopback, in each investor's language."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from redress.admin import payments
from redress.admin.errors import AdminError
from redress.notify import Delivery, Message, events
from redress.notify.channels import Channels, OutboxNotifier, SmtpNotifier, configured
from redress.store.models import AuditEvent, CaseHelp, InvestorContact, Notification
from support.admin import open_case

D = dt.date
OFFERS = {"INV1": 12_345_67, "INV2": 500_00, "INV3": 80_00}


def world(
    db, tmp_path, contacts: dict[str, tuple[str | None, str | None, str]], hotline: str | None = "95599"
):
    w = open_case(db, tmp_path, OFFERS)
    with w.tx() as s:
        for inv, (mail, phone, lang) in contacts.items():
            s.add(
                InvestorContact(
                    investor_id=inv,
                    email=mail,
                    phone=phone,
                    language=lang,
                    source="import",
                    updated_at="2023-02-01T00:00:00Z",
                )
            )
        if hotline:
            s.add(
                CaseHelp(
                    case_id=w.case_id, hotline=hotline, updated_by="alice", updated_at="2023-02-01T00:00:00Z"
                )
            )
    return w


def rows(w, **where) -> list[Notification]:
    with w.tx() as s:
        q = select(Notification).where(Notification.case_id == w.case_id).order_by(Notification.id)
        for k, v in where.items():
            q = q.where(getattr(Notification, k) == v)
        return list(s.execute(q).scalars())


def test_each_event_reaches_the_investor_once_in_their_language(db, tmp_path, smtp):
    w = world(
        db, tmp_path, {"INV1": ("wang@example.cn", None, "zh"), "INV2": ("smith@example.org", None, "en")}
    )
    mailer = SmtpNotifier.from_url(smtp.url)
    box = smtp.mailbox

    first = events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 2, 23))
    assert (first.sent, first.failed) == (4, 0)
    assert first.by_event == {"offer_opened": 2, "deadline_7": 2}
    zh = box.to("wang@example.cn")
    assert [m.subject for m in zh] == [
        "您在“Worked example”案中的先行赔付金额通知",
        "提醒：请于2023年3月1日前确认是否接受赔付",
    ]
    assert "12,345.67元" in zh[0].body and "2023年3月1日" in zh[0].body and "95599" in zh[0].body
    assert zh[0].language == "zh-CN"
    en = box.to("smith@example.org")
    assert en[0].subject == "Your advance compensation offer in case Worked example"
    assert "500.00 yuan" in en[0].body and "1 March 2023" in en[0].body and "95599" in en[0].body
    assert all("元" not in m.body for m in en)  # no side-by-side Chinese for an English reader

    again = events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 2, 23))
    assert (again.recorded, again.sent) == (0, 0) and len(box.received) == 4

    # the investor accepts; the next run tells only of that decision
    w.decide(w.decision("INV1", on=D(2023, 2, 24)))
    run = events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 2, 24))
    assert run.by_event == {"decision_recorded": 1}
    assert "12,345.67元" in box.received[-1].body and "接受" in box.received[-1].subject

    # the last day: only the investor who has not answered is reminded
    run = events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 2, 28))
    assert run.by_event == {"deadline_1": 1} and box.received[-1].to == ["smith@example.org"]

    # a payment sent, then returned by the bank
    number = w.pay_batch(D(2023, 2, 28))
    run = events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 3, 1))
    assert run.by_event == {"payment_sent": 1}
    ((instruction, *_rest),) = w.export(number)
    with w.tx() as s:
        payments.import_results(
            s,
            "alice",
            w.case_id,
            w.results_file("r.csv", [(instruction, "returned", "12345.67", "2023-03-02", "account closed")]),
        )
    run = events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 3, 2))
    assert run.by_event == {"payment_returned": 1}
    returned = box.received[-1]
    assert "核对" in returned.body and "重新付款" in returned.body and "95599" in returned.body

    assert events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 3, 2)).recorded == 0
    assert len(box.received) == 8 == len(rows(w, result="sent"))
    assert {r.ref for r in rows(w, event="payment_returned")} == {instruction}
    with w.tx() as s:
        runs = s.execute(select(AuditEvent).where(AuditEvent.action == "notify.run")).scalars().all()
    assert len(runs) == 5  # one per run that recorded something, not one per message


def test_a_crash_between_record_and_send_never_sends_twice(db, tmp_path, smtp):
    w = world(db, tmp_path, {"INV1": ("wang@example.cn", None, "zh")})

    class Crash(BaseException):
        pass

    class Dying:
        def send(self, message: Message) -> Delivery:
            raise Crash("the process died here")

    with pytest.raises(Crash):
        events.send_due(w.engine, "alice", w.case_id, Dying(), D(2023, 2, 20))
    pending = rows(w)
    assert [r.result for r in pending] == ["pending"] and pending[0].attempts == 0

    mailer = SmtpNotifier.from_url(smtp.url)
    assert events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 2, 20)).recorded == 0
    assert smtp.mailbox.received == []
    with w.tx() as s:
        assert [n.id for n in events.listing(s, w.case_id, undelivered=True)] == [pending[0].id]
    row = events.resend(w.engine, "alice", pending[0].id, mailer)
    assert (row.result, row.attempts) == ("sent", 1) and len(smtp.mailbox.received) == 1


def test_a_refused_recipient_is_a_failed_row_that_resend_delivers(db, tmp_path, smtp):
    w = world(db, tmp_path, {"INV1": ("gone@example.cn", None, "zh")})
    smtp.mailbox.refuse.add("gone@example.cn")
    mailer = SmtpNotifier.from_url(smtp.url)
    run = events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 2, 10))
    assert (run.sent, run.failed) == (0, 1)
    (failed,) = rows(w)
    assert (
        failed.result == "failed"
        and "550" in failed.detail
        and failed.attempts == 1
        and failed.sent_at is None
    )
    assert events.send_due(w.engine, "alice", w.case_id, mailer, D(2023, 2, 10)).recorded == 0

    row = events.resend(w.engine, "alice", failed.id, mailer)
    assert row.result == "failed" and row.attempts == 2
    smtp.mailbox.refuse.clear()
    row = events.resend(w.engine, "alice", failed.id, mailer)
    assert (row.id, row.result, row.attempts) == (failed.id, "sent", 3) and row.sent_at
    assert len(smtp.mailbox.received) == 1 and len(rows(w)) == 1
    with pytest.raises(AdminError, match="was sent"):
        events.resend(w.engine, "alice", failed.id, mailer)


def test_sms_go_to_the_outbox_one_whole_file_each(db, tmp_path):
    w = world(
        db, tmp_path, {"INV1": (None, "13800138000", "zh"), "INV3": ("li@example.cn", "+8613900139000", "en")}
    )
    outbox = tmp_path / "outbox"
    notifier = Channels(sms=OutboxNotifier(outbox))  # no mail server: e-mails wait until there is one
    run = events.send_due(w.engine, "alice", w.case_id, notifier, D(2023, 2, 10))
    assert run.sent == 2 and run.by_event == {"offer_opened": 2}
    files = sorted(outbox.iterdir())
    assert len(files) == 2 and all(f.suffix == ".json" and not f.name.startswith(".") for f in files)
    texts = {m["to"]: m for m in (json.loads(f.read_text(encoding="utf-8")) for f in files)}
    zh = texts["13800138000"]
    assert zh["language"] == "zh" and "12,345.67元" in zh["text"] and "95599" in zh["text"]
    assert len(zh["text"]) <= 70 and "http" not in zh["text"]
    assert texts["+8613900139000"]["text"].startswith("[Advance compensation] You are offered 80.00 yuan")
    assert [r.channel for r in rows(w)] == ["sms", "sms"]


def test_notify_investor_sends_only_theirs_and_never_raises(db, tmp_path, smtp):
    w = world(
        db, tmp_path, {"INV1": ("wang@example.cn", None, "zh"), "INV2": ("smith@example.org", None, "en")}
    )
    mailer = SmtpNotifier.from_url(smtp.url)
    report = events.notify_investor(w.engine, mailer, w.case_id, "INV2", D(2023, 2, 10))
    assert report.sent == 1 and [m.to for m in smtp.mailbox.received] == [["smith@example.org"]]
    assert events.notify_investor(w.engine, mailer, "no-such-case", "INV2", D(2023, 2, 10)) is None
    assert events.notify_investor(w.engine, None, w.case_id, "INV1", D(2023, 2, 10)) is None


def test_an_smtp_server_that_is_down_is_a_failed_delivery(smtp):
    from smtpserver import free_port

    down = SmtpNotifier("127.0.0.1", free_port(), timeout_s=2)
    result = down.send(Message("email", "a@example.cn", "s", "b", "zh"))
    assert not result.ok and "not reached" in result.detail


def test_configured_reads_the_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("REDRESS_SMTP_URL", raising=False)
    monkeypatch.delenv("REDRESS_SMS_OUTBOX", raising=False)
    assert configured() is None
    monkeypatch.setenv(
        "REDRESS_SMTP_URL", "smtp://user%40x:p%3Ass@mail.example.cn:587?from=fund@x.cn&starttls=1"
    )
    monkeypatch.setenv("REDRESS_SMS_OUTBOX", str(tmp_path))
    n = configured()
    assert n.email == SmtpNotifier("mail.example.cn", 587, "fund@x.cn", True, "user@x", "p:ss")
    assert n.sms == OutboxNotifier(tmp_path) and n.channels() == ("email", "sms")
    assert configured(sms_outbox=tmp_path / "other").sms == OutboxNotifier(tmp_path / "other")
    with pytest.raises(ValueError, match="unknown setting"):
        configured("smtp://mail.example.cn?form=x")
    with pytest.raises(ValueError, match="expected smtp://"):
        configured("http://mail.example.cn")
    assert not Channels(sms=OutboxNotifier(tmp_path)).send(Message("email", "a@b.cn", "s", "b", "zh")).ok
