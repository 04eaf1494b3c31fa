"""What every HTTP response shares: JSON errors, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from engage.errors import InvalidInput

log = logging.getLogger("engage.web")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        return jsonify({"error": error.name, "detail": error.description}), status

    @app.errorhandler(InvalidInput)
    def invalid_input(error: InvalidInput) -> tuple[Response, int]:
        return jsonify({"error": "Invalid input", "fields": error.as_messages()}), 422

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return (
            jsonify(
                {"error": "Internal Server Error", "detail": "Something went wrong on our side."}
            ),
            500,
        )
