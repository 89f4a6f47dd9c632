"""Database fixtures: every database test runs on SQLite and on PostgreSQL (127.0.0.1:5432, database test).

Each test gets a fresh schema built by the real Alembic migrations: a new SQLite file, or a new PostgreSQL
schema (dropped afterwards).  PostgreSQL is never skipped: if the server is unreachable the tests fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from redress.store.db import make_engine, migrate

PG_SERVER = os.environ.get("REDRESS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def pg_url(schema: str) -> str:
    return f"{PG_SERVER}?options=-csearch_path%3D{schema}"


def fresh_database(backend: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'redress.sqlite3'}"
        engine = make_engine(url)
        migrate(engine)
        yield url, engine
        engine.dispose()
        return
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = pg_url(schema)
    engine = make_engine(url)
    try:
        migrate(engine)
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path) -> Iterator[tuple[str, Engine]]:
    """(url, engine) of a freshly migrated database, once per backend."""
    yield from fresh_database(request.param, tmp_path)


@pytest.fixture
def pg(tmp_path) -> Iterator[tuple[str, Engine]]:
    """A freshly migrated PostgreSQL schema (for tests only PostgreSQL can run: concurrency)."""
    yield from fresh_database("postgresql", tmp_path)
