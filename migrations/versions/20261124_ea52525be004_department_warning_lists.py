"""department warning lists

Revision ID: ea52525be004
Revises: dbc06d377fa2
Create Date: 2026-11-24 22:48:11.481079
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = 'ea52525be004'
down_revision = 'dbc06d377fa2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warning_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('media_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_warning_lists_area_code_areas')),
    sa.ForeignKeyConstraint(['media_sha256'], ['media_objects.sha256'], name=op.f('fk_warning_lists_media_sha256_media_objects')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_warning_lists_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_lists'))
    )
    op.create_table('warning_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('id_number', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('household_id', sa.String(length=36), nullable=True),
    sa.Column('area_code', sa.String(length=15), nullable=True),
    sa.Column('check_result', sa.Text(), nullable=True),
    sa.Column('checked_by', sa.Integer(), nullable=True),
    sa.Column('checked_at', server.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['checked_by'], ['users.id'], name=op.f('fk_warning_rows_checked_by_users')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_warning_rows_household_id_households')),
    sa.ForeignKeyConstraint(['list_id'], ['warning_lists.id'], name=op.f('fk_warning_rows_list_id_warning_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_rows'))
    )
    with op.batch_alter_table('warning_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warning_rows_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_warning_rows_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_warning_rows_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_warning_rows_list_id'), ['list_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_warning_rows_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('warning_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warning_rows_status'))
        batch_op.drop_index(batch_op.f('ix_warning_rows_list_id'))
        batch_op.drop_index(batch_op.f('ix_warning_rows_id_number'))
        batch_op.drop_index(batch_op.f('ix_warning_rows_household_id'))
        batch_op.drop_index(batch_op.f('ix_warning_rows_area_code'))

    op.drop_table('warning_rows')
    op.drop_table('warning_lists')
