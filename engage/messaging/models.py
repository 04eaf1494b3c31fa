"""Messages: every SMS in or out, with its Twilio SID and status."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, enum_column_type, utcnow


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(enum.StrEnum):
    RECEIVED = "received"  # inbound, stored
    REPLIED = "replied"  # outbound, handed to Twilio inside the webhook's TwiML answer
    QUEUED = "queued"  # outbound, waiting in the outbox
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"  # never sent: consent withdrawn or its check-in closed


class Message(Base):
    """One SMS. Inbound rows are unique by Twilio's MessageSid, so a retry changes nothing."""

    __tablename__ = "messages"
    # Every text in or out is a row, so each index costs on the busiest path: the ones
    # that serve one kind of row are partial.
    __table_args__ = (
        sa.Index("ix_messages_contact_id_id", "contact_id", "id"),
        sa.Index(
            "ix_messages_queued",
            "id",
            postgresql_where=sa.text("status = 'queued'"),
            sqlite_where=sa.text("status = 'queued'"),
        ),
        sa.Index(
            "ix_messages_stranger_phone",
            "phone",
            postgresql_where=sa.text("contact_id IS NULL"),
            sqlite_where=sa.text("contact_id IS NULL"),
        ),
        sa.Index(
            "ix_messages_reply_to_id",
            "reply_to_id",
            postgresql_where=sa.text("reply_to_id IS NOT NULL"),
            sqlite_where=sa.text("reply_to_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[Direction] = mapped_column(enum_column_type(Direction, "direction"))
    status: Mapped[MessageStatus] = mapped_column(enum_column_type(MessageStatus, "message_status"))
    # The family's number: sender of inbound, recipient of outbound. Kept as given when
    # it is not a valid number, so nothing is lost.
    phone: Mapped[str] = mapped_column(sa.String(32))
    service_phone: Mapped[str | None] = mapped_column(sa.String(32))
    body: Mapped[str] = mapped_column(sa.Text)
    twilio_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    checkin_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("checkins.id", ondelete="SET NULL"), index=True
    )
    reply_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("messages.id"))
    purpose: Mapped[str | None] = mapped_column(sa.String(32))
    num_media: Mapped[int] = mapped_column(default=0, server_default="0")
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
