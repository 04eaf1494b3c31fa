"""core data model: networks, centers, staff, patients, caregivers, contacts, consent, visits

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 20:21:50.290968

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('caregivers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('preferred_language', sa.Enum('en', 'es', name='caregiver_language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caregivers'))
    )
    op.create_table('networks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_networks')),
    sa.UniqueConstraint('slug', name=op.f('uq_networks_slug'))
    )
    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('clinician', 'network_reviewer', 'admin', name='staff_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_users_email'))
    )
    op.create_table('centers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('family_phone', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_centers_network_id_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_centers')),
    sa.UniqueConstraint('code', name=op.f('uq_centers_code'))
    )
    with op.batch_alter_table('centers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_centers_network_id'), ['network_id'], unique=False)

    op.create_table('center_memberships',
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_center_memberships_center_id_centers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_center_memberships_staff_user_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_user_id', 'center_id', name=op.f('pk_center_memberships'))
    )
    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('mrn', sa.String(length=64), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('diagnosis', sa.Enum('crohns_disease', 'ulcerative_colitis', 'ibd_unclassified', name='diagnosis', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('preferred_language', sa.Enum('en', 'es', name='patient_language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_patients_center_id_centers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('center_id', 'mrn', name=op.f('uq_patients_center_id_mrn'))
    )
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patients_center_id'), ['center_id'], unique=False)

    op.create_table('caregiver_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('caregiver_id', sa.Integer(), nullable=False),
    sa.Column('relationship_to_patient', sa.Enum('parent', 'guardian', 'grandparent', 'sibling', 'other', name='relationship', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('may_answer_as_proxy', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['caregiver_id'], ['caregivers.id'], name=op.f('fk_caregiver_links_caregiver_id_caregivers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_caregiver_links_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caregiver_links')),
    sa.UniqueConstraint('patient_id', 'caregiver_id', name=op.f('uq_caregiver_links_patient_id_caregiver_id'))
    )
    with op.batch_alter_table('caregiver_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_caregiver_links_caregiver_id'), ['caregiver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_caregiver_links_patient_id'), ['patient_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('caregiver_id', sa.Integer(), nullable=True),
    sa.Column('sms_consent', sa.Enum('pending', 'granted', 'withdrawn', name='consent_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(patient_id IS NULL) <> (caregiver_id IS NULL)', name=op.f('ck_contacts_exactly_one_owner')),
    sa.ForeignKeyConstraint(['caregiver_id'], ['caregivers.id'], name=op.f('fk_contacts_caregiver_id_caregivers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_contacts_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('phone', name=op.f('uq_contacts_phone'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_caregiver_id'), ['caregiver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_patient_id'), ['patient_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', 'completed', name='visit_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('external_ref', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_visits_center_id_centers')),
    sa.ForeignKeyConstraint(['clinician_id'], ['staff_users.id'], name=op.f('fk_visits_clinician_id_staff_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_visits_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('center_id', 'external_ref', name=op.f('uq_visits_center_id_external_ref'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_center_id_starts_at', ['center_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_patient_id'), ['patient_id'], unique=False)

    op.create_table('consent_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'granted', 'withdrawn', name='consent_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('method', sa.Enum('keyword', 'staff', 'import', 'app', name='consent_method', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('consent_text_version', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_consent_changes_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff_users.id'], name=op.f('fk_consent_changes_recorded_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_changes'))
    )
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_changes_contact_id'), ['contact_id'], unique=False)



def downgrade():
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_changes_contact_id'))

    op.drop_table('consent_changes')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_patient_id'))
        batch_op.drop_index('ix_visits_center_id_starts_at')

    op.drop_table('visits')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_patient_id'))
        batch_op.drop_index(batch_op.f('ix_contacts_caregiver_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('caregiver_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_caregiver_links_patient_id'))
        batch_op.drop_index(batch_op.f('ix_caregiver_links_caregiver_id'))

    op.drop_table('caregiver_links')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patients_center_id'))

    op.drop_table('patients')
    op.drop_table('center_memberships')
    with op.batch_alter_table('centers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_centers_network_id'))

    op.drop_table('centers')
    op.drop_table('staff_users')
    op.drop_table('networks')
    op.drop_table('caregivers')
