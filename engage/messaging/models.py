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
    SUBMITTING = "submitting"  # a sender is handing it to Twilio right now
    ACCEPTED = "accepted"  # Twilio took it (its "queued" or "accepted")
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"
    CANCELLED = "cancelled"  # never sent: consent withdrawn, paused, or its check-in closed


# How far along a message is; a delivery callback never moves a message back.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SUBMITTING: 1,
    MessageStatus.ACCEPTED: 2,
    MessageStatus.SENDING: 3,
    MessageStatus.SENT: 4,
    MessageStatus.UNDELIVERED: 5,
    MessageStatus.FAILED: 5,
    MessageStatus.CANCELLED: 5,
    MessageStatus.DELIVERED: 6,
    MessageStatus.READ: 7,
}


# Purposes of outbox texts that a paused phone gets when the pause ends, rather than never:
# news the family asked for (what became of their idea). Check-in texts lapse instead.
WAIT_OUT_PAUSE = frozenset({"idea_update"})
# Texts the family is waiting for right now (a sign-in code they asked for): sent at once,
# through quiet hours, a pause, or SMS turned off for check-ins. Never to an opted-out phone.
AT_ANY_HOUR = frozenset({"sign_in_code"})


class Message(Base):
    """One SMS. Inbound rows are unique by Twilio's MessageSid, so a retry changes nothing."""

    __tablename__ = "messages"
    # Every text in or out is a row, so each index costs on the busiest path: the ones
    # that serve one kind of row are partial.
    __table_args__ = (
        sa.Index("ix_messages_contact_id_id", "contact_id", "id"),
        # /metrics counts the last day's messages; appends at the end of the btree are cheap.
        sa.Index("ix_messages_created_at", "created_at"),
        sa.Index(
            "ix_messages_queued",
            "id",
            postgresql_where=sa.text("status = 'queued'"),
            sqlite_where=sa.text("status = 'queued'"),
        ),
        sa.Index(
            "ix_messages_submitting",
            "claimed_at",
            postgresql_where=sa.text("status = 'submitting'"),
            sqlite_where=sa.text("status = 'submitting'"),
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
    error_message: Mapped[str | None] = mapped_column(sa.String(500))
    # The outbox: hand-over attempts, when to try again, and who holds it now.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    sent_at: Mapped[datetime | None]
    status_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the retention policy emptied an inbound body (engage/retention); the row stays.
    body_purged_at: Mapped[datetime | None]


class MessageStatusEvent(Base):
    """Each delivery status Twilio reported for a message, as it arrived."""

    __tablename__ = "message_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(32))
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class EarlyStatusCallback(Base):
    """A delivery status that arrived before the sender stored its message's SID.

    Twilio may call back before its answer to the send has been recorded (a fast failure,
    a busy database); the status waits here and is applied as soon as the SID is known.
    """

    __tablename__ = "early_status_callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    twilio_sid: Mapped[str] = mapped_column(sa.String(64), index=True)
    status: Mapped[str] = mapped_column(sa.String(32))
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SendWindow(Base):
    """Messages handed to Twilio in one second, shared by every sender process."""

    __tablename__ = "send_windows"

    second: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(default=0)
