"""Triggers that make a table append-only, for the migrations: the database refuses UPDATE and DELETE (and,
with ``truncate``, TRUNCATE on PostgreSQL).  PostgreSQL's triggers call ``redress_append_only()``, created
by the first migration."""

from __future__ import annotations

from alembic import op


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def protect(table: str, *, hint: str = "", truncate: bool = False) -> None:
    """Refuse changes and deletions on ``table``; ``hint`` is added to SQLite's refusal message."""
    if _postgresql():
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION redress_append_only()")
        if truncate:
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION redress_append_only()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} BEGIN "
                   f"SELECT RAISE(ABORT, 'redress: {verb} on {table} refused: this table is append-only{hint}'); END")


def unprotect(table: str, *, truncate: bool = False) -> None:
    """Drop what :func:`protect` created."""
    if _postgresql():
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        if truncate:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER {table}_no_{verb}")
