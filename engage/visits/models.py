"""Visits."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import Base, enum_column_type, utcnow

if TYPE_CHECKING:
    from engage.network.models import Center, StaffUser
    from engage.people.models import Patient


class VisitStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class Visit(Base):
    """An appointment; ``external_ref`` is the center's own id, so re-imports update it."""

    __tablename__ = "visits"
    __table_args__ = (
        sa.UniqueConstraint("center_id", "external_ref"),
        sa.Index("ix_visits_center_id_starts_at", "center_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"))
    starts_at: Mapped[datetime]
    clinician_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    status: Mapped[VisitStatus] = mapped_column(
        enum_column_type(VisitStatus, "visit_status"), default=VisitStatus.SCHEDULED
    )
    external_ref: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="visits")
    center: Mapped[Center] = relationship()
    clinician: Mapped[StaffUser | None] = relationship()
