"""The instrument library of the running app, and the stored versions behind answers."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from flask import current_app

from engage.db import db, insert_for, utcnow
from engage.instruments.loader import Library, parse_instrument
from engage.instruments.model import Instrument
from engage.instruments.models import InstrumentVersion

EXTENSION_KEY = "engage.instruments"


def current_library() -> Library:
    """The instruments loaded (and checked) when the app started."""
    library: Library = current_app.extensions[EXTENSION_KEY]
    return library


def get_instrument(instrument_id: str) -> Instrument:
    return current_library().get(instrument_id)


def record_instrument_version(instrument: Instrument) -> InstrumentVersion:
    """The stored row for exactly this content; added the first time it is used.

    Several scheduler processes may use a new version at the same moment: the
    insert yields to whichever wrote it first instead of failing.
    """
    by_hash = sa.select(InstrumentVersion).where(
        InstrumentVersion.content_hash == instrument.content_hash
    )
    row = db.session.scalar(by_hash)
    if row is None:
        connection = db.session.connection()
        insert = insert_for(connection)
        connection.execute(
            insert(InstrumentVersion)
            .values(
                instrument_id=instrument.id,
                version=instrument.version,
                content_hash=instrument.content_hash,
                source=instrument.source,
                file_name=instrument.path.rsplit("/", 1)[-1],
                first_used_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["content_hash"])
        )
        row = db.session.scalars(by_hash).one()
    return row


def instrument_of(version: InstrumentVersion) -> Instrument:
    """The instrument exactly as it was when this version was used."""
    return _parse_stored(version.content_hash, version.source, version.file_name)


@lru_cache(maxsize=256)
def _parse_stored(content_hash: str, source: str, file_name: str) -> Instrument:
    instrument = parse_instrument(source, f"stored {file_name} ({content_hash[:12]})")
    if instrument.content_hash != content_hash:
        raise ValueError(f"stored instrument {file_name} does not match its hash {content_hash}")
    return instrument
