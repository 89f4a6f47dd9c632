"""Alembic environment: runs on the connection ``redress.store.db.migrate`` hands over (or the URL)."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from redress.store.db import database_url
from redress.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config({"sqlalchemy.url": database_url(config.get_main_option("sqlalchemy.url"))},
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
