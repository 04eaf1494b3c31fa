"""``/healthz``: is the process up and its database answering (liveness)?
``/readyz``: may it take traffic: database answering, schema at the newest migration,
instruments loaded and, where a scheduler runs, its jobs running (readiness)?"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Check:
    """One readiness check: whether it passes, and what an operator reads about it."""

    ready: bool
    text: str

    @classmethod
    def passed(cls, detail: str | None = None) -> Check:
        return cls(True, f"ok ({detail})" if detail else "ok")

    @classmethod
    def failed(cls, problem: str) -> Check:
        return cls(False, problem)


def readiness_response() -> tuple[Response, int]:
    checks = readiness_checks()
    ready = all(check.ready for check in checks.values())
    texts = {name: check.text for name, check in checks.items()}
    if not ready:
        log.warning("readiness: %s", texts)
    body = {"status": "ready" if ready else "not_ready", "checks": texts}
    return jsonify(body), 200 if ready else 503


def readiness_checks() -> dict[str, Check]:
    """The database, its schema, the instruments; a process running the scheduler adds its jobs."""
    checks: dict[str, Check] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = Check.passed()
        checks["migrations"] = migration_state().check
    except SQLAlchemyError as error:
        db.session.rollback()
        checks["database"] = Check.failed(describe_database_error(error))
        checks["migrations"] = Check.failed("unknown: the database did not answer")
    checks["instruments"] = instrument_state()
    book = current_app.extensions.get(JOB_BOOK_KEY)
    if book is not None:
        late = book.late_jobs()
        checks["scheduler"] = (
            Check.passed() if not late else Check.failed("jobs are late: " + "; ".join(late))
        )
    return checks


@cache
def known_migrations() -> tuple[frozenset[str], frozenset[str]]:
    """This release's newest migrations, and every migration it knows."""
    from engage import migrations_directory

    scripts = ScriptDirectory(str(migrations_directory()))
    known = frozenset(revision.revision for revision in scripts.walk_revisions())
    return frozenset(scripts.get_heads()), known


class Schema(enum.Enum):
    CURRENT = "current"  # at this release's newest migration
    NEWER = "newer"  # migrated by a newer release: it is rolling out, this host will go
    BEHIND = "behind"  # older than this release: run the migrations
    MISSING = "missing"  # never migrated


@dataclass(frozen=True)
class MigrationState:
    """The schema against this release's migrations, and what an operator should know.

    A newer schema is ready for web hosts (rolling upgrades), but a process that must own
    the schema, the scheduler, refuses anything but the current one."""

    schema: Schema
    detail: str = ""

    @property
    def check(self) -> Check:
        if self.schema is Schema.CURRENT:
            return Check.passed()
        if self.schema is Schema.NEWER:
            return Check.passed(self.detail)
        return Check.failed(self.detail)


def migration_state() -> MigrationState:
    try:
        versions = set(
            db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        )
    except SQLAlchemyError:
        db.session.rollback()
        return MigrationState(Schema.MISSING, "no schema: run `flask --app engage db upgrade`")
    heads, known = known_migrations()
    if versions == heads:
        return MigrationState(Schema.CURRENT)
    found = ", ".join(sorted(versions)) or "none"
    expected = ", ".join(sorted(heads))
    if versions and not versions & known:
        return MigrationState(
            Schema.NEWER,
            f"schema at {found} is newer than this release's {expected}: finish the rollout",
        )
    return MigrationState(
        Schema.BEHIND,
        f"schema at {found}, code expects {expected}: run `flask --app engage db upgrade`",
    )


def instrument_state() -> Check:
    from engage.instruments.services import EXTENSION_KEY

    library = current_app.extensions.get(EXTENSION_KEY)
    count = len(library.instruments) if library is not None else 0
    return (
        Check.passed(f"{count} loaded")
        if count
        else Check.failed("no instruments loaded: check prompts/")
    )
