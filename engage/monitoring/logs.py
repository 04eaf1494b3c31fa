"""Structured logs: one line per record, a request id on every line, personal data masked.

With ``LOG_FORMAT=json`` (the production default) each record is one JSON object::

    {"time": "2026-12-01T17:00:00.123Z", "level": "INFO", "logger": "engage.requests",
     "message": "GET /review/patients/12 200 in 8ms", "request_id": "3f9c…",
     "event": "request", "method": "GET", "path": "/review/patients/12", "status": 200, …}

``request_id`` is the id of the request being served (the caller's valid ``X-Request-Id``
or a new one, sent back in the same header) or of the system-job run (``job-<hex>``);
``null`` outside both (start-up, CLI commands). ``exc`` holds the traceback of
``log.exception``. ``LOG_FORMAT=text`` writes the same records as readable lines.

Structured fields: pass ``extra={"fields": {"contact_id": 12}}``; each becomes a key of
the line (it never replaces one of the keys above). Give ids, counts and codes, never a
phone, a name, an e-mail address, a message body or an answer: log ``contact 12``, not
whom it belongs to. The formatters also mask phone-looking numbers and e-mail addresses in
messages, fields and tracebacks (and hide SQL parameters), a net for what slips through,
not a licence: a name or a free-text answer cannot be recognised by its shape.

One line per request (logger ``engage.requests``, written when the request ends, 500s
included) replaces werkzeug's access log; gunicorn's access log should stay off. One
line per system-job run (``engage.jobs``). Probe requests (``/healthz``, ``/readyz``,
``/metrics``) are logged at DEBUG: a load balancer asks every few seconds.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

HANDLER_NAME = "engage"
REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
STANDARD_KEYS = ("time", "level", "logger", "message", "request_id", "exc", "stack")

request_log = logging.getLogger("engage.requests")
job_log = logging.getLogger("engage.jobs")

_request_id: ContextVar[str | None] = ContextVar("engage_request_id", default=None)

# -- masking ------------------------------------------------------------------------------
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d[\d\s().-]{5,20}\d"  # international: +16175550141, +1 (617) 555-0141, +44 20 7946 0958
    r"|(?:1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}"  # (617) 555-0141, 617.555.0141
    r"|\d{10,15}"  # a bare run: 6175550141, 16175550141
    r"|\d{3}[.-]\d{4}"  # a local number: 555-0141
    r")(?![\w])"
)
# SQLAlchemy puts a failed statement's bound values (phones, bodies) in its message.
SQL_PARAMETERS = re.compile(r"^\[parameters: .*$", re.MULTILINE)


def mask(text: str) -> str:
    """``text`` with e-mail addresses and phone-looking numbers replaced."""
    return PHONE.sub("[phone]", EMAIL.sub("[email]", text))


def mask_traceback(text: str) -> str:
    return mask(SQL_PARAMETERS.sub("[parameters hidden in logs]", text))


def masked_value(value: Any) -> Any:
    """A structured field fit for a log line: strings masked, long numbers taken for phones."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return "[phone]" if abs(value) >= 10**9 else value
    if isinstance(value, Mapping):
        return {str(key): masked_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [masked_value(item) for item in value]
    return mask(str(value))


# -- request and job ids ------------------------------------------------------------------
def current_request_id() -> str | None:
    """The id of the request or job run this code serves, if any."""
    return _request_id.get()


@contextmanager
def job_run() -> Iterator[str]:
    """Give every log line inside the block a fresh job-run id."""
    run_id = f"job-{uuid.uuid4().hex[:16]}"
    token = _request_id.set(run_id)
    try:
        yield run_id
    finally:
        _request_id.reset(token)


def log_job_run(job_id: str, outcome: str, seconds: float) -> None:
    """The one line of a finished system-job run (call it inside ``job_run``)."""
    duration_ms = round(seconds * 1000, 1)
    job_log.log(
        logging.INFO if outcome == "ok" else logging.ERROR,
        "job %s %s in %.0fms",
        job_id,
        outcome,
        duration_ms,
        extra={
            "fields": {
                "event": "job",
                "job": job_id,
                "outcome": outcome,
                "duration_ms": duration_ms,
            }
        },
    )


# -- formatters ---------------------------------------------------------------------------
def record_request_id(record: logging.LogRecord) -> str | None:
    given = getattr(record, "request_id", None)
    return str(given) if given is not None else current_request_id()


def record_fields(record: logging.LogRecord) -> Mapping[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, Mapping) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, masked (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
            "request_id": masked_value(record_request_id(record)),
        }
        for key, value in record_fields(record).items():
            if str(key) not in STANDARD_KEYS:
                line[str(key)] = masked_value(value)
        if record.exc_info:
            line["exc"] = mask_traceback(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = mask_traceback(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for a developer's terminal, masked like the JSON ones."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        request_id = record_request_id(record)
        where = f" [{mask(request_id)}]" if request_id else ""
        text = f"{moment} {record.levelname} {record.name}{where}: {mask(record.getMessage())}"
        if record.exc_info:
            text += "\n" + mask_traceback(self.formatException(record.exc_info))
        if record.stack_info:
            text += "\n" + mask_traceback(self.formatStack(record.stack_info))
        return text


class WithoutWerkzeugAccessLines(logging.Filter):
    """Drop the development server's access lines: the request line replaces them (and
    they carry the query string, which may hold a phone or a token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).rstrip().endswith('] "%s" %s %s')


def install_handler(log_format: str, level: str) -> None:
    """Send the "engage" logger's lines to stderr in ``log_format``, once per process.

    A host that set up logging itself (a gunicorn ``--log-config``, pytest) keeps its own
    handlers: engage's records propagate to them, and no second copy is written. Calling
    this again (another app in the same process) replaces the format, never the handler.
    """
    engage = logging.getLogger("engage")
    engage.setLevel(level)
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    ours = [handler for handler in engage.handlers if handler.get_name() == HANDLER_NAME]
    if ours:
        ours[0].setFormatter(formatter)
    elif not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(formatter)
        engage.addHandler(handler)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, WithoutWerkzeugAccessLines) for f in werkzeug.filters):
        werkzeug.addFilter(WithoutWerkzeugAccessLines())


# -- one line per request -----------------------------------------------------------------
def accepted_request_id(given: str) -> bool:
    """A caller's id is kept when it is short and plain, and looks like no phone or e-mail."""
    return bool(REQUEST_ID.match(given)) and mask(given) == given


def start_request() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if accepted_request_id(given) else uuid.uuid4().hex
    g.log_started = time.perf_counter()
    g.log_token = _request_id.set(g.request_id)
    g.pop("log_status", None)


def note_response(response: Response) -> Response:
    """Send the request id back, and keep what the request line will say of the answer."""
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    g.log_status = response.status_code
    g.log_size = response.content_length
    return response


def finish_request(error: BaseException | None) -> None:
    """Write the request line, once, whatever became of the request."""
    # ``g`` outlives a request where an app context is reused (tests, a command that
    # serves requests): take this request's values out of it.
    started = g.pop("log_started", None)
    token: Token[str | None] | None = g.pop("log_token", None)
    status = g.pop("log_status", None)
    size = g.pop("log_size", None)
    if started is None:
        return  # no request ran here (a test_request_context)
    try:
        if status is None:
            status = 500  # an exception escaped every error handler
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = request.path
        if path in PROBE_PATHS:
            level = logging.DEBUG
        else:
            level = logging.WARNING if status >= 500 else logging.INFO
        fields = {
            "event": "request",
            "method": request.method,
            "path": path,  # never the query string: it may carry a phone or a token
            "status": status,
            "duration_ms": duration_ms,
            "size": size,
            "remote_addr": request.remote_addr,
            "endpoint": request.endpoint,
            "blueprint": request.blueprint,
        }
        if error is not None:
            fields["error"] = type(error).__name__
        request_log.log(
            level,
            "%s %s %s in %.0fms",
            request.method,
            path,
            status,
            duration_ms,
            extra={"fields": fields},
        )
    finally:
        if token is not None:
            try:
                _request_id.reset(token)
            except ValueError:  # set in another context: nothing of ours to undo here
                _request_id.set(None)


def register_request_logging(app: Flask) -> None:
    """Give every request an id (first of all hooks) and one line in the log."""
    app.before_request(start_request)
    app.after_request(note_response)
    app.teardown_request(finish_request)
