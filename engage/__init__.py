"""engage: SMS check-ins and a co-design backlog for pediatric learning health networks."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from engage.config import ConfigurationError, build_settings
from engage.db import db, import_models, shift_clock
from engage.extensions import migrate

__all__ = ["ConfigurationError", "announce_start", "create_app"]


def migrations_directory() -> Path:
    """``migrations/`` beside the package (a checkout), else in the working directory."""
    beside_package = Path(__file__).resolve().parent.parent / "migrations"
    return beside_package if beside_package.is_dir() else Path.cwd() / "migrations"


log = logging.getLogger("engage")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the engage application; ``config`` overrides settings from the environment."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(build_settings(config, app.instance_path))
    os.makedirs(app.instance_path, exist_ok=True)
    configure_logging(app)
    shift_clock(app.config["CLOCK_OFFSET_FILE"])
    if app.config["TRUSTED_PROXIES"]:
        # Behind N proxies: the client address, scheme and host come from X-Forwarded-*.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )

    import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(migrations_directory()))
    with app.app_context():
        prepare_engine(db.engine)
    load_instruments(app)

    from engage.audit.views import bp as audit_bp
    from engage.auth.views import bp as auth_bp
    from engage.auth.web import register_web_session
    from engage.codesign.views import bp as ideas_bp
    from engage.commands import register_cli
    from engage.health.views import bp as health_bp
    from engage.measures.views import bp as measures_bp
    from engage.messaging.views import bp as messaging_bp
    from engage.monitoring.metrics import register_metrics
    from engage.review.views import bp as review_bp
    from engage.web import register_error_handlers

    register_web_session(app)
    from engage.api import register_api

    register_api(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(messaging_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(ideas_bp)
    app.register_blueprint(measures_bp)
    register_metrics(app)
    register_error_handlers(app)
    register_cli(app)
    return app


def load_instruments(app: Flask) -> None:
    """Load and check every instrument file now: a broken one stops start-up."""
    from engage.instruments.loader import load_library
    from engage.instruments.services import EXTENSION_KEY

    folders = [Path(folder) for folder in app.config["PROMPT_FOLDERS"]]
    app.extensions[EXTENSION_KEY] = load_library(folders)


def configure_logging(app: Flask) -> None:
    """Write engage's log as LOG_FORMAT says (JSON lines or text), one line per request.

    The handler is installed once per process, and only when the host process has not
    set up logging itself; records always propagate, so a host's handlers see them too.
    """
    from engage.monitoring.logs import install_handler, register_request_logging

    install_handler(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    register_request_logging(app)


def prepare_engine(engine: sa.Engine) -> None:
    """Give SQLite foreign keys, WAL and real transactions (SAVEPOINT included)."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front: two requests that read, then write,
        # wait for each other instead of failing with "database is locked".
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_announced: set[str] = set()


def database_label(app: Flask) -> str:
    """Where the data lives, without credentials: ``PostgreSQL db.internal:5432/engage``."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        return f"SQLite {url.database or ':memory:'}"
    return f"PostgreSQL {url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def announce_start(app: Flask) -> None:
    """Say once per serving process where data lives and where SMS go."""
    key = f"{app.config['SQLALCHEMY_DATABASE_URI']}|{app.config['SMS_TRANSPORT']}"
    if key in _announced:
        return
    _announced.add(key)
    log.info("engage (%s) using database %s", app.config["ENGAGE_ENV"], database_label(app))
    if app.config["CLOCK_OFFSET_FILE"]:
        log.warning(
            "the clock of this process is shifted by the offset in CLOCK_OFFSET_FILE=%s: "
            "for rehearsals and tests only, never for a live service",
            app.config["CLOCK_OFFSET_FILE"],
        )
    if app.config["SMS_TRANSPORT"] == "outbox":
        log.warning(
            "Twilio is not configured: outbound SMS stay in the local outbox and nothing "
            "is sent off this machine (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER to send)"
        )
