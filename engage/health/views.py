"""``/healthz``: is the service up, and does its database answer?"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from engage.db import db

bp = Blueprint("health", __name__)
log = logging.getLogger("engage.health")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        reason = describe_database_error(error)
        log.warning("health check: database did not answer: %s", reason)
        return jsonify({"status": "unavailable", "database": "unavailable", "reason": reason}), 503
    return jsonify({"status": "ok", "database": "ok"}), 200


def describe_database_error(error: SQLAlchemyError) -> str:
    """First line of the driver's message: enough to act on, no SQL, no password."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return f"database did not answer: {first_line}"
