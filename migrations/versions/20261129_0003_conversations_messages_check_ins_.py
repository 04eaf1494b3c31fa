"""conversations: messages, check-ins, answers, scores, alerts, ideas, pause

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 20:45:31.535379

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('instrument_version_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('respondent_role', sa.Enum('self', 'proxy', name='respondent_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('language', sa.Enum('en', 'es', name='checkin_language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('due', 'sent', 'in_progress', 'completed', 'expired', 'missed', 'cancelled', name='checkin_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_checkins_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instrument_version_id'], ['instrument_versions.id'], name=op.f('fk_checkins_instrument_version_id_instrument_versions')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_checkins_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins'))
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index('ix_checkins_contact_id_status', ['contact_id', 'status'], unique=False)
        batch_op.create_index('ix_checkins_patient_id_opened_at', ['patient_id', 'opened_at'], unique=False)
        batch_op.create_index('ix_checkins_status_expires_at', ['status', 'expires_at'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('red_flag_id', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.Enum('moderate', 'high', 'urgent', name='severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'acknowledged', name='alert_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('safety_message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['staff_users.id'], name=op.f('fk_alerts_acknowledged_by_id_staff_users')),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_alerts_checkin_id_checkins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_alerts_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('checkin_id', 'red_flag_id', name=op.f('uq_alerts_checkin_id_red_flag_id'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_patient_id_status', ['patient_id', 'status'], unique=False)

    op.create_table('checkin_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.Integer(), nullable=True),
    sa.Column('value', sa.Double(), nullable=True),
    sa.Column('band_id', sa.String(length=64), nullable=True),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_checkin_scores_checkin_id_checkins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_scores')),
    sa.UniqueConstraint('checkin_id', 'score_id', name=op.f('uq_checkin_scores_checkin_id_score_id'))
    )
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('inbound', 'outbound', name='direction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('received', 'replied', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled', name='message_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('service_phone', sa.String(length=32), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('twilio_sid', sa.String(length=64), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('checkin_id', sa.Integer(), nullable=True),
    sa.Column('reply_to_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=True),
    sa.Column('num_media', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_messages_checkin_id_checkins'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_messages_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reply_to_id'], ['messages.id'], name=op.f('fk_messages_reply_to_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('twilio_sid', name=op.f('uq_messages_twilio_sid'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_checkin_id'), ['checkin_id'], unique=False)
        batch_op.create_index('ix_messages_contact_id_id', ['contact_id', 'id'], unique=False)
        batch_op.create_index('ix_messages_phone_direction', ['phone', 'direction'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_reply_to_id'), ['reply_to_id'], unique=False)
        batch_op.create_index('ix_messages_status_id', ['status', 'id'], unique=False)

    op.create_table('answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('answered', 'skipped', 'unanswered', name='answer_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('raw_text', sa.Text(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('respondent_role', sa.Enum('self', 'proxy', name='respondent_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_answers_checkin_id_checkins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_answers_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_answers_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
    sa.UniqueConstraint('checkin_id', 'item_id', name=op.f('uq_answers_checkin_id_item_id'))
    )
    op.create_table('contact_conversations',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Enum('none', 'choose_checkin', 'idea_text', name='pending_question', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('held_text', sa.Text(), nullable=True),
    sa.Column('held_message_id', sa.Integer(), nullable=True),
    sa.Column('choices', sa.JSON(), nullable=True),
    sa.Column('chosen_checkin_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chosen_checkin_id'], ['checkins.id'], name=op.f('fk_contact_conversations_chosen_checkin_id_checkins'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_conversations_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['held_message_id'], ['messages.id'], name=op.f('fk_contact_conversations_held_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_contact_conversations'))
    )
    op.create_table('ideas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'app', 'checkin', name='idea_channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('caregiver_id', sa.Integer(), nullable=True),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['caregiver_id'], ['caregivers.id'], name=op.f('fk_ideas_caregiver_id_caregivers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_ideas_center_id_centers')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_ideas_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_ideas_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_ideas_patient_id_patients'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ideas')),
    sa.UniqueConstraint('reference', name=op.f('uq_ideas_reference'))
    )
    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ideas_center_id'), ['center_id'], unique=False)

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('paused_until')

    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ideas_center_id'))

    op.drop_table('ideas')
    op.drop_table('contact_conversations')
    op.drop_table('answers')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_status_id')
        batch_op.drop_index(batch_op.f('ix_messages_reply_to_id'))
        batch_op.drop_index('ix_messages_phone_direction')
        batch_op.drop_index('ix_messages_contact_id_id')
        batch_op.drop_index(batch_op.f('ix_messages_checkin_id'))

    op.drop_table('messages')
    op.drop_table('checkin_scores')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_patient_id_status')

    op.drop_table('alerts')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_status_expires_at')
        batch_op.drop_index('ix_checkins_patient_id_opened_at')
        batch_op.drop_index('ix_checkins_contact_id_status')

    op.drop_table('checkins')
