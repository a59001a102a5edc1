"""household registry

Revision ID: 254362fe35da
Revises: 6b3f012fc185
Create Date: 2026-11-24 21:14:30.449613
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = '254362fe35da'
down_revision = '6b3f012fc185'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('member_indexes', sa.JSON(), nullable=False),
    sa.Column('households', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolution', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', server.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_conflicts_resolved_by_users')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_conflicts_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflicts'))
    )
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflicts_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflicts_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflicts_submission_id'), ['submission_id'], unique=False)

    op.create_table('duplicate_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_number_a', sa.String(length=18), nullable=False),
    sa.Column('id_number_b', sa.String(length=18), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', server.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_duplicate_flags_decided_by_users')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_duplicate_flags_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_flags')),
    sa.UniqueConstraint('id_number_a', 'id_number_b', name=op.f('uq_duplicate_flags_id_number_a_id_number_b'))
    )
    with op.batch_alter_table('duplicate_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_flags_status'), ['status'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('head_person_id', sa.Integer(), nullable=True),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('monitoring_type', sa.String(length=2), nullable=True),
    sa.Column('latest_survey_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_submission_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_submission_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_households_area_code_areas')),
    sa.ForeignKeyConstraint(['created_by_submission_id'], ['submissions.id'], name=op.f('fk_households_created_by_submission_id_submissions')),
    sa.ForeignKeyConstraint(['updated_by_submission_id'], ['submissions.id'], name=op.f('fk_households_updated_by_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('head_person_id', name=op.f('uq_households_head_person_id'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_area_code'), ['area_code'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=True),
    sa.Column('relation', sa.String(length=2), nullable=True),
    sa.Column('deceased', sa.Boolean(), nullable=False),
    sa.Column('death_date', sa.Date(), nullable=True),
    sa.Column('disability_card', sa.String(length=20), nullable=True),
    sa.Column('created_by_submission_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_submission_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_submission_id'], ['submissions.id'], name=op.f('fk_persons_created_by_submission_id_submissions')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_persons_household_id_households')),
    sa.ForeignKeyConstraint(['updated_by_submission_id'], ['submissions.id'], name=op.f('fk_persons_updated_by_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('id_number', name=op.f('uq_persons_id_number'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_persons_name_birth', ['name', 'birth_date'], unique=False)

    op.create_table('survey_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.String(length=64), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('household_values', sa.JSON(), nullable=False),
    sa.Column('member_values', sa.JSON(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('a33_net_income', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('a34_net_income_per_capita', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('a37_income_reference', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('a38_income_reference_per_capita', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('a26_member_uninsured', sa.Boolean(), nullable=False),
    sa.Column('proposed_type', sa.String(length=2), nullable=True),
    sa.Column('phone_differs', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_survey_versions_household_id_households')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_survey_versions_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_versions')),
    sa.UniqueConstraint('household_id', 'number', name=op.f('uq_survey_versions_household_id_number')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_survey_versions_submission_id'))
    )
    with op.batch_alter_table('survey_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_versions_household_id'), ['household_id'], unique=False)

    # households ↔ persons / survey_versions refer to each other: added once all exist.
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_households_head_person_id_persons'),
                                    'persons', ['head_person_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_households_latest_survey_id_survey_versions'),
                                    'survey_versions', ['latest_survey_id'], ['id'])

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=False,
                                      server_default='received'))
        batch_op.add_column(sa.Column('problems', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('household_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('applied_at', server.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_submissions_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_state'), ['state'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_submissions_household_id_households'), 'households', ['household_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_submissions_household_id_households'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_submissions_state'))
        batch_op.drop_index(batch_op.f('ix_submissions_household_id'))
        batch_op.drop_column('applied_at')
        batch_op.drop_column('household_id')
        batch_op.drop_column('problems')
        batch_op.drop_column('state')

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_households_latest_survey_id_survey_versions'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_households_head_person_id_persons'),
                                 type_='foreignkey')

    with op.batch_alter_table('survey_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_versions_household_id'))

    op.drop_table('survey_versions')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index('ix_persons_name_birth')
        batch_op.drop_index(batch_op.f('ix_persons_household_id'))

    op.drop_table('persons')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_area_code'))

    op.drop_table('households')
    with op.batch_alter_table('duplicate_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_flags_status'))

    op.drop_table('duplicate_flags')
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflicts_submission_id'))
        batch_op.drop_index(batch_op.f('ix_conflicts_status'))
        batch_op.drop_index(batch_op.f('ix_conflicts_id_number'))

    op.drop_table('conflicts')
