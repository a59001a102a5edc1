"""case steps: objections' who and when, measures recorded on a case (green channel)

Revision ID: 24029d2f6706
Revises: 8e8f6ba3b4fd
Create Date: 2026-11-24 23:11:15.661797
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = '24029d2f6706'
down_revision = '8e8f6ba3b4fd'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('measure_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recorded_by', sa.Integer(), nullable=True))
        batch_op.alter_column('submission_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_measure_records_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_measure_records_case_id_cases'), 'cases', ['case_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_measure_records_recorded_by_users'), 'users', ['recorded_by'], ['id'])

    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raised_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', server.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_objections_raised_by_users'), 'users', ['raised_by'], ['id'])


def downgrade() -> None:
    # Measures recorded through the API have no submission: they cannot survive the old schema.
    op.execute("DELETE FROM measure_records WHERE submission_id IS NULL")
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_objections_raised_by_users'), type_='foreignkey')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('raised_by')

    with op.batch_alter_table('measure_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_measure_records_recorded_by_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_measure_records_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_measure_records_case_id'))
        batch_op.alter_column('submission_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('recorded_by')
        batch_op.drop_column('case_id')
