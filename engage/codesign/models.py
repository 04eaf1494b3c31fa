"""Ideas sent in by patients and parents."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, enum_column_type, utcnow


class IdeaChannel(enum.StrEnum):
    SMS = "sms"
    APP = "app"
    CHECKIN = "checkin"


class Idea(Base):
    __tablename__ = "ideas"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    text: Mapped[str] = mapped_column(sa.Text)
    channel: Mapped[IdeaChannel] = mapped_column(enum_column_type(IdeaChannel, "idea_channel"))
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
