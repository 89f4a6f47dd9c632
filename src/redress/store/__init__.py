"""Persistence: SQLAlchemy 2 models, the database connection and Alembic migrations."""
