"""New alerts reach the center by a signed webhook and/or e-mail, after the alert is committed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from engage.alerts.models import Alert
from engage.alerts.notices import SIGNATURE_HEADER, TIMESTAMP_HEADER, notify_new_alerts, sign
from engage.config import ConfigurationError, build_settings
from engage.demo.seed import seed_demo

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def alert(session: Any, raise_alert: Any) -> Alert:
    seed_demo()
    return raise_alert()


def configure(app: Any, **values: Any) -> None:
    app.config.update(values)


@pytest.fixture(autouse=True)
def clean_config(app: Any) -> Iterator[None]:
    keys = ("ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET", "ALERT_EMAIL_TO", "ALERT_EMAIL_FROM",
            "SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS")  # fmt: skip
    saved = {key: app.config.get(key) for key in keys}
    yield
    app.config.update(saved)


def test_nothing_is_sent_when_nothing_is_configured(app, alert, session):
    assert notify_new_alerts() == 0
    session.refresh(alert)
    assert alert.notified_at is None and alert.notify_attempts == 0


def test_the_webhook_gets_a_signed_notice_once(app, alert, session, webhook):
    configure(app, ALERT_WEBHOOK_URL=webhook.url, ALERT_WEBHOOK_SECRET=SECRET)
    assert notify_new_alerts() == 1
    [(headers, body)] = webhook.received
    assert headers[SIGNATURE_HEADER] == sign(SECRET, headers[TIMESTAMP_HEADER], body)
    payload = json.loads(body)
    assert payload["event"] == "alert.created" and payload["severity"] == "urgent"
    assert payload["center"] == "EAST" and payload["patient"]["mrn"] == "E-1002"
    assert payload["link"].endswith(f"/review/patients/{alert.patient_id}")
    assert notify_new_alerts() == 0  # told once
    session.refresh(alert)
    assert alert.notified_at is not None


def test_a_failing_webhook_is_retried_on_the_next_run(app, alert, session, webhook):
    configure(app, ALERT_WEBHOOK_URL=webhook.url, ALERT_WEBHOOK_SECRET=SECRET)
    webhook.answers = [500]
    assert notify_new_alerts() == 0
    session.refresh(alert)
    assert alert.notified_at is None and alert.notify_attempts == 1
    assert "HTTP 500" in alert.notify_error
    assert notify_new_alerts() == 1
    assert len(webhook.received) == 2


def test_the_e_mail_names_no_patient(app, alert, session, smtp):
    inbox, port = smtp
    configure(app, ALERT_EMAIL_TO="ibd-team@east.example.org", ALERT_EMAIL_FROM="engage@example.org",
              SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False)  # fmt: skip
    assert notify_new_alerts() == 1
    [envelope] = inbox.messages
    text = envelope.content.decode()
    assert envelope.rcpt_tos == ["ibd-team@east.example.org"]
    assert "new urgent alert at EAST" in text
    assert "Noah" not in text and "E-1002" not in text


def test_notice_settings_are_checked_at_start(tmp_path):
    with pytest.raises(ConfigurationError, match="ALERT_WEBHOOK_SECRET"):
        build_settings(
            {"ENGAGE_ENV": "development", "ALERT_WEBHOOK_URL": "https://hooks.example.org/x"},
            str(tmp_path),
            environ={},
        )
    with pytest.raises(ConfigurationError, match="SMTP_HOST"):
        build_settings(
            {"ENGAGE_ENV": "development", "ALERT_EMAIL_TO": "team@example.org",
             "ALERT_EMAIL_FROM": "engage@example.org"},
            str(tmp_path),
            environ={},
        )  # fmt: skip
