"""Extension objects, created unbound and attached to an app in ``create_app``."""

from flask_migrate import Migrate

from engage.db import db

__all__ = ["db", "migrate"]

migrate = Migrate()
