"""Telling a center about a new alert: a signed JSON webhook and/or an e-mail.

Both are optional (ALERT_WEBHOOK_URL, ALERT_EMAIL_TO). A scheduler job sends them
after the alert is committed, so answering a family's text never waits on a
center's server. The webhook body names the patient (it goes to the center's own
system, signed with HMAC-SHA256 over ``timestamp.body``); the e-mail names no
patient: it says a new alert is waiting and links to the sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app

from engage.alerts.models import Alert
from engage.db import db, unit_of_work, utcnow
from engage.network.models import Center
from engage.people.models import Patient

log = logging.getLogger("engage.alerts")

MAX_ATTEMPTS = 10
NOTICE_WINDOW = timedelta(days=2)  # older alerts are not announced late
SIGNATURE_HEADER = "X-Engage-Signature"
TIMESTAMP_HEADER = "X-Engage-Timestamp"


class NoticeFailed(Exception):
    pass


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def notify_new_alerts(now: datetime | None = None, batch_size: int = 20) -> int:
    """Announce alerts not yet announced; returns how many were. Commits per alert."""
    config = current_app.config
    if not config.get("ALERT_WEBHOOK_URL") and not config.get("ALERT_EMAIL_TO"):
        return 0
    now = now or utcnow()
    told = 0
    with unit_of_work():
        rows = db.session.execute(
            sa.select(Alert, Patient, Center)
            .join(Patient, Patient.id == Alert.patient_id)
            .join(Center, Center.id == Patient.center_id)
            .where(
                Alert.notified_at.is_(None),
                Alert.notify_attempts < MAX_ATTEMPTS,
                Alert.created_at > now - NOTICE_WINDOW,
            )
            .order_by(Alert.created_at)
            .limit(batch_size)
            .with_for_update(of=Alert, skip_locked=True)
        ).all()
        for alert, patient, center in rows:
            alert.notify_attempts += 1
            try:
                send_notice(alert, patient, center)
            except NoticeFailed as failure:
                alert.notify_error = str(failure)[:500]
                log.warning("alert %s: notice failed (%s)", alert.id, failure)
            else:
                alert.notified_at, alert.notify_error = now, None
                told += 1
    return told


def send_notice(alert: Alert, patient: Patient, center: Center) -> None:
    config = current_app.config
    base = config.get("PUBLIC_BASE_URL") or ""
    link = f"{base}/review/patients/{patient.id}"
    if config.get("ALERT_WEBHOOK_URL"):
        post_webhook(
            config["ALERT_WEBHOOK_URL"],
            config["ALERT_WEBHOOK_SECRET"],
            {
                "event": "alert.created",
                "alert_id": alert.id,
                "severity": alert.severity.value,
                "red_flag": alert.red_flag_id,
                "center": center.code,
                "patient": {"id": patient.id, "mrn": patient.mrn},
                "created_at": alert.created_at.isoformat(),
                "link": link,
            },
        )
    if config.get("ALERT_EMAIL_TO"):
        send_email(
            subject=f"engage: new {alert.severity.value} alert at {center.code}",
            text=(
                f"A new {alert.severity.value} alert is waiting at {center.name}.\n"
                f"Sign in to engage to see it: {base}/review/alerts\n"
            ),
        )


def post_webhook(url: str, secret: str, payload: dict[str, object]) -> None:
    body = json.dumps(payload, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            if not 200 <= response.status < 300:
                raise NoticeFailed(f"webhook answered HTTP {response.status}")
    except urllib.error.HTTPError as error:
        raise NoticeFailed(f"webhook answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise NoticeFailed(f"webhook unreachable: {error}") from None


def send_email(subject: str, text: str, prefix: str = "ALERT") -> None:
    """E-mail to ``{prefix}_EMAIL_TO`` from ``{prefix}_EMAIL_FROM`` over the SMTP settings."""
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config[f"{prefix}_EMAIL_FROM"]
    message["To"] = config[f"{prefix}_EMAIL_TO"]
    message.set_content(text)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise NoticeFailed(f"e-mail not sent: {error}") from None
