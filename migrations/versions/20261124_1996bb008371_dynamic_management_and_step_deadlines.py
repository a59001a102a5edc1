"""dynamic management and step deadlines: assistance evaluations, sweeps, sweep ledgers,
per-province step deadlines (issue 6)

Revision ID: 1996bb008371
Revises: 24029d2f6706
Create Date: 2026-11-24 23:14:11.690318
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = '1996bb008371'
down_revision = '24029d2f6706'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('step_deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('province', sa.String(length=2), nullable=False),
    sa.Column('procedure', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('workdays', sa.Integer(), nullable=False),
    sa.Column('document', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_step_deadlines')),
    sa.UniqueConstraint('province', 'procedure', 'step', name=op.f('uq_step_deadlines_province_procedure_step'))
    )
    op.create_table('sweeps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('period', sa.String(length=6), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('opened_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_sweeps_area_code_areas')),
    sa.ForeignKeyConstraint(['opened_by'], ['users.id'], name=op.f('fk_sweeps_opened_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sweeps')),
    sa.UniqueConstraint('area_code', 'period', name=op.f('uq_sweeps_area_code_period'))
    )
    with op.batch_alter_table('sweeps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sweeps_area_code'), ['area_code'], unique=False)

    op.create_table('assistance_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('evaluated_on', sa.Date(), nullable=False),
    sa.Column('evaluator', sa.String(length=100), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_assistance_evaluations_household_id_households')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_assistance_evaluations_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistance_evaluations'))
    )
    with op.batch_alter_table('assistance_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistance_evaluations_evaluated_on'), ['evaluated_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistance_evaluations_household_id'), ['household_id'], unique=False)

    op.create_table('sweep_ledger_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sweep_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_sweep_ledger_rows_household_id_households')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_sweep_ledger_rows_recorded_by_users')),
    sa.ForeignKeyConstraint(['sweep_id'], ['sweeps.id'], name=op.f('fk_sweep_ledger_rows_sweep_id_sweeps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sweep_ledger_rows'))
    )
    with op.batch_alter_table('sweep_ledger_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sweep_ledger_rows_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sweep_ledger_rows_sweep_id'), ['sweep_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sweep_ledger_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sweep_ledger_rows_sweep_id'))
        batch_op.drop_index(batch_op.f('ix_sweep_ledger_rows_household_id'))

    op.drop_table('sweep_ledger_rows')
    with op.batch_alter_table('assistance_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistance_evaluations_household_id'))
        batch_op.drop_index(batch_op.f('ix_assistance_evaluations_evaluated_on'))

    op.drop_table('assistance_evaluations')
    with op.batch_alter_table('sweeps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sweeps_area_code'))

    op.drop_table('sweeps')
    op.drop_table('step_deadlines')
