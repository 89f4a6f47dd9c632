"""The real notifiers: SMTP for e-mail, an outbox folder for SMS, and the one this installation configures.

Neither raises for a message that cannot be delivered: a refused recipient or a server that is down is a
``Delivery`` with ``ok=False`` and the reason, recorded on the notification so that it can be sent again.
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
import tempfile
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from redress.notify import Delivery, Message

SMTP_URL_ENV = "REDRESS_SMTP_URL"
SMS_OUTBOX_ENV = "REDRESS_SMS_OUTBOX"
DETAIL_CHARS_MAX = 300          # what the notification row keeps of an answer


def _clip(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= DETAIL_CHARS_MAX else text[:DETAIL_CHARS_MAX - 1] + "…"


@dataclass(frozen=True)
class SmtpNotifier:
    """Sends e-mail through one SMTP server (a new connection per message: a run sends few, and a dropped
    connection then costs one message, not the rest of the run)."""

    host: str
    port: int = 25
    sender: str = "redress@localhost"
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout_s: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpNotifier:
        """``smtp://[user:pass@]host:port?from=addr&starttls=1`` (``smtps`` is not offered: use STARTTLS)."""
        parts = urlsplit(url)
        if parts.scheme != "smtp" or not parts.hostname:
            raise ValueError(f"mail server address {_redacted(url)!r}: expected "
                             "smtp://[user:pass@]host:port?from=addr&starttls=1")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = sorted(set(query) - {"from", "starttls", "timeout"})
        if unknown:
            raise ValueError(f"mail server address: unknown setting(s) {', '.join(unknown)}; "
                             "known: from, starttls, timeout")
        try:
            port = parts.port or 25
            timeout_s = float(query.get("timeout", "30"))
        except ValueError as exc:
            raise ValueError(f"mail server address: {exc}") from None
        starttls = query.get("starttls", "0").lower() in ("1", "true", "yes")
        return cls(host=parts.hostname, port=port, sender=query.get("from") or f"redress@{parts.hostname}",
                   starttls=starttls, user=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None, timeout_s=timeout_s)

    def send(self, message: Message) -> Delivery:
        if message.channel != "email":
            return Delivery(False, f"the mail server sends e-mail only, not {message.channel}")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(message.body, charset="utf-8")
        mail["Content-Language"] = "zh-CN" if message.language == "zh" else message.language
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                refused = smtp.send_message(mail)
                code, answer = smtp.noop()
        except smtplib.SMTPRecipientsRefused as exc:
            return Delivery(False, _clip("recipient refused: " + "; ".join(
                f"{addr} {code} {_text(text)}" for addr, (code, text) in exc.recipients.items())))
        except smtplib.SMTPResponseException as exc:
            return Delivery(False, _clip(f"mail server answered {exc.smtp_code} {_text(exc.smtp_error)}"))
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            return Delivery(False, _clip(f"mail server {self.host}:{self.port} not reached: "
                                         f"{type(exc).__name__}: {exc}"))
        if refused:
            return Delivery(False, _clip("recipient refused: " + "; ".join(
                f"{addr} {c} {_text(t)}" for addr, (c, t) in refused.items())))
        return Delivery(True, _clip(f"accepted by {self.host}:{self.port} ({code})"))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


@dataclass(frozen=True)
class OutboxNotifier:
    """Writes each SMS as one JSON file into ``folder``, where an SMS gateway collects it.  A file appears
    whole or not at all (written beside, then renamed), so the gateway never reads half a message."""

    folder: Path

    def send(self, message: Message) -> Delivery:
        if message.channel != "sms":
            return Delivery(False, f"the SMS outbox sends text messages only, not {message.channel}")
        name = f"{uuid.uuid4().hex}.json"
        record = {"id": name[:-5], "to": message.to, "text": message.body, "language": message.language}
        tmp = None
        try:
            folder = Path(self.folder)
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, folder / name)
        except OSError as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return Delivery(False, _clip(f"SMS outbox {self.folder} not writable: {exc}"))
        return Delivery(True, f"queued in the SMS outbox as {name}")


@dataclass(frozen=True)
class Channels:
    """Each message to the notifier for its channel: e-mail to ``email``, SMS to ``sms``."""

    email: object | None = None     # a Notifier
    sms: object | None = None       # a Notifier

    def send(self, message: Message) -> Delivery:
        notifier = {"email": self.email, "sms": self.sms}.get(message.channel)
        if notifier is None:
            return Delivery(False, f"no {message.channel} channel is configured (set {SMTP_URL_ENV} for "
                                   f"e-mail, {SMS_OUTBOX_ENV} for SMS)")
        return notifier.send(message)

    def channels(self) -> tuple[str, ...]:
        return tuple(c for c, n in (("email", self.email), ("sms", self.sms)) if n is not None)


def configured(smtp_url: str | None = None, sms_outbox: str | Path | None = None) -> Channels | None:
    """The notifier of this installation: e-mail through ``smtp_url`` (else ``REDRESS_SMTP_URL``), SMS into
    the folder ``sms_outbox`` (else ``REDRESS_SMS_OUTBOX``); None when neither is set.  A malformed mail
    server address is a ``ValueError`` naming what is wrong."""
    smtp_url = smtp_url or os.environ.get(SMTP_URL_ENV) or None
    sms_outbox = sms_outbox or os.environ.get(SMS_OUTBOX_ENV) or None
    if not smtp_url and not sms_outbox:
        return None
    return Channels(email=SmtpNotifier.from_url(smtp_url) if smtp_url else None,
                    sms=OutboxNotifier(Path(sms_outbox)) if sms_outbox else None)
