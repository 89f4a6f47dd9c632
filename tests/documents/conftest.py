"""Fixtures of the documents: the web world of ``tests/web`` (samples are in ``pdfsupport``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from web.websupport import Web, build, small_case


@pytest.fixture(scope="session")
def documents_case(tmp_path_factory) -> Path:
    return small_case(tmp_path_factory.mktemp("documents"), seed=11, name="Documents case", n_trades=400,
                      n_investors=20)


@pytest.fixture
def w(db, tmp_path, documents_case) -> Web:
    world = build(db, tmp_path, documents_case)
    yield world
    world.app.state.engine.dispose()
