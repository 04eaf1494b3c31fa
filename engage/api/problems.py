"""Errors of the JSON API as RFC 9457 problem details (``application/problem+json``).

Every problem has a stable ``type`` (``/api/v1/problems/<slug>``) that clients may
branch on, a ``title`` that never changes for the type, the HTTP ``status``, a
``detail`` for this occurrence, and, for refused input, ``errors`` by field name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, json
from marshmallow import INCLUDE, Schema, fields, validate
from werkzeug.exceptions import HTTPException

PROBLEM_BASE = "/api/v1/problems/"
MEDIA_TYPE = "application/problem+json"

# slug -> (status, title). Add a type here before raising it; the docs page lists them all.
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "bad-request": (400, "The request could not be read"),
    "unauthorized": (401, "Sign in first"),
    "forbidden": (403, "Not allowed"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "not-acceptable": (406, "Not acceptable"),
    "conflict": (409, "Refused by the current state"),
    "payload-too-large": (413, "The request is too large"),
    "unsupported-media-type": (415, "Send JSON"),
    "invalid-input": (422, "Invalid input"),
    "rate-limited": (429, "Too many requests"),
    "server-error": (500, "Something went wrong on our side"),
    "sign-in-code-refused": (401, "The sign-in code is wrong, expired or used up"),
    "refresh-token-refused": (401, "The refresh token cannot be used"),
    "check-in-moved-on": (409, "The check-in is no longer at that question"),
    "check-in-closed": (409, "The check-in is closed"),
}
STATUS_SLUGS = {status: slug for slug, (status, _title) in reversed(PROBLEM_TYPES.items())}

# slug -> when it happens and what a client does about it, for the docs page.
PROBLEM_ADVICE: dict[str, str] = {
    "bad-request": "The body is not JSON, or not readable. Fix the request; do not retry as is.",
    "unauthorized": (
        "No credentials, or an unknown, expired or revoked token. App clients refresh the "
        "access token once (POST /api/v1/auth/refresh), then sign in again."
    ),
    "forbidden": (
        "Signed in, but this account may not do this (a staff role, or a session's missing "
        "CSRF token). Retrying does not help."
    ),
    "not-found": (
        "Nothing at this URL, or nothing this caller may see: another center's patient, "
        "another family's check-in. The answer never says which."
    ),
    "method-not-allowed": "The URL exists but not with this method; the Allow header lists them.",
    "not-acceptable": "The API answers JSON only.",
    "conflict": (
        "The request is well formed but the current state refuses it: an alert already "
        "acknowledged, a second vote, an illegal status change. `errors` names the field."
    ),
    "payload-too-large": "The body is larger than the API accepts.",
    "unsupported-media-type": "Send the body as application/json.",
    "invalid-input": (
        "A parameter or a field of the body is refused: `errors` maps each field's name "
        "to its messages. Fix those fields and send again."
    ),
    "rate-limited": "Too many requests. Wait the seconds of the Retry-After header, then retry.",
    "server-error": "A fault on our side, logged for us. Retry later; report it if it persists.",
    "sign-in-code-refused": (
        "The code is wrong, expired (10 minutes), already used, or has had 5 wrong tries. "
        "Ask for a new code."
    ),
    "refresh-token-refused": (
        "The refresh token is unknown, expired or revoked, or was used before (which "
        "revokes every token of that sign-in). Sign in again with a code."
    ),
    "check-in-moved-on": (
        "The answer was for a question the check-in has left (answered meanwhile, by SMS "
        "or another device). Read the check-in again and answer its current question."
    ),
    "check-in-closed": (
        "The check-in is completed, expired or cancelled: it takes no more answers."
    ),
}


def problem_uri(slug: str) -> str:
    return PROBLEM_BASE + slug


class ProblemSchema(Schema):
    """RFC 9457 problem details: the body of every error under /api."""

    class Meta:
        unknown = INCLUDE  # a type may add members; clients ignore those they do not know

    type = fields.String(
        required=True,
        validate=validate.OneOf([problem_uri(slug) for slug in PROBLEM_TYPES]),
        metadata={"description": "stable: branch on it; GET it for its description"},
    )
    title = fields.String(required=True, metadata={"description": "the same for every type"})
    status = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    detail = fields.String(required=True, metadata={"description": "this occurrence, for people"})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "invalid-input and conflict: messages by the name of the field refused"
        },
    )


class ApiProblem(HTTPException):
    """Raise to answer with one of PROBLEM_TYPES; the app's error handler renders it."""

    def __init__(
        self,
        slug: str,
        detail: str | None = None,
        *,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        status, title = PROBLEM_TYPES[slug]
        super().__init__(description=detail or title)
        self.code = status
        self.slug = slug
        self.errors = dict(errors) if errors else None
        self.extra_headers = dict(headers or {})


def problem_body(
    slug: str, detail: str | None = None, errors: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    status, title = PROBLEM_TYPES[slug]
    body: dict[str, Any] = {
        "type": problem_uri(slug),
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = dict(errors)
    return body


def problem_response(
    slug: str,
    detail: str | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = problem_body(slug, detail, errors)
    response = Response(json.dumps(body), status=body["status"], mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def slug_for_status(status: int) -> str:
    if status in STATUS_SLUGS:
        return STATUS_SLUGS[status]
    return "server-error" if status >= 500 else "bad-request"
