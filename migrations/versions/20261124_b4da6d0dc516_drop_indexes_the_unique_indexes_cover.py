"""Drop two indexes that unique indexes cover (one less index write per attachment row and
per survey version).

Revision ID: b4da6d0dc516
Revises: ddf8ef0ec6c9
Create Date: 2026-11-25 00:30:50.782494
"""
from alembic import op


revision = 'b4da6d0dc516'
down_revision = 'ddf8ef0ec6c9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submission_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_attachments_submission_id'))

    with op.batch_alter_table('survey_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_versions_household_id'))


def downgrade() -> None:
    with op.batch_alter_table('survey_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_versions_household_id'), ['household_id'],
                              unique=False)

    with op.batch_alter_table('submission_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_attachments_submission_id'),
                              ['submission_id'], unique=False)

