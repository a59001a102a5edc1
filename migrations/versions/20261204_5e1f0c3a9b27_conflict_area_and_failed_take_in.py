"""Conflicts carry the area whose reviewers decide them (SPEC §5: the smallest area covering the
submitter's and every household involved); a failed take-in is a reviewable state; elimination
assessments keep the phone's values where they differ from the server's.

Revision ID: 5e1f0c3a9b27
Revises: 5d3c1e8a9b21
Create Date: 2026-12-04 17:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5e1f0c3a9b27'
down_revision = '5d3c1e8a9b21'
branch_labels = None
depends_on = None

REVIEWABLE_BEFORE = sa.text("state IN ('invalid', 'held')")
REVIEWABLE = sa.text("state IN ('invalid', 'held', 'failed')")


def upgrade() -> None:
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_code', sa.String(length=15), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_conflicts_area_code'), ['area_code'], unique=False)
    # Conflicts held before: their submitter's area, as the review queue scoped them.
    op.execute("UPDATE conflicts SET area_code = (SELECT users.area_code FROM submissions "
               "JOIN users ON users.id = submissions.submitter_id "
               "WHERE submissions.id = conflicts.submission_id)")
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_reviewable')
        batch_op.create_index('ix_submissions_reviewable', ['state'], unique=False,
                              postgresql_where=REVIEWABLE, sqlite_where=REVIEWABLE)
    with op.batch_alter_table('elimination_assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_differs', sa.JSON(), nullable=False,
                                      server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('elimination_assessments', schema=None) as batch_op:
        batch_op.drop_column('phone_differs')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_reviewable')
        batch_op.create_index('ix_submissions_reviewable', ['state'], unique=False,
                              postgresql_where=REVIEWABLE_BEFORE,
                              sqlite_where=REVIEWABLE_BEFORE)
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflicts_area_code'))
        batch_op.drop_column('area_code')
