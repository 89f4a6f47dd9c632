"""The keyed audit chain: the key each event is written with, and the head's key and MAC

Events written before this migration keep key_id NULL: their hashes stay plain SHA-256 and still verify.
The log is keyed from the next `redress db init` or `redress audit rotate-key` on (see docs/administration.md).
Downgrading drops the key ids, after which keyed events no longer verify.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no table rebuild on SQLite), so the append-only triggers stay in place
    op.add_column('audit_event', sa.Column('key_id', sa.String(length=24), nullable=True))
    op.add_column('audit_head', sa.Column('key_id', sa.String(length=24), nullable=True))
    op.add_column('audit_head', sa.Column('mac', sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table, column in (('audit_head', 'mac'), ('audit_head', 'key_id'), ('audit_event', 'key_id')):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
