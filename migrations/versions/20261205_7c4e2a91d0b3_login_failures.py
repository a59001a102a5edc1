"""Failed logins, counted per account name and per client address by the one limiter of the
console and HTTP Basic (server.accounts.login).

Revision ID: 7c4e2a91d0b3
Revises: 40bf03cbbbf6
Create Date: 2026-12-05 08:00:00
"""
from alembic import op
import sqlalchemy as sa

import server.db


revision = '7c4e2a91d0b3'
down_revision = '40bf03cbbbf6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('at', server.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    )
    op.create_index('ix_login_failures_key_at', 'login_failures', ['key', 'at'], unique=False)
    op.create_index(op.f('ix_login_failures_at'), 'login_failures', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_login_failures_at'), table_name='login_failures')
    op.drop_index('ix_login_failures_key_at', table_name='login_failures')
    op.drop_table('login_failures')
