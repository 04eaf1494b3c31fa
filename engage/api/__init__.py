"""The JSON API under /api/v1: one OpenAPI 3 document, generated from the same schemas.

Each capability adds its own flask-smorest blueprint here; the document is served at
``/api/v1/openapi.json`` and read by people at ``/api/v1/docs`` (engage/api/docs.py;
nothing is fetched from a CDN).

The conventions every endpoint shares, staff's and the app's:

- JSON in, JSON out; a request body's unknown fields are refused.
- Every error is ``application/problem+json`` (engage/api/problems.py), rendered by
  engage/web.py, and documented: each operation has a ``default`` problem response, a
  ``401`` when it needs credentials and a ``404`` when its path names something.
- Lists are pages: ``?page=&per_page=`` in, ``{items, total, page, per_page, pages}`` out
  (engage/api/pagination.py).
"""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any

from apispec import BasePlugin
from flask import Flask, abort, g, request
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.routing import IntegerConverter, Map

from engage.api.problems import MEDIA_TYPE, PROBLEM_TYPES, ProblemSchema
from engage.auth.services import staff_for_token
from engage.auth.web import current_staff
from engage.network.models import StaffRole, StaffUser

API_DESCRIPTION = """\
The JSON API of engage, for clinicians' and reviewers' tools and for the patients' and
parents' app. Read it as a page at [/api/v1/docs](/api/v1/docs).

**Errors** are RFC 9457 problem details (`application/problem+json`): `type`
(`/api/v1/problems/<slug>`, stable, for a client to branch on), `title`, `status`, `detail`
and, for refused input, `errors` by field name. The types are listed at
[/api/v1/docs#problems](/api/v1/docs#problems).

**Lists** are pages: `page` (from 1) and `per_page` (at most 100) in the query; the answer is
`{items, total, page, per_page, pages}`.
"""

API_SETTINGS = {
    "API_TITLE": "engage",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {"description": API_DESCRIPTION},
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "A staff API token (`flask engage staff token EMAIL`) for /review and "
                        "/ideas; an app access token (POST /api/v1/auth/token) for the app's "
                        "endpoints. Missing, unknown, expired or revoked: 401 `unauthorized`."
                    ),
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": (
                        "A signed-in staff browser session; a change also needs the page's "
                        "CSRF token in `X-CSRF-Token` (403 `forbidden` without it)."
                    ),
                },
            }
        },
        "security": [{"bearer": []}, {"session": []}],
    },
}


ID_MAX = 2**31 - 1  # the largest id every table holds (PostgreSQL's integer)


class IdConverter(IntegerConverter):
    """``<int:…>`` up to ID_MAX: a larger number names nothing (404), not a database error.

    The document states the bound (``maximum``), so clients and schemathesis know it too.
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = ID_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def problem_types_of(status: int) -> list[str]:
    return [slug for slug, (code, _title) in PROBLEM_TYPES.items() if code == status]


# Headers that go with some problems, documented on their responses.
PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    405: {"Allow": {"description": "the methods the URL takes", "schema": {"type": "string"}}},
    429: {
        "Retry-After": {
            "description": "seconds to wait before trying again",
            "schema": {"type": "integer"},
        }
    },
}


class ProblemResponsesPlugin(BasePlugin):
    """Document on every operation the problems any of them may answer.

    A ``401`` where the operation needs credentials and a ``404`` where its path names
    something, unless the view documented them itself; flask-smorest adds ``default``.
    """

    def init_spec(self, spec: Any) -> None:
        self.spec = spec

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            documented = {str(code) for code in responses}
            if self.needs_credentials(operation) and "401" not in documented:
                responses["401"] = http.HTTPStatus.UNAUTHORIZED.name
            if path and "{" in path and "404" not in documented:
                responses["404"] = http.HTTPStatus.NOT_FOUND.name

    def needs_credentials(self, operation: dict[str, Any]) -> bool:
        security = operation.get("security", self.spec.options.get("security", []))
        return bool(security) and all(requirement for requirement in security)


class EngageApi(Api):
    """flask-smorest's Api, documenting errors as problem details."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """None: engage.web renders every error, under /api as problem details."""

    def _register_pagination_header(self) -> None:
        """None: pages are in the body (engage/api/pagination.py), not an X-Pagination header."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                types = ", ".join(f"`{slug}`" for slug in problem_types_of(status))
                if types:
                    response["description"] = f"{status.phrase}: problem type {types}"
                response["schema"] = self.ERROR_SCHEMA
                if status in PROBLEM_HEADERS:
                    response["headers"] = PROBLEM_HEADERS[status]
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {
            "description": "Any other error, as problem details (see /api/v1/docs#problems)",
            "schema": self.ERROR_SCHEMA,
        }
        prepare_response(default, self.spec, MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


api = EngageApi(spec_kwargs={"extra_plugins": [ProblemResponsesPlugin()]})


def problems(blp: Blueprint, *statuses: int) -> Callable[[Any], Any]:
    """Document the problems a view answers: ``@problems(blp, 403, 409)``."""

    def decorate(view: Any) -> Any:
        for status in sorted(statuses, reverse=True):
            view = blp.alt_response(status, response=http.HTTPStatus(status).name)(view)
        return view

    return decorate


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def api_staff(*roles: StaffRole) -> StaffUser:
    """The caller: a bearer token's staff user, else the signed-in session's; 401 or 403."""
    token = bearer_token()
    user = staff_for_token(token) if token else current_staff()
    if user is None:
        abort(401, description="Send a staff API token as 'Authorization: Bearer …', or sign in.")
    if roles and user.role not in roles:
        abort(403, description="Your staff role may not use this endpoint.")
    g.staff = user
    return user


def refuse_unknown_query_parameters() -> None:
    """Let each query schema decide (marshmallow refuses by default), as bodies do.

    webargs ignores unknown query parameters unless told; a client's misspelt filter
    would then quietly answer everything.
    """
    parser = Blueprint.ARGUMENTS_PARSER
    parser.DEFAULT_UNKNOWN_BY_LOCATION = {
        **parser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }


def register_api(app: Flask) -> None:
    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    # Before any rule is added: every <int:…> of the app is bounded, the pages' too.
    app.url_map.converters["int"] = IdConverter
    refuse_unknown_query_parameters()
    api.init_app(app)
    from engage.api.docs import bp as docs_bp

    app.register_blueprint(docs_bp)
    from engage.codesign.api import blp as ideas_blp
    from engage.measures.api import blp as measures_blp
    from engage.mobile.api import blp as app_blp
    from engage.mobile.auth_api import blp as app_auth_blp
    from engage.mobile.checkins_api import blp as app_checkins_blp
    from engage.review.api import blp as review_blp

    api.register_blueprint(review_blp)
    api.register_blueprint(ideas_blp)
    api.register_blueprint(app_auth_blp)
    api.register_blueprint(app_blp)
    api.register_blueprint(app_checkins_blp)
    api.register_blueprint(measures_blp)
