"""Telling investors: the notifier interface, its SMTP and outbox implementations, and the events sent.

A ``Notifier`` sends one ``Message`` and says what became of it (``Delivery``).  ``redress.notify.channels``
holds the real ones (SMTP for e-mail; an outbox folder that an SMS gateway collects from); ``configured``
builds the one this installation uses from its settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Channel = Literal["email", "sms"]


@dataclass(frozen=True)
class Message:
    channel: Channel
    to: str                 # an e-mail address or a phone number
    subject: str            # e-mail subject (SMS: unused)
    body: str
    language: str           # zh or en: the language the text is written in


@dataclass(frozen=True)
class Delivery:
    ok: bool
    detail: str             # the server's or gateway's answer, for the record


class Notifier(Protocol):
    def send(self, message: Message) -> Delivery: ...
