"""Connecting to the database: SQLite file by default, PostgreSQL in production (``REDRESS_DATABASE_URL``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///redress.sqlite3"
ENV_URL = "REDRESS_DATABASE_URL"


def database_url(url: str | None = None) -> str:
    """The URL given, else ``$REDRESS_DATABASE_URL``, else a SQLite file in the current directory."""
    url = url or os.environ.get(ENV_URL) or DEFAULT_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str | None = None, *, read_only: bool = False) -> Engine:
    """An engine for ``url``.  On SQLite, writers take the lock when they begin (``BEGIN IMMEDIATE``); an engine
    made ``read_only`` begins deferred instead, so readers never wait for the write lock (WAL lets them read
    while one writer writes)."""
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
            dbapi_conn.isolation_level = None   # let SQLAlchemy's begin below issue BEGIN itself
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA busy_timeout = 60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # writers queue for the lock up front instead of failing on upgrade
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def is_postgresql(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


def _alembic(engine: Engine, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` by running the Alembic migrations."""
    _alembic(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (``base``: no tables left)."""
    _alembic(engine, "downgrade", revision)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: services only flush; this boundary commits, or rolls back on any error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session:
        with session.begin():
            yield session


def bulk_insert(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert many rows in one executemany (psycopg pipelines it), bypassing the ORM's per-object work."""
    if rows:
        session.execute(table.insert(), rows)


def fresh_sqlite(path: Path) -> str:
    """The URL of a new, empty SQLite database at ``path`` (any old file and its WAL files removed)."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
              path.with_name(path.name + ".audit-key")):
        p.unlink(missing_ok=True)
    return f"sqlite:///{path}"
