"""The scheduler process's own small HTTP server: ``/metrics``, ``/readyz`` and ``/healthz``.

A scheduler process serves no pages; this lets Prometheus and an orchestrator watch it
the same way they watch the web processes (same access rules for ``/metrics``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from flask import Flask, Response, request

from engage.config import ConfigurationError
from engage.health.views import healthz, readiness_response
from engage.monitoring.metrics import metrics_response

log = logging.getLogger("engage.monitoring")

ROUTES: dict[str, Callable[[], Any]] = {
    "/metrics": metrics_response,
    "/readyz": readiness_response,
    "/healthz": healthz,
}


def scheduler_http_app(app: Flask) -> Callable[..., Iterable[bytes]]:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with app.request_context(environ):
            view = ROUTES.get(request.path)
            if view is None or request.method not in ("GET", "HEAD"):
                response = Response("not found: try /metrics, /readyz or /healthz\n", 404)
            else:
                response = app.make_response(view())
            return response(environ, start_response)

    return application


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would drown the log: say nothing per request."""


def start_scheduler_http(app: Flask, address: tuple[str, int]) -> WSGIServer:
    """Serve on ``address`` from a daemon thread; a taken address stops start-up clearly."""
    host, port = address
    try:
        server = make_server(
            host,
            port,
            scheduler_http_app(app),
            server_class=ThreadingServer,
            handler_class=QuietHandler,
        )
    except OSError as error:
        raise ConfigurationError(
            f"SCHEDULER_HTTP_ADDRESS {host}:{port} cannot be used ({error.strerror}): "
            "choose a free port for each scheduler process on a host"
        ) from None
    thread = threading.Thread(target=server.serve_forever, name="scheduler-http", daemon=True)
    thread.start()
    log.info("scheduler metrics and readiness on http://%s:%s", host, server.server_port)
    return server
