"""submission review

Revision ID: 3c1209177296
Revises: 373ce72c38e1
Create Date: 2026-11-24 22:01:51.262236
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = '3c1209177296'
down_revision = '373ce72c38e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corrections', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('review_note', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('review_note')
        batch_op.drop_column('corrections')

