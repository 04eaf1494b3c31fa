"""/metrics: who may read it, and that its figures follow what the database holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from ipaddress import ip_network
from typing import Any

import pytest

from engage.alerts.models import Alert
from engage.conversations.models import CheckInStatus
from engage.conversations.services import open_checkin
from engage.db import utcnow
from engage.instruments.services import get_instrument
from engage.messaging.models import Direction, Message, MessageStatus
from engage.monitoring.metrics import FIGURES_KEY
from tests.conftest import consenting_phone, make_test_app
from tests.metric_samples import Samples, parse_samples, sample_value

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def metrics(app, client, monkeypatch) -> Callable[..., Samples]:
    """Read /metrics with the token (fresh figures each time) as {(sample, labels): value}."""
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)

    def read(**headers: str) -> Samples:
        app.extensions.pop(FIGURES_KEY, None)
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", **headers})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.content_type.startswith("text/plain; version=")
        return parse_samples(response.get_data(as_text=True))

    return read


def test_metrics_are_closed_in_production_until_a_token_or_network_is_set(client):
    response = client.get("/metrics")
    assert response.status_code == 403
    assert "set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS" in response.get_data(as_text=True)


def test_a_wrong_token_is_refused_and_the_right_one_accepted(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 403
    assert client.get("/metrics").status_code == 403
    right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200
    assert b"engage_outbox_depth" in right.data


def test_an_allowed_network_reads_without_a_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOWED_NETWORKS", [ip_network("10.0.0.0/8")])
    inside = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"})
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert (inside.status_code, outside.status_code) == (200, 403)


def test_behind_a_trusted_proxy_the_forwarded_client_address_decides(tmp_path):
    app = make_test_app(
        f"sqlite:///{tmp_path / 'proxied.sqlite3'}",
        TRUSTED_PROXIES="1",
        METRICS_ALLOWED_NETWORKS="10.0.0.0/8",
    )
    client = app.test_client()
    # The proxy itself sits at 10.0.0.2; what counts is the client it forwards for.
    from_outside = client.get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
    )
    assert from_outside.status_code == 403
    untrusting = make_test_app(
        f"sqlite:///{tmp_path / 'direct.sqlite3'}", METRICS_ALLOWED_NETWORKS="10.0.0.0/8"
    )
    # Without TRUSTED_PROXIES a forged X-Forwarded-For changes nothing either way.
    forged = untrusting.test_client().get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
        headers={"X-Forwarded-For": "10.0.0.5"},
    )
    assert forged.status_code == 403


def test_development_lets_this_machine_read_metrics_without_settings(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'dev.sqlite3'}", ENGAGE_ENV="development")
    client = app.test_client()
    assert client.get("/metrics").status_code != 403  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 403


@pytest.fixture
def family(make_patient, session):
    patient = make_patient(given_name="Noor")
    contact = consenting_phone(patient, "+16175550177")
    session.flush()
    session.expire(patient)
    return patient, contact


def test_figures_follow_messages_check_ins_the_outbox_and_alerts(family, session, metrics):
    patient, contact = family
    before = metrics()
    now = utcnow()

    checkin = open_checkin(patient, get_instrument("ibd-symptoms"), now=now - timedelta(minutes=30))
    # The opening messages have waited half an hour; one more waits for quiet hours to end.
    for message in session.query(Message).filter_by(checkin_id=checkin.id):
        message.created_at = now - timedelta(minutes=30)
    session.add_all(
        [
            Message(
                direction=Direction.OUTBOUND,
                status=MessageStatus.QUEUED,
                phone=contact.phone,
                body="deferred",
                next_attempt_at=now + timedelta(hours=8),
            ),
            Message(
                direction=Direction.OUTBOUND,
                status=MessageStatus.UNDELIVERED,
                phone=contact.phone,
                body="bounced",
                error_code="30006",
            ),
            Message(
                direction=Direction.INBOUND,
                status=MessageStatus.RECEIVED,
                phone=contact.phone,
                body="hello",
            ),
        ]
    )
    session.add(
        Alert(
            patient_id=patient.id,
            checkin_id=checkin.id,
            red_flag_id="blood_and_pain",
            severity="urgent",
            safety_message="Please call the clinic today.",
            created_at=now - timedelta(hours=2),
        )
    )
    session.commit()
    after = metrics()

    def grew(name: str, **labels: Any) -> float:
        return sample_value(after, name, **labels) - sample_value(before, name, **labels)

    assert grew("engage_outbox_depth", state="due") == 2
    assert grew("engage_outbox_depth", state="deferred") == 1
    assert sample_value(after, "engage_outbox_oldest_due_age_seconds") >= 30 * 60
    assert grew("engage_messages_last_24h", direction="outbound", status="queued") == 3
    assert grew("engage_messages_last_24h", direction="outbound", status="undelivered") == 1
    assert grew("engage_messages_last_24h", direction="inbound", status="received") == 1
    assert grew("engage_message_failures_last_24h", error_code="30006") == 1
    assert grew("engage_checkins_last_7d", status=str(CheckInStatus.SENT)) == 1
    assert grew("engage_alerts_open") == 1
    assert sample_value(after, "engage_alerts_oldest_open_age_seconds") >= 2 * 3600 - 60


def test_webhook_latency_is_observed_per_endpoint(sms, metrics):
    before = sample_value(
        metrics(), "engage_webhook_duration_seconds_count", endpoint="inbound_sms"
    )
    sms("HELP")
    sms("HELP")
    after = sample_value(metrics(), "engage_webhook_duration_seconds_count", endpoint="inbound_sms")
    assert after - before == 2


def test_figures_are_cached_for_a_few_seconds(app, client, family, session, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    app.extensions.pop(FIGURES_KEY, None)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    first = client.get("/metrics", headers=headers).get_data(as_text=True)
    open_checkin(family[0], get_instrument("ibd-symptoms"))
    session.commit()
    second = client.get("/metrics", headers=headers).get_data(as_text=True)
    depth = [line for line in first.splitlines() if line.startswith("engage_outbox_depth{")]
    assert depth == [
        line for line in second.splitlines() if line.startswith("engage_outbox_depth{")
    ]


def test_messages_and_check_ins_are_counted_over_recent_windows(family, session, metrics):
    """A day of messages and a week of check-ins: counting all history would cost seconds."""
    patient, contact = family
    now = utcnow()
    before = metrics()
    for age in (timedelta(hours=23), timedelta(hours=25)):
        session.add(
            Message(
                direction=Direction.OUTBOUND,
                status=MessageStatus.UNDELIVERED,
                phone=contact.phone,
                body="x",
                error_code="30003",
                created_at=now - age,
            )
        )
    for age in (timedelta(days=6), timedelta(days=8)):
        checkin = open_checkin(patient, get_instrument("ibd-symptoms"), now=now - age)
        checkin.status = CheckInStatus.MISSED
        session.flush()
    session.commit()
    after = metrics()

    def grew(name: str, **labels: Any) -> float:
        return sample_value(after, name, **labels) - sample_value(before, name, **labels)

    assert grew("engage_messages_last_24h", direction="outbound", status="undelivered") == 1
    assert grew("engage_message_failures_last_24h", error_code="30003") == 1
    assert grew("engage_checkins_last_7d", status="missed") == 1
