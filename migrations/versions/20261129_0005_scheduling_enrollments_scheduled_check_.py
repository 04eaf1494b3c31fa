"""scheduling: enrollments, scheduled check-ins, outbox sending and delivery status

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 22:12:32.636276

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('send_windows',
    sa.Column('second', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('second', name=op.f('pk_send_windows'))
    )
    op.create_table('enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('respondent_role', sa.Enum('self', 'proxy', name='respondent_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('active', 'paused', 'ended', name='enrollment_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('recurring', 'before_visit', 'once', name='schedule_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('weekdays', sa.String(length=32), nullable=True),
    sa.Column('every_weeks', sa.Integer(), server_default='1', nullable=False),
    sa.Column('local_time', sa.Time(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('minutes_before_visit', sa.Integer(), nullable=True),
    sa.Column('once_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_visit_id', sa.Integer(), nullable=True),
    sa.Column('last_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_enrollments_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['next_visit_id'], ['visits.id'], name=op.f('fk_enrollments_next_visit_id_visits'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_enrollments_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollments'))
    )
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollments_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_enrollments_due', ['next_due_at'], unique=False, postgresql_where=sa.text("status = 'active' AND next_due_at IS NOT NULL"), sqlite_where=sa.text("status = 'active' AND next_due_at IS NOT NULL"))
        batch_op.create_index(batch_op.f('ix_enrollments_patient_id'), ['patient_id'], unique=False)

    op.create_table('message_status_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_status_events_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_status_events'))
    )
    with op.batch_alter_table('message_status_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_status_events_message_id'), ['message_id'], unique=False)

    with op.batch_alter_table('centers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiet_hours_start', sa.Time(), server_default='21:00:00', nullable=False))
        batch_op.add_column(sa.Column('quiet_hours_end', sa.Time(), server_default='08:00:00', nullable=False))

    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrollment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('visit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('close_reason', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_checkins_visit_id'), ['visit_id'], unique=False)
        batch_op.create_index('ix_checkins_waiting', ['due_at'], unique=False, postgresql_where=sa.text("status = 'due'"), sqlite_where=sa.text("status = 'due'"))
        batch_op.create_unique_constraint(batch_op.f('uq_checkins_enrollment_id_due_at'), ['enrollment_id', 'due_at'])
        batch_op.create_foreign_key(batch_op.f('fk_checkins_visit_id_visits'), 'visits', ['visit_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_checkins_enrollment_id_enrollments'), 'enrollments', ['enrollment_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consent_changes_consent_method'), type_='check')
        batch_op.create_check_constraint(op.f('ck_consent_changes_consent_method'), "method IN ('keyword', 'staff', 'import', 'app', 'carrier')")

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unusable_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unusable_reason', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('unreachable_failures', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_message', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_messages_submitting', ['claimed_at'], unique=False, postgresql_where=sa.text("status = 'submitting'"), sqlite_where=sa.text("status = 'submitting'"))
        # The sender's statuses: autogenerate does not compare CHECK constraints.
        batch_op.drop_constraint(op.f('ck_messages_message_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_messages_message_status'), "status IN ('received', 'replied', 'queued', 'submitting', 'accepted', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'read', 'cancelled')")



def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_messages_message_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_messages_message_status'), "status IN ('received', 'replied', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled')")
        batch_op.drop_index('ix_messages_submitting', postgresql_where=sa.text("status = 'submitting'"), sqlite_where=sa.text("status = 'submitting'"))
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('error_message')

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('unreachable_failures')
        batch_op.drop_column('unusable_reason')
        batch_op.drop_column('unusable_since')

    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consent_changes_consent_method'), type_='check')
        batch_op.create_check_constraint(op.f('ck_consent_changes_consent_method'), "method IN ('keyword', 'staff', 'import', 'app')")

    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_checkins_enrollment_id_enrollments'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_checkins_visit_id_visits'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_checkins_enrollment_id_due_at'), type_='unique')
        batch_op.drop_index('ix_checkins_waiting', postgresql_where=sa.text("status = 'due'"), sqlite_where=sa.text("status = 'due'"))
        batch_op.drop_index(batch_op.f('ix_checkins_visit_id'))
        batch_op.drop_column('close_reason')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('not_before')
        batch_op.drop_column('visit_id')
        batch_op.drop_column('enrollment_id')

    with op.batch_alter_table('centers', schema=None) as batch_op:
        batch_op.drop_column('quiet_hours_end')
        batch_op.drop_column('quiet_hours_start')

    with op.batch_alter_table('message_status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_status_events_message_id'))

    op.drop_table('message_status_events')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollments_patient_id'))
        batch_op.drop_index('ix_enrollments_due', postgresql_where=sa.text("status = 'active' AND next_due_at IS NOT NULL"), sqlite_where=sa.text("status = 'active' AND next_due_at IS NOT NULL"))
        batch_op.drop_index(batch_op.f('ix_enrollments_contact_id'))

    op.drop_table('enrollments')
    op.drop_table('send_windows')
