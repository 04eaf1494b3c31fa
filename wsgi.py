"""Entry point for gunicorn: ``gunicorn --config gunicorn.conf.py wsgi:app``."""

import logging
import sys

from engage import ConfigurationError, announce_start, create_app
from engage.health.startup import check_database_at_start
from engage.health.views import Schema

try:
    app = create_app()
    state = check_database_at_start(app, need_current_schema=False)
except ConfigurationError as error:
    # A clear sentence instead of a traceback; gunicorn stops the worker boot.
    print(f"engage cannot start: {error.format_message()}", file=sys.stderr)
    sys.exit(4)

announce_start(app)
if state.schema is not Schema.CURRENT:
    # Serve anyway: /readyz says "not ready" until the migration runs (rolling upgrades).
    logging.getLogger("engage").warning("database schema is not current: %s", state.detail)
