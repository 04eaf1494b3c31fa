"""instrument versions: every instrument file ever used, by content hash

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 20:32:06.986946

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('instrument_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('first_used_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_versions')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_instrument_versions_content_hash'))
    )
    with op.batch_alter_table('instrument_versions', schema=None) as batch_op:
        batch_op.create_index('ix_instrument_versions_instrument_id_version', ['instrument_id', 'version'], unique=False)



def downgrade():
    with op.batch_alter_table('instrument_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_instrument_versions_instrument_id_version')

    op.drop_table('instrument_versions')
