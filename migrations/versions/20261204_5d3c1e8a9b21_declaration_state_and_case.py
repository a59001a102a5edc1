"""declaration state and case

A self-declaration records what became of it (server.domain.declarations) and the
identification case it opened or joined. Declarations stored before stay in state ``new``.

Revision ID: 5d3c1e8a9b21
Revises: 852cf441755a
Create Date: 2026-12-04 17:34:29.521601
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = '5d3c1e8a9b21'
down_revision = '852cf441755a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=20), server_default='new', nullable=False))
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('state_changed_at', server.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_declarations_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_declarations_state'), ['state'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_declarations_case_id_cases'), 'cases', ['case_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_declarations_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_declarations_state'))
        batch_op.drop_index(batch_op.f('ix_declarations_case_id'))
        batch_op.drop_column('state_changed_at')
        batch_op.drop_column('case_id')
        batch_op.drop_column('state')
