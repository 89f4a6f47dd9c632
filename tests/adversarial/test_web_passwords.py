"""Weak passwords and patient guessing: every place that sets a password refuses short and common ones, and the
lock-out counts only recent failures (an investor's account is released by time; a guess a day never adds up)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from support.db import fresh_database
from typer.testing import CliRunner
from web.websupport import PASSWORD, served, small_case

from redress import passwords
from redress.admin import cases
from redress.admin.errors import BadInput
from redress.cli.main import app as cli
from redress.store.db import unit_of_work
from redress.store.models import User
from redress.web import security

WEAK = ["password", "s3cret-pass", "Password1234", "qwertyuiop123", "q1w2e3r4t5y6", "1qaz2wsx3edc", "pass word 1234",
        "aaaaaaaaaaaaaaaa", "1234567890123", "ab cd ef"]
STRONG = ["correct horse battery staple", "e2e-Passw0rd!", "opening-day-2023", "tarif plan 7 lune vert",
          "投资者保护基金二零二三年度"]


def test_the_common_password_list_ships_with_the_package():
    from importlib.resources import files

    assert (files("redress") / "common-passwords.txt.gz").is_file()
    assert len(passwords.common()) > 10_000 and "password1234" in passwords.common()


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_everywhere_one_is_set(tmp_path, password):
    database = fresh_database("sqlite", tmp_path)
    url, engine = next(database)
    try:
        with pytest.raises(BadInput):
            with unit_of_work(engine) as s:
                cases.bootstrap(s, "root", "Root", password)
        with unit_of_work(engine) as s:
            cases.bootstrap(s, "root", "Root")
        with pytest.raises(BadInput):
            with unit_of_work(engine) as s:
                cases.add_user(s, "root", "inv", "Investor", ["investor"], password, investor_id="INV-1")
        res = CliRunner().invoke(cli, ["user", "add", "op", "--role", "operator", "--password"],
                                 input=f"{password}\n{password}\n", env={"REDRESS_DATABASE_URL": url,
                                                                          "REDRESS_USER": "root"})
        assert res.exit_code != 0, res.output
        with unit_of_work(engine) as s:
            assert s.execute(select(User.name).where(User.name.in_(("op", "inv")))).first() is None
    finally:
        database.close()


@pytest.mark.parametrize("password", STRONG)
def test_long_or_passphrase_passwords_are_accepted(password):
    assert passwords.problem(password, "someone") is None


def test_a_password_holding_the_user_name_is_refused():
    assert passwords.problem("zhang.min-2023-spring", "zhang.min") is not None


# -- failures that age ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return small_case(tmp_path_factory.mktemp("synth"), seed=7, name="lock-out")


@pytest.fixture
def site(tmp_path, synth):
    with served(tmp_path, synth) as (w, server):
        yield w, server.base_url


def later(monkeypatch, minutes: int) -> None:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    monkeypatch.setattr(security, "_now", lambda: now)


def sign_in(base: str, name: str, password: str) -> int:
    return httpx.post(f"{base}/api/session", json={"name": name, "password": password}).status_code


def test_failures_age_and_an_investor_lock_out_ends_with_time(site, monkeypatch):
    _w, base = site
    # a guess now and then never adds up to a lock-out: only the last LOCK_MINUTES count
    for i in range(security.MAX_FAILURES - 1):
        assert sign_in(base, "inv1", f"guess-{i}") == 401
    later(monkeypatch, security.LOCK_MINUTES + 1)
    assert sign_in(base, "inv1", "one more guess") == 401
    assert sign_in(base, "inv1", PASSWORD) == 200
    # five in a row lock the account, for LOCK_MINUTES; then it is counted afresh
    monkeypatch.undo()
    for i in range(security.MAX_FAILURES):
        assert sign_in(base, "inv2", f"guess-{i}") == 401
    assert sign_in(base, "inv2", PASSWORD) == 429
    later(monkeypatch, security.LOCK_MINUTES - 1)
    assert sign_in(base, "inv2", PASSWORD) == 429
    later(monkeypatch, security.LOCK_MINUTES + 1)
    assert sign_in(base, "inv2", "a single wrong guess after the lock") == 401
    assert sign_in(base, "inv2", PASSWORD) == 200
