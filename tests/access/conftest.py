"""Fixtures of the investor's way in: the web world of ``tests/web`` with a notifier that records messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from web.websupport import Web, build, small_case


class Recorder:
    """A notifier that keeps what it is asked to send."""

    def __init__(self) -> None:
        self.sent = []

    def send(self, message):
        from redress.notify import Delivery

        self.sent.append(message)
        return Delivery(True, "recorded")


@pytest.fixture(scope="session")
def access_case(tmp_path_factory) -> Path:
    return small_case(tmp_path_factory.mktemp("access"), seed=5, name="Access case", n_trades=600,
                      n_investors=40)


@pytest.fixture
def w(db, tmp_path, access_case) -> Web:
    world = build(db, tmp_path, access_case)
    world.app.state.notifier = Recorder()
    yield world
    world.app.state.engine.dispose()
    world.app.state.read_engine.dispose()
