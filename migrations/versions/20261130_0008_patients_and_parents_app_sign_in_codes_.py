"""patients and parents app: sign-in codes, app tokens, proxy grants, SMS and quiet-hour preferences

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 01:13:35.134437

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proxy_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('caregiver_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['caregiver_id'], ['caregivers.id'], name=op.f('fk_proxy_grants_caregiver_id_caregivers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_proxy_grants_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_grants'))
    )
    with op.batch_alter_table('proxy_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_grants_caregiver_id'), ['caregiver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proxy_grants_patient_id'), ['patient_id'], unique=False)

    op.create_table('app_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('access', 'refresh', name='token_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_app_tokens_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_app_tokens_token_hash'))
    )
    with op.batch_alter_table('app_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_tokens_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_tokens_family'), ['family'], unique=False)

    op.create_table('sign_in_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_sign_in_codes_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_codes'))
    )
    with op.batch_alter_table('sign_in_codes', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_codes_client_address_created_at', ['client_address', 'created_at'], unique=False)
        batch_op.create_index('ix_sign_in_codes_phone_created_at', ['phone', 'created_at'], unique=False)

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.Integer(), nullable=True))

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_enabled', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('quiet_hours_start', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('quiet_hours_end', sa.Time(), nullable=True))



def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('quiet_hours_end')
        batch_op.drop_column('quiet_hours_start')
        batch_op.drop_column('sms_enabled')

    # SQLite drops a column by rebuilding the table, which loses its append-only triggers.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('contact_id')
    if sqlite:
        for event in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
            )

    with op.batch_alter_table('sign_in_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_codes_phone_created_at')
        batch_op.drop_index('ix_sign_in_codes_client_address_created_at')

    op.drop_table('sign_in_codes')
    with op.batch_alter_table('app_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_tokens_family'))
        batch_op.drop_index(batch_op.f('ix_app_tokens_contact_id'))

    op.drop_table('app_tokens')
    with op.batch_alter_table('proxy_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proxy_grants_patient_id'))
        batch_op.drop_index(batch_op.f('ix_proxy_grants_caregiver_id'))

    op.drop_table('proxy_grants')
