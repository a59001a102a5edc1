"""case step attachments: documents uploaded with an action (公示照片, 评议会议记录, 附件3)

Revision ID: ddf8ef0ec6c9
Revises: 1996bb008371
Create Date: 2026-11-25 00:11:35.667643
"""
from alembic import op
import sqlalchemy as sa


revision = 'ddf8ef0ec6c9'
down_revision = '1996bb008371'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing events get an empty list; the default is then dropped, as the model has none.
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachments', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.alter_column('attachments', existing_type=sa.JSON(), existing_nullable=False,
                              server_default=None)


def downgrade() -> None:
    # The attachments' files stay in the media store; only the links on the events go.
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_column('attachments')
