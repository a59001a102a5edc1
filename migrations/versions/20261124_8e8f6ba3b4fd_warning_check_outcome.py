"""warning check outcome: the outcome code of a home check and the case it opened

Revision ID: 8e8f6ba3b4fd
Revises: ea52525be004
Create Date: 2026-11-24 23:10:39.204679
"""
import sqlalchemy as sa
from alembic import op


revision = '8e8f6ba3b4fd'
down_revision = 'ea52525be004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('warning_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_warning_rows_case_id_cases'), 'cases',
                                    ['case_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('warning_rows', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_warning_rows_case_id_cases'), type_='foreignkey')
        batch_op.drop_column('case_id')
        batch_op.drop_column('outcome')
