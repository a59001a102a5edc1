"""measures eliminations declarations

Revision ID: 373ce72c38e1
Revises: 254362fe35da
Create Date: 2026-11-24 21:47:57.175343
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = '373ce72c38e1'
down_revision = '254362fe35da'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('declarations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('head_name', sa.String(length=50), nullable=False),
    sa.Column('head_id_number', sa.String(length=18), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=True),
    sa.Column('on_behalf', sa.Boolean(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_declarations_area_code_areas')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_declarations_household_id_households')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_declarations_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declarations')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_declarations_submission_id'))
    )
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declarations_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_declarations_head_id_number'), ['head_id_number'], unique=False)

    op.create_table('elimination_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('a33_net_income', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('a34_net_income_per_capita', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('a37_income_reference', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('a38_income_reference_per_capita', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('method', sa.String(length=2), nullable=True),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_elimination_assessments_household_id_households')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_elimination_assessments_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elimination_assessments')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_elimination_assessments_submission_id'))
    )
    with op.batch_alter_table('elimination_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_elimination_assessments_household_id'), ['household_id'], unique=False)

    op.create_table('measure_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('measure_date', sa.Date(), nullable=False),
    sa.Column('green_channel', sa.Boolean(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_measure_records_household_id_households')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_measure_records_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_records')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_measure_records_submission_id'))
    )
    with op.batch_alter_table('measure_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_records_household_id'), ['household_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('measure_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_records_household_id'))

    op.drop_table('measure_records')
    with op.batch_alter_table('elimination_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_elimination_assessments_household_id'))

    op.drop_table('elimination_assessments')
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declarations_head_id_number'))
        batch_op.drop_index(batch_op.f('ix_declarations_area_code'))

    op.drop_table('declarations')
