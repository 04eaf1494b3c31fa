"""Enrollments: a patient, an instrument, a respondent phone and a schedule, as data."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.conversations.models import RespondentRole
from engage.db import Base, enum_column_type, utcnow

if TYPE_CHECKING:
    from engage.people.models import Contact, Patient


class ScheduleKind(enum.StrEnum):
    RECURRING = "recurring"  # daily, weekly on chosen weekdays, or every N weeks
    BEFORE_VISIT = "before_visit"  # N minutes before each upcoming visit
    ONCE = "once"


class EnrollmentStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class Enrollment(Base):
    """One schedule row; the dispatcher claims it when ``next_due_at`` has passed.

    The next due time is computed with APScheduler's triggers in ``time_zone``
    (the respondent's) and stored here: no APScheduler job per patient.
    """

    __tablename__ = "enrollments"
    __table_args__ = (
        sa.Index(
            "ix_enrollments_due",
            "next_due_at",
            postgresql_where=sa.text("status = 'active' AND next_due_at IS NOT NULL"),
            sqlite_where=sa.text("status = 'active' AND next_due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    instrument_id: Mapped[str] = mapped_column(sa.String(64))
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    respondent_role: Mapped[RespondentRole] = mapped_column(
        enum_column_type(RespondentRole, "respondent_role")
    )
    status: Mapped[EnrollmentStatus] = mapped_column(
        enum_column_type(EnrollmentStatus, "enrollment_status"), default=EnrollmentStatus.ACTIVE
    )
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[ScheduleKind] = mapped_column(enum_column_type(ScheduleKind, "schedule_kind"))
    # Recurring: at local_time on these weekdays ("mon,thu"; none: every day), every N weeks
    # counted from starts_on.
    weekdays: Mapped[str | None] = mapped_column(sa.String(32))
    every_weeks: Mapped[int] = mapped_column(default=1, server_default="1")
    local_time: Mapped[time | None] = mapped_column(sa.Time)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    # Before visit: this many minutes before each scheduled visit's start.
    minutes_before_visit: Mapped[int | None]
    # Once: at this moment.
    once_at: Mapped[datetime | None]

    next_due_at: Mapped[datetime | None]
    # For a before-visit schedule: the visit the next due time belongs to.
    next_visit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("visits.id", ondelete="SET NULL")
    )
    last_due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship()
    contact: Mapped[Contact] = relationship()

    def __repr__(self) -> str:
        return f"<Enrollment {self.id} {self.instrument_id} {self.kind.value}>"
