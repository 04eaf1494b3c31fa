"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

import sys

from engage import ConfigurationError, announce_start, create_app

try:
    app = create_app()
except ConfigurationError as error:
    # A clear sentence instead of a traceback; gunicorn stops the worker boot.
    print(f"engage cannot start: {error}", file=sys.stderr)
    sys.exit(4)

announce_start(app)
