"""messages: partial indexes for the outbox, strangers and replies

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 21:26:50.870342

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_phone_direction'))
        batch_op.drop_index(batch_op.f('ix_messages_status_id'))
        batch_op.create_index('ix_messages_queued', ['id'], unique=False, postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))
        batch_op.create_index('ix_messages_stranger_phone', ['phone'], unique=False, postgresql_where=sa.text('contact_id IS NULL'), sqlite_where=sa.text('contact_id IS NULL'))
        # Autogenerate does not compare WHERE clauses: make the reply index partial by hand.
        batch_op.drop_index('ix_messages_reply_to_id')
        batch_op.create_index('ix_messages_reply_to_id', ['reply_to_id'], unique=False, postgresql_where=sa.text('reply_to_id IS NOT NULL'), sqlite_where=sa.text('reply_to_id IS NOT NULL'))



def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_reply_to_id')
        batch_op.create_index('ix_messages_reply_to_id', ['reply_to_id'], unique=False)
        batch_op.drop_index('ix_messages_stranger_phone', postgresql_where=sa.text('contact_id IS NULL'), sqlite_where=sa.text('contact_id IS NULL'))
        batch_op.drop_index('ix_messages_queued', postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))
        batch_op.create_index(batch_op.f('ix_messages_status_id'), ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_phone_direction'), ['phone', 'direction'], unique=False)

