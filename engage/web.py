"""What every HTTP response shares: JSON errors, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engage.api.problems import problem_response, slug_for_status
from engage.errors import Conflict, InvalidInput, describe_problems

log = logging.getLogger("engage.web")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int] | Response:
        status = error.code or 500
        if wants_page():
            return render_template("error.html", name=error.name, detail=error.description), status
        if is_api():
            return api_problem(error, status)
        return jsonify({"error": error.name, "detail": error.description}), status

    @app.errorhandler(InvalidInput)
    def invalid_input(error: InvalidInput) -> tuple[Response, int] | Response:
        conflict = isinstance(error, Conflict)
        if is_api():
            slug = "conflict" if conflict else "invalid-input"
            return problem_response(slug, f"{error.field}: {error.reason}", error.as_messages())
        if conflict:
            return jsonify({"error": "Conflict", "fields": error.as_messages()}), 409
        return jsonify({"error": "Invalid input", "fields": error.as_messages()}), 422

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response | str, int] | Response:
        log.exception("unhandled error")
        if wants_page():
            detail = "Something went wrong on our side. Please try again."
            return render_template("error.html", name="Internal Server Error", detail=detail), 500
        if is_api():
            return problem_response("server-error", "Something went wrong on our side.")
        return (
            jsonify(
                {"error": "Internal Server Error", "detail": "Something went wrong on our side."}
            ),
            500,
        )


def is_api() -> bool:
    return request.path.startswith("/api/")


def api_problem(error: HTTPException, status: int) -> Response:
    """Any HTTP error under /api as problem details, keeping webargs' messages by field."""
    slug = getattr(error, "slug", None) or slug_for_status(status)
    data: dict[str, Any] = getattr(error, "data", None) or {}
    errors = getattr(error, "errors", None) or field_messages(data.get("messages"))
    headers = {**(data.get("headers") or {}), **getattr(error, "extra_headers", {})}
    if error.response is not None:  # e.g. 405 carries its Allow header
        headers.update({k: v for k, v in error.response.headers.items() if k == "Allow"})
    allowed = getattr(error, "valid_methods", None)
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    detail = error.description
    if errors and detail == type(error).description:  # werkzeug's words: say which fields
        detail = "; ".join(line.rstrip(".") for line in describe_problems(errors))
    return problem_response(slug, detail, errors, headers)


def field_messages(messages: Any) -> dict[str, Any] | None:
    """webargs nests messages by location ({"json": {...}}); the client wants fields."""
    if not isinstance(messages, dict):
        return None
    merged: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            merged.update(fields)
        else:
            merged[str(location)] = fields
    return merged or None


# Machines call these; people in a browser get pages everywhere else.
MACHINE_PATHS = ("/api/", "/twilio/", "/healthz", "/readyz", "/metrics")


def wants_page() -> bool:
    """A person's browser asking for a page, rather than a machine asking for JSON."""
    if request.path.startswith(MACHINE_PATHS):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"
