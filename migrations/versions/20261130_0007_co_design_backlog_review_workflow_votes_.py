"""co-design backlog: review workflow, votes, comments, tags, followers, digests

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 00:45:16.475417

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idea_digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idea_digests')),
    sa.UniqueConstraint('week_start', name=op.f('uq_idea_digests_week_start'))
    )
    op.create_table('idea_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_idea_comments_idea_id_ideas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_idea_comments_staff_user_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idea_comments'))
    )
    with op.batch_alter_table('idea_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idea_comments_idea_id'), ['idea_id'], unique=False)

    op.create_table('idea_followers',
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_idea_followers_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_idea_followers_idea_id_ideas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('idea_id', 'contact_id', name=op.f('pk_idea_followers'))
    )
    op.create_table('idea_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('new', 'under_review', 'accepted_for_testing', 'testing', 'adopted', 'not_now', 'declined', 'merged', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('to_status', sa.Enum('new', 'under_review', 'accepted_for_testing', 'testing', 'adopted', 'not_now', 'declined', 'merged', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('centers', sa.JSON(), nullable=True),
    sa.Column('relay', sa.String(length=300), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['staff_users.id'], name=op.f('fk_idea_status_changes_changed_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_idea_status_changes_idea_id_ideas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['ideas.id'], name=op.f('fk_idea_status_changes_merged_into_id_ideas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idea_status_changes'))
    )
    with op.batch_alter_table('idea_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idea_status_changes_idea_id'), ['idea_id'], unique=False)

    op.create_table('idea_tags',
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_idea_tags_idea_id_ideas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('idea_id', 'tag', name=op.f('pk_idea_tags'))
    )
    with op.batch_alter_table('idea_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idea_tags_tag'), ['tag'], unique=False)

    op.create_table('idea_testing_centers',
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_idea_testing_centers_center_id_centers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_idea_testing_centers_idea_id_ideas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('idea_id', 'center_id', name=op.f('pk_idea_testing_centers'))
    )
    op.create_table('idea_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_idea_votes_idea_id_ideas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_idea_votes_staff_user_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idea_votes')),
    sa.UniqueConstraint('idea_id', 'staff_user_id', name=op.f('uq_idea_votes_idea_id_staff_user_id'))
    )
    with op.batch_alter_table('idea_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idea_votes_staff_user_id'), ['staff_user_id'], unique=False)

    with op.batch_alter_table('contact_conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idea_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_contact_conversations_idea_id_ideas'), 'ideas', ['idea_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_text', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('who_it_helps', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('who_it_helps_redacted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('may_contact', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('credit', sa.Enum('first_name', 'anonymous', name='idea_credit', native_enum=False, create_constraint=True, length=32), server_default='anonymous', nullable=False))
        batch_op.add_column(sa.Column('category', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('status', sa.Enum('new', 'under_review', 'accepted_for_testing', 'testing', 'adopted', 'not_now', 'declined', 'merged', name='idea_status', native_enum=False, create_constraint=True, length=32), server_default='new', nullable=False))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assigned_reviewer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('checkin_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ideas_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ideas_status'), ['status'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ideas_assigned_reviewer_id_staff_users'), 'staff_users', ['assigned_reviewer_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_ideas_checkin_id_checkins'), 'checkins', ['checkin_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_ideas_merged_into_id_ideas'), 'ideas', ['merged_into_id'], ['id'])

    # Ideas sent before the review workflow: their status dates from when they came in,
    # and their network-visible text is redacted now, as new ideas are on arrival.
    op.execute("UPDATE ideas SET status_changed_at = created_at")
    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.alter_column('status_changed_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    redact_existing_ideas()

    with op.batch_alter_table('contact_conversations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_contact_conversations_pending_question'), type_='check')
        batch_op.create_check_constraint(op.f('ck_contact_conversations_pending_question'), "pending IN ('none', 'choose_checkin', 'idea_text', 'idea_who', 'idea_contact', 'idea_credit')")

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviews_ideas', sa.Boolean(), server_default=sa.false(), nullable=False))



def redact_existing_ideas():
    from engage.codesign.redaction import redact

    connection = op.get_bind()
    names = [
        name
        for row in connection.execute(sa.text(
            "SELECT given_name, family_name FROM patients "
            "UNION SELECT given_name, family_name FROM caregivers"
        ))
        for name in row
    ]
    for idea_id, text in connection.execute(sa.text("SELECT id, text FROM ideas")).all():
        connection.execute(
            sa.text("UPDATE ideas SET redacted_text = :redacted WHERE id = :id"),
            {"redacted": redact(text, family_names=(), known_names=names), "id": idea_id},
        )


def downgrade():
    with op.batch_alter_table('contact_conversations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_contact_conversations_pending_question'), type_='check')
        batch_op.create_check_constraint(op.f('ck_contact_conversations_pending_question'), "pending IN ('none', 'choose_checkin', 'idea_text')")

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('reviews_ideas')

    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ideas_idea_credit'), type_='check')
        batch_op.drop_constraint(op.f('ck_ideas_idea_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_ideas_merged_into_id_ideas'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_ideas_checkin_id_checkins'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_ideas_assigned_reviewer_id_staff_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ideas_status'))
        batch_op.drop_index(batch_op.f('ix_ideas_created_at'))
        batch_op.drop_column('checkin_id')
        batch_op.drop_column('assigned_reviewer_id')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('status')
        batch_op.drop_column('category')
        batch_op.drop_column('credit')
        batch_op.drop_column('may_contact')
        batch_op.drop_column('who_it_helps_redacted')
        batch_op.drop_column('who_it_helps')
        batch_op.drop_column('redacted_text')

    with op.batch_alter_table('contact_conversations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contact_conversations_idea_id_ideas'), type_='foreignkey')
        batch_op.drop_column('idea_id')

    with op.batch_alter_table('idea_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idea_votes_staff_user_id'))

    op.drop_table('idea_votes')
    op.drop_table('idea_testing_centers')
    with op.batch_alter_table('idea_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idea_tags_tag'))

    op.drop_table('idea_tags')
    with op.batch_alter_table('idea_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idea_status_changes_idea_id'))

    op.drop_table('idea_status_changes')
    op.drop_table('idea_followers')
    with op.batch_alter_table('idea_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idea_comments_idea_id'))

    op.drop_table('idea_comments')
    op.drop_table('idea_digests')
