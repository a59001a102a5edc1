"""areas users forms submissions media audit

Revision ID: ad5120653717
Revises: 
Create Date: 2026-11-24 20:41:19.671156
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = 'ad5120653717'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('areas',
    sa.Column('code', sa.String(length=15), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('parent_code', sa.String(length=15), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['areas.code'], name=op.f('fk_areas_parent_code_areas')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_areas'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_areas_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_areas_parent_code'), ['parent_code'], unique=False)

    op.create_table('forms',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forms'))
    )
    op.create_table('media_objects',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_media_objects'))
    )
    op.create_table('form_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('md5', sa.String(length=32), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('binary_fields', sa.JSON(), nullable=False),
    sa.Column('published_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_form_versions_form_id_forms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_versions')),
    sa.UniqueConstraint('form_id', 'version', name=op.f('uq_form_versions_form_id_version'))
    )
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_versions_form_id'), ['form_id'], unique=False)
    # forms ↔ form_versions refer to each other: the forms side is added once both exist.
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f('fk_forms_current_version_id_form_versions'),
            'form_versions', ['current_version_id'], ['id'],
        )

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_users_area_code_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_area_code'), ['area_code'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('collect_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', server.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_collect_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collect_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_collect_tokens_token_sha256'))
    )
    with op.batch_alter_table('collect_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collect_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('rejected_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('instance_id', sa.String(length=100), nullable=True),
    sa.Column('media_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['media_sha256'], ['media_objects.sha256'], name=op.f('fk_rejected_uploads_media_sha256_media_objects')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_rejected_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejected_uploads'))
    )
    with op.batch_alter_table('rejected_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejected_uploads_received_at'), ['received_at'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=100), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('submitter_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=100), nullable=True),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('xml_sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', server.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_submissions_form_version_id_form_versions')),
    sa.ForeignKeyConstraint(['submitter_id'], ['users.id'], name=op.f('fk_submissions_submitter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_submissions_instance_id'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_form_version_id'), ['form_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_submitter_id'), ['submitter_id'], unique=False)

    op.create_table('submission_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('field_path', sa.String(length=255), nullable=False),
    sa.Column('media_sha256', sa.String(length=64), nullable=True),
    sa.Column('received_at', server.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['media_sha256'], ['media_objects.sha256'], name=op.f('fk_submission_attachments_media_sha256_media_objects')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_attachments_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_attachments')),
    sa.UniqueConstraint('submission_id', 'name', name=op.f('uq_submission_attachments_submission_id_name'))
    )
    with op.batch_alter_table('submission_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_attachments_submission_id'), ['submission_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_forms_current_version_id_form_versions'),
                                 type_='foreignkey')
    with op.batch_alter_table('submission_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_attachments_submission_id'))

    op.drop_table('submission_attachments')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_submitter_id'))
        batch_op.drop_index(batch_op.f('ix_submissions_received_at'))
        batch_op.drop_index(batch_op.f('ix_submissions_form_version_id'))

    op.drop_table('submissions')
    with op.batch_alter_table('rejected_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejected_uploads_received_at'))

    op.drop_table('rejected_uploads')
    with op.batch_alter_table('collect_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collect_tokens_user_id'))

    op.drop_table('collect_tokens')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_area_code'))

    op.drop_table('users')
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_versions_form_id'))

    op.drop_table('form_versions')
    op.drop_table('media_objects')
    op.drop_table('forms')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_parent_code'))
        batch_op.drop_index(batch_op.f('ix_areas_level'))

    op.drop_table('areas')
