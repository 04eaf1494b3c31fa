"""``/metrics`` in Prometheus text format, and who may read it.

Two kinds of figure:
- **from the database** (messages, delivery failures, check-ins, the outbox, open alerts): the
  same on every host, computed when scraped and cached for a few seconds, so scrape one host
  or take ``max()`` across hosts;
- **from this process** (webhook latency, job runs): each web and scheduler process counts
  its own. Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (``gunicorn.conf.py`` does) so
  every worker's figures add up in one scrape.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram
from prometheus_client import generate_latest as render_exposition
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from engage.alerts.models import Alert, AlertStatus
from engage.conversations.models import CheckIn, CheckInStatus
from engage.db import db, utcnow
from engage.messaging.models import Direction, Message, MessageStatus

WEBHOOK_DURATION = Histogram(
    "engage_webhook_duration_seconds",
    "Time to answer Twilio's webhooks in this process, by endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Figures from the database are computed at most this often per process.
DATABASE_FIGURES_SECONDS = 10.0
# Messages and check-ins are counted over recent windows, through indexes on their times:
# counting every row ever stored would cost seconds per scrape on a network's history.
MESSAGES_WINDOW = timedelta(hours=24)
CHECKINS_WINDOW = timedelta(days=7)
FAILED_STATUSES = (MessageStatus.FAILED, MessageStatus.UNDELIVERED)


@dataclass
class DatabaseFigures:
    messages: dict[tuple[str, str], int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    checkins: dict[str, int] = field(default_factory=dict)
    outbox_due: int = 0
    outbox_deferred: int = 0
    outbox_in_flight: int = 0
    outbox_oldest_due_seconds: float = 0.0
    alerts_open: int = 0
    alerts_oldest_open_seconds: float = 0.0


def read_database_figures() -> DatabaseFigures:
    """Count what the database holds now; a handful of grouped queries over indexed columns."""
    now = utcnow()
    session = db.session
    figures = DatabaseFigures()
    recent = Message.created_at >= now - MESSAGES_WINDOW
    for direction, status, number in session.execute(
        sa.select(Message.direction, Message.status, sa.func.count())
        .where(recent)
        .group_by(Message.direction, Message.status)
    ):
        figures.messages[(str(direction), str(status))] = number
    for code, number in session.execute(
        sa.select(Message.error_code, sa.func.count())
        .where(recent, Message.status.in_(FAILED_STATUSES))
        .group_by(Message.error_code)
    ):
        figures.failures[code or "none"] = number
    for checkin_status, number in session.execute(
        sa.select(CheckIn.status, sa.func.count())
        .where(CheckIn.due_at >= now - CHECKINS_WINDOW)
        .group_by(CheckIn.status)
    ):
        figures.checkins[str(checkin_status)] = number

    becomes_due = sa.func.coalesce(Message.next_attempt_at, Message.created_at)
    queued = Message.status == MessageStatus.QUEUED
    is_due = becomes_due <= now
    figures.outbox_due, figures.outbox_deferred, oldest_due = session.execute(
        sa.select(
            sa.func.count().filter(is_due),
            sa.func.count().filter(sa.not_(is_due)),
            sa.func.min(becomes_due).filter(is_due),
        ).where(queued)
    ).one()
    figures.outbox_in_flight = session.execute(
        sa.select(sa.func.count()).where(Message.status == MessageStatus.SUBMITTING)
    ).scalar_one()
    if oldest_due is not None:
        figures.outbox_oldest_due_seconds = max(0.0, (now - oldest_due).total_seconds())

    figures.alerts_open, oldest_alert = session.execute(
        sa.select(sa.func.count(), sa.func.min(Alert.created_at)).where(
            Alert.status == AlertStatus.OPEN
        )
    ).one()
    if oldest_alert is not None:
        figures.alerts_oldest_open_seconds = max(0.0, (now - oldest_alert).total_seconds())
    return figures


class DatabaseCollector(Collector):
    """Prometheus families from the database figures (read in an app context)."""

    def __init__(self, figures: DatabaseFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        f = self.figures
        messages = GaugeMetricFamily(
            "engage_messages_last_24h",
            "Messages stored in the last 24 hours, inbound and outbound, by current status.",
            labels=["direction", "status"],
        )
        for direction in Direction:
            for status in MessageStatus:
                number = f.messages.get((str(direction), str(status)))
                if number is not None or direction == Direction.OUTBOUND:
                    messages.add_metric([str(direction), str(status)], number or 0)
        yield messages

        failures = GaugeMetricFamily(
            "engage_message_failures_last_24h",
            "Outbound messages of the last 24 hours that failed or were undelivered, by "
            "Twilio error code.",
            labels=["error_code"],
        )
        for code, number in sorted(f.failures.items()):
            failures.add_metric([code], number)
        yield failures

        checkins = GaugeMetricFamily(
            "engage_checkins_last_7d",
            "Check-ins due in the last 7 days by status: sent and in_progress are open; "
            "completed, expired (some answers) and missed (none) are closed.",
            labels=["status"],
        )
        for checkin_status in CheckInStatus:
            checkins.add_metric([str(checkin_status)], f.checkins.get(str(checkin_status), 0))
        yield checkins

        outbox = GaugeMetricFamily(
            "engage_outbox_depth",
            "Outbound messages waiting to be handed to Twilio: due now, deferred (quiet "
            "hours, retry back-off, a pause) or in flight (a sender holds them).",
            labels=["state"],
        )
        outbox.add_metric(["due"], f.outbox_due)
        outbox.add_metric(["deferred"], f.outbox_deferred)
        outbox.add_metric(["in_flight"], f.outbox_in_flight)
        yield outbox
        yield GaugeMetricFamily(
            "engage_outbox_oldest_due_age_seconds",
            "How long the oldest due message has waited for a sender (0 when none waits).",
            value=f.outbox_oldest_due_seconds,
        )
        yield GaugeMetricFamily(
            "engage_alerts_open",
            "Red-flag alerts no one has acknowledged yet.",
            value=f.alerts_open,
        )
        yield GaugeMetricFamily(
            "engage_alerts_oldest_open_age_seconds",
            "Age of the oldest unacknowledged red-flag alert (0 when none is open).",
            value=f.alerts_oldest_open_seconds,
        )


class ProcessCollector(Collector):
    """This process's own metrics (job runs, webhook latency, CPU and memory)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


_cache_lock = threading.Lock()
FIGURES_KEY = "engage.metrics_figures"


def cached_database_figures(app: Flask) -> DatabaseFigures:
    with _cache_lock:
        hit = app.extensions.get(FIGURES_KEY)
        if hit is not None and time.monotonic() - hit[0] < DATABASE_FIGURES_SECONDS:
            return hit[1]
    figures = read_database_figures()
    with _cache_lock:
        app.extensions[FIGURES_KEY] = (time.monotonic(), figures)
    return figures


def render_metrics() -> bytes:
    """The exposition text for this process and the database it uses."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(ProcessCollector())
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    registry.register(DatabaseCollector(cached_database_figures(app)))
    return bytes(render_exposition(registry))


def metrics_access_refusal() -> str | None:
    """Why this request may not read /metrics, or None when it may."""
    config = current_app.config
    token = config.get("METRICS_TOKEN")
    networks = config.get("METRICS_ALLOWED_NETWORKS") or []
    if token:
        given = request.headers.get("Authorization", "")
        if given.lower().startswith("bearer ") and hmac.compare_digest(
            given[7:].strip().encode(), token.encode()
        ):
            return None
    address = parse_address(request.remote_addr)
    if address is not None and any(address in network for network in networks):
        return None
    if not token and not networks:
        if config["ENGAGE_ENV"] == "development" and address is not None and address.is_loopback:
            return None
        return "metrics are closed: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS"
    return "a valid METRICS_TOKEN bearer token or an address in METRICS_ALLOWED_NETWORKS is needed"


def parse_address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value or "")
    except ValueError:
        return None


def metrics_response() -> Response:
    refusal = metrics_access_refusal()
    if refusal is not None:
        return Response(refusal + "\n", status=403, mimetype="text/plain")
    return Response(render_metrics(), mimetype=CONTENT_TYPE_LATEST)


def start_webhook_timer() -> None:
    if request.blueprint == "messaging":
        g.webhook_started = time.perf_counter()


def observe_webhook(response: Response) -> Response:
    started = g.pop("webhook_started", None)
    if started is not None:
        endpoint = (request.endpoint or "unknown").rpartition(".")[2]
        WEBHOOK_DURATION.labels(endpoint=endpoint).observe(time.perf_counter() - started)
    return response


def register_metrics(app: Flask) -> None:
    app.before_request(start_webhook_timer)
    app.after_request(observe_webhook)
    app.add_url_rule("/metrics", "metrics", metrics_response)
