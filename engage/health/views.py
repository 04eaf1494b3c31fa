"""``/healthz``: is the process up and its database answering (liveness)?
``/readyz``: may it take traffic: database answering, schema at the newest migration,
instruments loaded and, where a scheduler runs, its jobs running (readiness)?"""

from __future__ import annotations

import logging
from functools import cache

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from engage.db import db
from engage.monitoring.jobs import JOB_BOOK_KEY

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


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    return readiness_response()


def readiness_response() -> tuple[Response, int]:
    checks = readiness_checks()
    ready = all(value == "ok" or value.startswith("ok ") for value in checks.values())
    if not ready:
        log.warning("readiness: %s", checks)
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return jsonify(body), 200 if ready else 503


def readiness_checks() -> dict[str, str]:
    """Each check "ok…" or what is wrong; a process running the scheduler adds its jobs."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
        checks["migrations"] = migration_state()
    except SQLAlchemyError as error:
        db.session.rollback()
        checks["database"] = describe_database_error(error)
        checks["migrations"] = "unknown: the database did not answer"
    checks["instruments"] = instrument_state()
    book = current_app.extensions.get(JOB_BOOK_KEY)
    if book is not None:
        late = book.late_jobs()
        checks["scheduler"] = "ok" if not late else "jobs are late: " + "; ".join(late)
    return checks


@cache
def known_migrations() -> tuple[frozenset[str], frozenset[str]]:
    """This release's newest migrations, and every migration it knows."""
    from engage import migrations_directory

    scripts = ScriptDirectory(str(migrations_directory()))
    known = frozenset(revision.revision for revision in scripts.walk_revisions())
    return frozenset(scripts.get_heads()), known


def migration_state() -> str:
    """ "ok" when the schema is at this release's newest migration; "ok (…)" when it is newer
    (a newer release has migrated and this host is about to be replaced); else what to run."""
    try:
        versions = set(
            db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        )
    except SQLAlchemyError:
        db.session.rollback()
        return "no schema: run `flask --app engage db upgrade`"
    heads, known = known_migrations()
    if versions == heads:
        return "ok"
    found = ", ".join(sorted(versions)) or "none"
    expected = ", ".join(sorted(heads))
    if versions and not versions & known:
        return f"ok (schema at {found} is newer than this release's {expected}: finish the rollout)"
    return f"schema at {found}, code expects {expected}: run `flask --app engage db upgrade`"


def instrument_state() -> str:
    from engage.instruments.services import EXTENSION_KEY

    library = current_app.extensions.get(EXTENSION_KEY)
    count = len(library.instruments) if library is not None else 0
    return f"ok ({count} loaded)" if count else "no instruments loaded: check prompts/"
