"""Background jobs: the jobs table (both databases) and, on PostgreSQL, procrastinate's own
schema (its tables, types and functions, all named procrastinate_*), as the installed
procrastinate ships it (``procrastinate.schema.SchemaManager.get_schema``).

A later procrastinate release that changes its schema comes with delta migrations
(``procrastinate schema --migrations-path``); apply them in an Alembic revision of their own.

Revision ID: 9a1d4f6b2c80
Revises: 3b8d5e27c1f4
Create Date: 2026-12-05 12:30:00
"""
from alembic import op
import sqlalchemy as sa

import server.db


revision = '9a1d4f6b2c80'
down_revision = '3b8d5e27c1f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('area_code', sa.String(length=15), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('result_key', sa.String(length=64), nullable=True),
        sa.Column('result_name', sa.String(length=200), nullable=True),
        sa.Column('result_type', sa.String(length=100), nullable=True),
        sa.Column('result_size', sa.Integer(), nullable=True),
        sa.Column('error_code', sa.String(length=60), nullable=True),
        sa.Column('error_message', sa.String(length=500), nullable=True),
        sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
        sa.Column('started_at', server.db.UTCDateTime(), nullable=True),
        sa.Column('finished_at', server.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jobs_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    op.create_index('ix_jobs_user_created', 'jobs', ['user_id', 'created_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        from procrastinate.schema import SchemaManager

        # The driver's own cursor: the script is many statements, with % and : in it.
        cursor = op.get_bind().connection.dbapi_connection.cursor()
        cursor.execute(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            DO $$
            DECLARE item record;
            BEGIN
                FOR item IN SELECT tablename FROM pg_tables
                            WHERE schemaname = current_schema()
                              AND tablename LIKE 'procrastinate%' LOOP
                    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
                END LOOP;
                FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                            JOIN pg_namespace n ON n.oid = p.pronamespace
                            WHERE n.nspname = current_schema()
                              AND p.proname LIKE 'procrastinate%' LOOP
                    EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
                END LOOP;
                FOR item IN SELECT t.typname FROM pg_type t
                            JOIN pg_namespace n ON n.oid = t.typnamespace
                            WHERE n.nspname = current_schema()
                              AND t.typname LIKE 'procrastinate%' AND t.typtype IN ('e', 'c') LOOP
                    EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
                END LOOP;
            END $$;
        """)
    op.drop_index('ix_jobs_user_created', table_name='jobs')
    op.drop_table('jobs')
