"""Importing contacts (all or nothing, idempotent), the ``redress notify`` commands, the catalogue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from sqlalchemy import select

from redress.admin.errors import BadInput
from redress.notify.contacts import import_contacts
from redress.store.db import make_engine, migrate
from redress.store.models import InvestorContact
from support.admin import open_case

OFFERS = {"INV1": 12_345_67, "INV2": 500_00}
REDRESS = str(Path(sys.executable).parent / "redress")
SRC = Path(__file__).parents[2] / "src" / "redress"


def contacts(w) -> dict[str, tuple]:
    with w.tx() as s:
        return {
            c.investor_id: (c.email, c.phone, c.language, c.source)
            for c in s.execute(select(InvestorContact)).scalars()
        }


def test_contacts_import_is_idempotent_and_keeps_what_investors_gave(db, tmp_path):
    w = open_case(db, tmp_path, OFFERS)
    good = tmp_path / "contacts.csv"
    good.write_text(
        "investor_id,email,phone,language\nINV1,wang@example.cn,138 0013 8000,\nINV2,,+8613900139000,en\n",
        encoding="utf-8",
    )
    with w.tx() as s:
        assert import_contacts(s, "alice", w.case_id, good).as_dict() == {
            "added": 2,
            "updated": 0,
            "unchanged": 0,
            "kept": 0,
        }
    assert contacts(w) == {
        "INV1": ("wang@example.cn", "13800138000", "zh", "import"),
        "INV2": (None, "+8613900139000", "en", "import"),
    }
    with w.tx() as s:
        assert import_contacts(s, "alice", w.case_id, good).unchanged == 2
        s.get(InvestorContact, "INV1").source = "activation"
    good.write_text("investor_id,email,phone,language\nINV1,new@example.cn,,zh\nINV2,,13900139000,zh\n")
    with w.tx() as s:
        assert import_contacts(s, "alice", w.case_id, good).as_dict() == {
            "added": 0,
            "updated": 1,
            "unchanged": 0,
            "kept": 1,
        }
    assert contacts(w)["INV1"][0] == "wang@example.cn" and contacts(w)["INV2"][1:3] == ("13900139000", "zh")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            'INV1,=HYPERLINK("http://x"),,zh',
            "email '=HYPERLINK(\"http://x\")' starts like a spreadsheet formula",
        ),
        ("INV1,@x.cn,,zh", "starts like a spreadsheet formula"),
        ("INV1,,,zh", "neither e-mail nor phone"),
        ("INV1,not-an-address,,zh", "is not an e-mail address"),
        ("INV1,,12ab,zh", "is not a phone number"),
        ("INV1,a@b.cn,,fr", "language 'fr' is not one of zh, en"),
        ("NOBODY,a@b.cn,,zh", "investor NOBODY has no claim in case legal-a"),
        ("INV1,a@b.cn,,zh,extra", "5 cells, expected 4"),
    ],
)
def test_a_bad_line_refuses_the_whole_file(db, tmp_path, line, reason):
    w = open_case(db, tmp_path, OFFERS)
    bad = tmp_path / "c.csv"
    bad.write_text(f"investor_id,email,phone,language\nINV2,ok@example.cn,,en\n{line}\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        with w.tx() as s:
            import_contacts(s, "alice", w.case_id, bad)
    assert "c.csv:3: " in str(caught.value) and reason in str(caught.value)
    assert contacts(w) == {}


def test_the_notify_commands(tmp_path, smtp):
    url = f"sqlite:///{tmp_path / 'redress.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    open_case((url, engine), tmp_path, OFFERS)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDRESS_")} | {
        "REDRESS_DATABASE_URL": url,
        "REDRESS_USER": "alice",
        "COLUMNS": "250",
    }
    file = tmp_path / "contacts.csv"
    file.write_text(
        "investor_id,email,phone,language\nINV1,wang@example.cn,13800138000,zh\nINV2,smith@example.org,,en\n",
        encoding="utf-8",
    )

    def redress(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [REDRESS, "notify", *args], env=env, capture_output=True, text=True, timeout=120
        )

    done = redress("contacts", "legal-a", str(file))
    assert done.returncode == 0, done.stderr
    assert "2 added" in done.stdout
    outbox = tmp_path / "outbox"
    done = redress("run", "legal-a", "--on", "2023-02-10", "--smtp", smtp.url, "--sms-outbox", str(outbox))
    assert done.returncode == 0, done.stderr
    assert "3 sent, 0 failed" in done.stdout and "offer_opened: 3" in done.stdout
    assert len(smtp.mailbox.received) == 2 and len(list(outbox.glob("*.json"))) == 1
    done = redress("run", "legal-a", "--on", "2023-02-10", "--smtp", smtp.url, "--sms-outbox", str(outbox))
    assert "0 sent, 0 failed" in done.stdout and len(smtp.mailbox.received) == 2
    listed = redress("list", "legal-a", "--investor", "INV1")
    assert listed.returncode == 0 and listed.stdout.count("offer_opened") == 2
    assert redress("list", "legal-a", "--failed").stdout.count("offer_opened") == 0
    nothing = redress("run", "legal-a")
    assert nothing.returncode == 2 and "--smtp" in nothing.stderr
    stranger = redress("run", "legal-a", "--smtp", smtp.url, "--as", "nobody")
    assert stranger.returncode == 2 and "nobody" in stranger.stderr


def test_every_message_has_a_chinese_translation():
    with (SRC / "locale" / "zh" / "LC_MESSAGES" / "notify.po").open("rb") as fh:
        catalogue = {m.id: m.string for m in read_po(fh, locale="zh") if m.id}
    used = {
        msg
        for path in (SRC / "notify").glob("*.py")
        for _line, msg, _c, _ctx in extract_from_file("python", str(path), keywords={"_": None})
    }
    assert used and used <= set(catalogue), sorted(used - set(catalogue))
    assert all(catalogue[m] for m in used)


def test_create_app_keeps_the_notifier_it_is_given(tmp_path, monkeypatch):
    from redress.notify.channels import Channels, OutboxNotifier
    from redress.web.app import create_app

    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    given = Channels(sms=OutboxNotifier(tmp_path / "o"))
    assert create_app(url, data_dir=tmp_path / "d", notifier=given).state.notifier is given
    monkeypatch.setenv("REDRESS_SMS_OUTBOX", str(tmp_path / "env"))
    monkeypatch.delenv("REDRESS_SMTP_URL", raising=False)
    assert create_app(url, data_dir=tmp_path / "d").state.notifier.sms == OutboxNotifier(tmp_path / "env")
