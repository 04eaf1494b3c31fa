"""Checks a serving process makes once, before it takes work: each failure is one clear line."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from engage.config import ConfigurationError, redact_url
from engage.db import db
from engage.health.views import (
    MigrationState,
    Schema,
    describe_database_error,
    migration_state,
)


def check_database_at_start(app: Flask, need_current_schema: bool) -> MigrationState:
    """Stop start-up when the database does not answer, or (``need_current_schema``) when
    its schema is not the one this release expects. Returns the migration state."""
    where = redact_url(app.config["DATABASE_URL"])
    with app.app_context():
        try:
            db.session.execute(sa.text("SELECT 1"))
            state = migration_state()
        except SQLAlchemyError as error:
            reason = describe_database_error(error).removeprefix("database did not answer: ")
            raise ConfigurationError(
                f"the database at {where} does not answer ({reason}): check DATABASE_URL "
                "and that the database server is running and reachable"
            ) from None
        finally:
            db.session.remove()
    if need_current_schema and state.schema is Schema.NEWER:
        raise ConfigurationError(
            f"the database at {where} was migrated by a newer release: "
            f"{state.detail}; run that release here"
        )
    if need_current_schema and state.schema is not Schema.CURRENT:
        raise ConfigurationError(f"the database at {where} is not ready: {state.detail} first")
    return state
