"""A user whose password was set by someone else (an admin created the account or reset the
password) must choose their own before anything else (``must_change_password``). Existing
users are not asked.

Revision ID: e5b19c7d2a40
Revises: c7a2e9d41f53
Create Date: 2026-12-06 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e5b19c7d2a40'
down_revision = 'c7a2e9d41f53'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('must_change_password')
