"""Department warning tasks deduplicated: one open task per household, department and reason
(warning_rows.task_key, unique among open tasks), repeated rows counted on it (task_id, status
joined), rows answered by an earlier check reported (status already_checked).

Existing rows get their key; open tasks that repeat an earlier open task of the same key (the
lists uploaded twice before this revision) become rows joined to the earliest one.

Revision ID: 40bf03cbbbf6
Revises: 5e1f0c3a9b27
Create Date: 2026-12-04 18:00:00
"""
import hashlib

from alembic import op
import sqlalchemy as sa


revision = '40bf03cbbbf6'
down_revision = '5e1f0c3a9b27'
branch_labels = None
depends_on = None

OPEN_TASK = sa.text("status = 'matched' AND check_result IS NULL")


def _key(household_id: str, department: str, reason: str) -> str:
    """server.domain.warnings.task_key as of this revision (kept here: migrations are frozen)."""
    material = "\x1f".join((household_id, " ".join(department.split()),
                            " ".join(reason.split())))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table('warning_rows', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=12),
                              type_=sa.String(length=16), existing_nullable=False)
        batch_op.add_column(sa.Column('task_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('task_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_warning_rows_task_id_warning_rows'),
                                    'warning_rows', ['task_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_warning_rows_task_key'), ['task_key'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_warning_rows_task_id'), ['task_id'], unique=False)

    rows = sa.table('warning_rows', sa.column('id', sa.Integer), sa.column('status', sa.String),
                    sa.column('household_id', sa.String), sa.column('department', sa.String),
                    sa.column('reason', sa.String), sa.column('check_result', sa.String),
                    sa.column('task_key', sa.String), sa.column('task_id', sa.Integer))
    connection = op.get_bind()
    first_open: dict[str, int] = {}
    for row in connection.execute(
            sa.select(rows.c.id, rows.c.household_id, rows.c.department, rows.c.reason,
                      rows.c.check_result)
            .where(rows.c.status == 'matched').order_by(rows.c.id)).all():
        key = _key(row.household_id, row.department, row.reason)
        values = {'task_key': key}
        if row.check_result is None:
            if key in first_open:
                values.update(status='joined', task_id=first_open[key])
            else:
                first_open[key] = row.id
        connection.execute(sa.update(rows).where(rows.c.id == row.id).values(**values))

    with op.batch_alter_table('warning_rows', schema=None) as batch_op:
        batch_op.create_index('uq_warning_rows_open_task', ['task_key'], unique=True,
                              postgresql_where=OPEN_TASK, sqlite_where=OPEN_TASK)


def downgrade() -> None:
    rows = sa.table('warning_rows', sa.column('status', sa.String))
    op.get_bind().execute(sa.update(rows).where(rows.c.status.in_(('joined', 'already_checked')))
                          .values(status='matched'))
    with op.batch_alter_table('warning_rows', schema=None) as batch_op:
        batch_op.drop_index('uq_warning_rows_open_task')
        batch_op.drop_index(batch_op.f('ix_warning_rows_task_id'))
        batch_op.drop_index(batch_op.f('ix_warning_rows_task_key'))
        batch_op.drop_constraint(batch_op.f('fk_warning_rows_task_id_warning_rows'),
                                 type_='foreignkey')
        batch_op.drop_column('task_id')
        batch_op.drop_column('task_key')
        batch_op.alter_column('status', existing_type=sa.String(length=16),
                              type_=sa.String(length=12), existing_nullable=False)
