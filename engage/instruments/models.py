"""Every instrument version ever used, kept whole so old answers keep their meaning."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, utcnow


class InstrumentVersion(Base):
    """The exact file an answer was given against, identified by its content hash.

    Check-ins point here. Editing a file in prompts/ adds a new row the next
    time it is used; the old row, and its text, stay.
    """

    __tablename__ = "instrument_versions"
    __table_args__ = (
        sa.Index("ix_instrument_versions_instrument_id_version", "instrument_id", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[str] = mapped_column(sa.String(32))
    content_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    source: Mapped[str] = mapped_column(sa.Text)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    first_used_at: Mapped[datetime] = mapped_column(default=utcnow)
