"""Early status callbacks wait for their message: Twilio may report a status before the
sender has stored the message's SID.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('early_status_callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('twilio_sid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_early_status_callbacks'))
    )
    with op.batch_alter_table('early_status_callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_early_status_callbacks_twilio_sid'), ['twilio_sid'], unique=False)


def downgrade():
    with op.batch_alter_table('early_status_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_early_status_callbacks_twilio_sid'))

    op.drop_table('early_status_callbacks')
