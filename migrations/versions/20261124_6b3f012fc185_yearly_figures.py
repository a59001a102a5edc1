"""yearly figures

Revision ID: 6b3f012fc185
Revises: ad5120653717
Create Date: 2026-11-24 20:55:25.427438
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = '6b3f012fc185'
down_revision = 'ad5120653717'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('yearly_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('province', sa.String(length=2), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('document', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_yearly_figures')),
    sa.UniqueConstraint('province', 'year', 'kind', name=op.f('uq_yearly_figures_province_year_kind'))
    )


def downgrade() -> None:
    op.drop_table('yearly_figures')
