"""Check-ins, their answers and scores, and each phone's place in the conversation."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import Base, enum_column_type, utcnow
from engage.people.models import Language

if TYPE_CHECKING:
    from engage.instruments.models import InstrumentVersion
    from engage.people.models import Contact, Patient


class CheckInStatus(enum.StrEnum):
    DUE = "due"
    SENT = "sent"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    EXPIRED = "expired"  # closed unfinished, with some answers
    MISSED = "missed"  # closed without a single answer
    CANCELLED = "cancelled"


OPEN_STATUSES = (CheckInStatus.SENT, CheckInStatus.IN_PROGRESS)


class CloseReason(enum.StrEnum):
    """Why a check-in was never sent, or closed unanswered: shown to staff."""

    OPTED_OUT = "opted_out"
    PAUSED = "paused"
    NUMBER_UNUSABLE = "number_unusable"
    LATE = "late"  # due longer ago than the grace window (the scheduler was down, or it waited)
    DAILY_CAP = "daily_cap"
    WEEKLY_CAP = "weekly_cap"
    VISIT_CANCELLED = "visit_cancelled"
    VISIT_MOVED = "visit_moved"  # a new check-in is scheduled for the new time
    ENROLLMENT_ENDED = "enrollment_ended"
    NO_ANSWER = "no_answer"  # expired after its window


def opening_was_sent(state: dict[str, Any]) -> bool:
    """False while a check-in waits for another one on the same phone to end."""
    return bool(state.get("opening_sent", True))


class RespondentRole(enum.StrEnum):
    SELF = "self"
    PROXY = "proxy"


class AnswerStatus(enum.StrEnum):
    ANSWERED = "answered"
    SKIPPED = "skipped"  # the respondent replied SKIP
    UNANSWERED = "unanswered"  # two replies could not be read


class CheckIn(Base):
    """One occurrence of a questionnaire for one patient, answered by one phone."""

    __tablename__ = "checkins"
    __table_args__ = (
        sa.Index("ix_checkins_contact_id_status", "contact_id", "status"),
        sa.Index("ix_checkins_patient_id_opened_at", "patient_id", "opened_at"),
        sa.Index("ix_checkins_status_expires_at", "status", "expires_at"),
        sa.Index("ix_checkins_due_at", "due_at"),  # /metrics: the last week's check-ins
        # A schedule opens one check-in per due time, however many dispatchers race for it.
        sa.UniqueConstraint("enrollment_id", "due_at"),
        sa.Index(
            "ix_checkins_waiting",
            "due_at",
            postgresql_where=sa.text("status = 'due'"),
            sqlite_where=sa.text("status = 'due'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    instrument_version_id: Mapped[int] = mapped_column(sa.ForeignKey("instrument_versions.id"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    respondent_role: Mapped[RespondentRole] = mapped_column(
        enum_column_type(RespondentRole, "respondent_role")
    )
    language: Mapped[Language] = mapped_column(enum_column_type(Language, "checkin_language"))
    status: Mapped[CheckInStatus] = mapped_column(enum_column_type(CheckInStatus, "checkin_status"))
    due_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Scheduled check-ins: the enrollment and, for a pre-visit one, the visit it prepares.
    enrollment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrollments.id", ondelete="SET NULL")
    )
    visit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("visits.id", ondelete="SET NULL"), index=True
    )
    # A due check-in is not opened before this (quiet hours at its due time).
    not_before: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    # Why a check-in closed without being answered: see CloseReason.
    close_reason: Mapped[str | None] = mapped_column(sa.String(32))
    # The conversation engine's state: current item, tries, items asked, red flags raised.
    state: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship()
    contact: Mapped[Contact] = relationship()
    instrument_version: Mapped[InstrumentVersion] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def opening_sent(self) -> bool:
        return opening_was_sent(self.state)


class Answer(Base):
    """The answer to one item, with who gave it and in what role."""

    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("checkin_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(sa.ForeignKey("checkins.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[AnswerStatus] = mapped_column(enum_column_type(AnswerStatus, "answer_status"))
    value: Mapped[Any | None] = mapped_column(sa.JSON)
    raw_text: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    respondent_role: Mapped[RespondentRole] = mapped_column(
        enum_column_type(RespondentRole, "respondent_role")
    )
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class CheckInScore(Base):
    __tablename__ = "checkin_scores"
    __table_args__ = (sa.UniqueConstraint("checkin_id", "score_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(sa.ForeignKey("checkins.id", ondelete="CASCADE"))
    score_id: Mapped[str] = mapped_column(sa.String(64))
    raw: Mapped[int | None]
    value: Mapped[float | None]
    band_id: Mapped[str | None] = mapped_column(sa.String(64))
    answered: Mapped[int]


class PendingQuestion(enum.StrEnum):
    NONE = "none"
    CHOOSE_CHECKIN = "choose_checkin"  # "Reply 1 for Sam, 2 for Alex"
    IDEA_TEXT = "idea_text"  # "IDEA" alone: the next text is the idea
    IDEA_WHO = "idea_who"  # who the idea would help
    IDEA_CONTACT = "idea_contact"  # may the network get in touch (yes / no)
    IDEA_CREDIT = "idea_credit"  # credit by first name, or anonymous


class ContactConversation(Base):
    """What a phone was last asked outside a check-in, so its next text is read right."""

    __tablename__ = "contact_conversations"

    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    pending: Mapped[PendingQuestion] = mapped_column(
        enum_column_type(PendingQuestion, "pending_question"), default=PendingQuestion.NONE
    )
    held_text: Mapped[str | None] = mapped_column(sa.Text)
    held_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL")
    )
    choices: Mapped[list[int] | None] = mapped_column(sa.JSON)
    chosen_checkin_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("checkins.id", ondelete="SET NULL")
    )
    # The idea the IDEA_* questions are about.
    idea_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ideas.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
