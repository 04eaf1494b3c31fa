"""What every HTTP response shares: JSON errors, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engage.errors import Conflict, InvalidInput

log = logging.getLogger("engage.web")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        if wants_page():
            return render_template("error.html", name=error.name, detail=error.description), status
        return jsonify({"error": error.name, "detail": error.description}), status

    @app.errorhandler(InvalidInput)
    def invalid_input(error: InvalidInput) -> tuple[Response, int]:
        if isinstance(error, Conflict):
            return jsonify({"error": "Conflict", "fields": error.as_messages()}), 409
        return jsonify({"error": "Invalid input", "fields": error.as_messages()}), 422

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response | str, int]:
        log.exception("unhandled error")
        if wants_page():
            detail = "Something went wrong on our side. Please try again."
            return render_template("error.html", name="Internal Server Error", detail=detail), 500
        return (
            jsonify(
                {"error": "Internal Server Error", "detail": "Something went wrong on our side."}
            ),
            500,
        )


# Machines call these; people in a browser get pages everywhere else.
MACHINE_PATHS = ("/api/", "/twilio/", "/healthz")


def wants_page() -> bool:
    """A person's browser asking for a page, rather than a machine asking for JSON."""
    if request.path.startswith(MACHINE_PATHS):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"
