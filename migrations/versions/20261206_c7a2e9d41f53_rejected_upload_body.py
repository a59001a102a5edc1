"""A refused upload keeps its XML in its own row, up to 2 MiB (``body``), with the size the
part had in all (``size``): capped, and removed with the row after the retention period
(``fangpin prune-rejected``). Earlier rows keep their ``media_sha256``.

Revision ID: c7a2e9d41f53
Revises: 9a1d4f6b2c80
Create Date: 2026-12-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c7a2e9d41f53'
down_revision = '9a1d4f6b2c80'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rejected_uploads') as batch_op:
        batch_op.add_column(sa.Column('body', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('size', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rejected_uploads') as batch_op:
        batch_op.drop_column('size')
        batch_op.drop_column('body')
