"""The migrations build exactly the schema the models describe, and can be undone and redone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from redress.store.db import downgrade, migrate
from redress.store.models import Base


def _diff(engine):
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_migrations_match_the_models(db):
    _url, engine = db
    assert _diff(engine) == []


def test_downgrade_to_nothing_and_back(db):
    _url, engine = db
    downgrade(engine)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine, "head")
    assert _diff(engine) == []
    assert "ledger_entry" in inspect(engine).get_table_names()
