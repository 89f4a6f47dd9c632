from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from smtpserver import Server  # noqa: E402


@pytest.fixture
def smtp() -> Iterator[Server]:
    with Server() as server:
        yield server
