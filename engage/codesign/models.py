"""Ideas sent in by patients and parents, and the network's review of them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import Base, enum_column_type, utcnow

if TYPE_CHECKING:
    from engage.network.models import Center, StaffUser
    from engage.people.models import Caregiver, Contact, Patient


class IdeaChannel(enum.StrEnum):
    SMS = "sms"
    APP = "app"
    CHECKIN = "checkin"


class IdeaStatus(enum.StrEnum):
    NEW = "new"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted_for_testing"
    TESTING = "testing"  # a PDSA cycle at named centers
    ADOPTED = "adopted"
    NOT_NOW = "not_now"
    DECLINED = "declined"
    MERGED = "merged"  # into another idea, which carries its votes and followers


class IdeaCredit(enum.StrEnum):
    """How the submitter wants to be named when the idea is shared."""

    FIRST_NAME = "first_name"
    ANONYMOUS = "anonymous"


# Categories a reviewer (or the app) may file an idea under; free tags go beside them.
IDEA_CATEGORIES: tuple[str, ...] = (
    "check_ins",
    "clinic_visits",
    "communication",
    "school",
    "food_and_diet",
    "medicines",
    "emotional_support",
    "peer_support",
    "transition_to_adult_care",
    "other",
)

idea_testing_centers = sa.Table(
    "idea_testing_centers",
    Base.metadata,
    sa.Column("idea_id", sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("center_id", sa.ForeignKey("centers.id", ondelete="CASCADE"), primary_key=True),
)


class Idea(Base):
    """One idea; ``text`` is the submitter's words, ``redacted_text`` what the network reads."""

    __tablename__ = "ideas"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    text: Mapped[str] = mapped_column(sa.Text)
    redacted_text: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    who_it_helps: Mapped[str | None] = mapped_column(sa.Text)
    who_it_helps_redacted: Mapped[str | None] = mapped_column(sa.Text)
    # None: not asked, or the family did not say. Only True lets the network get in touch.
    may_contact: Mapped[bool | None]
    credit: Mapped[IdeaCredit] = mapped_column(
        enum_column_type(IdeaCredit, "idea_credit"),
        default=IdeaCredit.ANONYMOUS,
        server_default=IdeaCredit.ANONYMOUS.value,
    )
    category: Mapped[str | None] = mapped_column(sa.String(32))
    channel: Mapped[IdeaChannel] = mapped_column(enum_column_type(IdeaChannel, "idea_channel"))
    status: Mapped[IdeaStatus] = mapped_column(
        enum_column_type(IdeaStatus, "idea_status"),
        default=IdeaStatus.NEW,
        server_default=IdeaStatus.NEW.value,
        index=True,
    )
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ideas.id"))
    assigned_reviewer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="SET NULL")
    )
    caregiver_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("caregivers.id", ondelete="SET NULL")
    )
    center_id: Mapped[int | None] = mapped_column(sa.ForeignKey("centers.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL")
    )
    checkin_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("checkins.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    contact: Mapped[Contact | None] = relationship()
    patient: Mapped[Patient | None] = relationship()
    caregiver: Mapped[Caregiver | None] = relationship()
    center: Mapped[Center | None] = relationship()
    assigned_reviewer: Mapped[StaffUser | None] = relationship()
    merged_into: Mapped[Idea | None] = relationship(
        remote_side="Idea.id", foreign_keys=[merged_into_id]
    )
    testing_centers: Mapped[list[Center]] = relationship(
        secondary=idea_testing_centers, order_by="Center.code"
    )
    history: Mapped[list[IdeaStatusChange]] = relationship(
        back_populates="idea",
        foreign_keys="IdeaStatusChange.idea_id",
        order_by="IdeaStatusChange.changed_at, IdeaStatusChange.id",
        cascade="all, delete-orphan",
    )
    votes: Mapped[list[IdeaVote]] = relationship(
        back_populates="idea", cascade="all, delete-orphan"
    )
    comments: Mapped[list[IdeaComment]] = relationship(
        back_populates="idea",
        order_by="IdeaComment.created_at, IdeaComment.id",
        cascade="all, delete-orphan",
    )
    tags: Mapped[list[IdeaTag]] = relationship(
        back_populates="idea", order_by="IdeaTag.tag", cascade="all, delete-orphan"
    )
    followers: Mapped[list[IdeaFollower]] = relationship(
        back_populates="idea", cascade="all, delete-orphan"
    )

    @property
    def submitter_role(self) -> str:
        return "patient" if self.patient_id is not None else "parent"

    @property
    def submitter_first_name(self) -> str | None:
        owner = self.patient or self.caregiver
        return owner.given_name if owner is not None else None

    def __repr__(self) -> str:
        return f"<Idea {self.reference} {self.status.value}>"


class IdeaStatusChange(Base):
    """One step of an idea's history, with the reviewer's reason. Never edited."""

    __tablename__ = "idea_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[IdeaStatus] = mapped_column(enum_column_type(IdeaStatus, "from_status"))
    to_status: Mapped[IdeaStatus] = mapped_column(enum_column_type(IdeaStatus, "to_status"))
    rationale: Mapped[str] = mapped_column(sa.Text)
    changed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ideas.id"))
    # Center codes of a testing cycle, as they were named at the time.
    centers: Mapped[list[str] | None] = mapped_column(sa.JSON)
    # What the relay did: "texted 2 phones", "not texted: the submitter opted out", ...
    relay: Mapped[str | None] = mapped_column(sa.String(300))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="history", foreign_keys=[idea_id])
    changed_by: Mapped[StaffUser | None] = relationship()
    merged_into: Mapped[Idea | None] = relationship(foreign_keys=[merged_into_id])


class IdeaVote(Base):
    """One vote per staff user (network staff and parent partners) and idea."""

    __tablename__ = "idea_votes"
    __table_args__ = (sa.UniqueConstraint("idea_id", "staff_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"))
    staff_user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="votes")
    staff_user: Mapped[StaffUser] = relationship()


class IdeaComment(Base):
    __tablename__ = "idea_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="comments")
    staff_user: Mapped[StaffUser | None] = relationship()


class IdeaTag(Base):
    __tablename__ = "idea_tags"

    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.String(40), primary_key=True, index=True)

    idea: Mapped[Idea] = relationship(back_populates="tags")


class IdeaFollower(Base):
    """A phone that hears of an idea besides its submitter's: senders of merged duplicates."""

    __tablename__ = "idea_followers"

    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="followers")
    contact: Mapped[Contact] = relationship()


class IdeaDigest(Base):
    """One weekly digest: a row per week, so several schedulers send it once."""

    __tablename__ = "idea_digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    week_start: Mapped[datetime] = mapped_column(unique=True)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
