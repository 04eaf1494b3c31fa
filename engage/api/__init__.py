"""The JSON API under /api/v1: one OpenAPI 3 document, generated from the same schemas.

Each capability adds its own flask-smorest blueprint here; the document is served at
``/api/v1/openapi.json`` (no UI is bundled: nothing is fetched from a CDN).
"""

from __future__ import annotations

from flask import Flask, abort, g, request
from flask_smorest import Api

from engage.auth.services import staff_for_token
from engage.auth.web import current_staff
from engage.network.models import StaffRole, StaffUser

API_SETTINGS = {
    "API_TITLE": "engage",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            }
        },
        "security": [{"bearer": []}, {"session": []}],
    },
}

api = Api()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def api_staff(*roles: StaffRole) -> StaffUser:
    """The caller: a bearer token's staff user, else the signed-in session's; 401 or 403."""
    token = bearer_token()
    user = staff_for_token(token) if token else current_staff()
    if user is None:
        abort(401)
    if roles and user.role not in roles:
        abort(403)
    g.staff = user
    return user


def register_api(app: Flask) -> None:
    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    api.init_app(app)
    from engage.codesign.api import blp as ideas_blp
    from engage.review.api import blp as review_blp

    api.register_blueprint(review_blp)
    api.register_blueprint(ideas_blp)
