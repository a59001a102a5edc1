"""Partial indexes for the registry's job queue (received submissions, by id) and the review
queue (invalid, held) instead of one index of every submission's state.

Revision ID: 852cf441755a
Revises: b4da6d0dc516
Create Date: 2026-11-25 02:30:09.203243
"""
from alembic import op
import sqlalchemy as sa


revision = '852cf441755a'
down_revision = 'b4da6d0dc516'
branch_labels = None
depends_on = None

RECEIVED = sa.text("state = 'received'")
REVIEWABLE = sa.text("state IN ('invalid', 'held')")


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_state'))
        batch_op.create_index('ix_submissions_received', ['id'], unique=False,
                              postgresql_where=RECEIVED, sqlite_where=RECEIVED)
        batch_op.create_index('ix_submissions_reviewable', ['state'], unique=False,
                              postgresql_where=REVIEWABLE, sqlite_where=REVIEWABLE)


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_reviewable')
        batch_op.drop_index('ix_submissions_received')
        batch_op.create_index(batch_op.f('ix_submissions_state'), ['state'], unique=False)
