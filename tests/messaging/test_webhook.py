"""Only Twilio may post to the webhook; bad requests get clear answers; nothing unsigned is stored."""

import logging

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from engage.messaging.models import Message
from tests.conftest import make_test_app
from tests.twilio_helpers import replies, signed_headers, sms_params


def count_messages(session):
    return session.scalar(sa.select(sa.func.count()).select_from(Message))


def test_a_missing_signature_is_refused_and_nothing_is_stored(client, session):
    params = sms_params("2", "+16175550102", "SM-unsigned")
    response = client.post("/twilio/sms", data=params)
    assert response.status_code == 403
    assert count_messages(session) == 0


def test_a_wrong_signature_is_refused(client, app, session):
    params = sms_params("2", "+16175550102", "SM-forged")
    headers = signed_headers(app, "/twilio/sms", params)
    params["Body"] = "STOP"  # tampered after signing
    response = client.post("/twilio/sms", data=params, headers=headers)
    assert response.status_code == 403
    assert count_messages(session) == 0


def test_the_signature_covers_the_public_url_not_the_proxied_one(client, app, session):
    params = sms_params("hello", "+16175550188", "SM-url")
    wrong_url = "http://localhost/twilio/sms"  # what the app sees behind a TLS proxy
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
        wrong_url, params
    )
    assert (
        client.post(
            "/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
        ).status_code
        == 403
    )
    good = signed_headers(app, "/twilio/sms", params)  # https://engage.test/twilio/sms
    assert client.post("/twilio/sms", data=params, headers=good).status_code == 200


def test_a_sha256_shared_key_signature_is_accepted(client, app):
    params = sms_params("hello", "+16175550188", "SM-sha256")
    url = app.config["PUBLIC_BASE_URL"] + "/twilio/sms"
    validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
    headers = {
        "X-Twilio-Signature": validator.compute_signature(url, params, "HMAC_SHA256"),
        "X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_x,algorithm=HMAC_SHA256",
    }
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("MessageSid", "MessageSid: Missing data for required field."),
        ("From", "From: Missing data"),
    ],
)
def test_a_signed_request_without_required_fields_is_a_clear_400(client, app, drop, message):
    params = sms_params("2", "+16175550102", "SM-partial")
    del params[drop]
    response = client.post(
        "/twilio/sms", data=params, headers=signed_headers(app, "/twilio/sms", params)
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_replies_are_twiml(sms):
    response = sms("hello", from_="+16175550188")
    assert response.mimetype == "application/xml"
    assert response.get_data(as_text=True).startswith(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
    )


def test_without_an_auth_token_only_loopback_is_accepted(tmp_path, caplog):
    import flask_migrate

    from engage.db import db

    app = make_test_app(
        f"sqlite:///{tmp_path}/dev.sqlite3",
        TWILIO_ACCOUNT_SID=None,
        TWILIO_AUTH_TOKEN=None,
        TWILIO_MESSAGING_SERVICE_SID=None,
        PUBLIC_BASE_URL=None,
        SMS_TRANSPORT="outbox",
    )
    with app.app_context():
        flask_migrate.upgrade()
    client = app.test_client()
    params = sms_params("hello", "+16175550188", "SM-dev-1")
    with caplog.at_level(logging.WARNING, logger="engage.messaging"):
        local = client.post("/twilio/sms", data=params, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert local.status_code == 200
    assert "only requests from this machine (loopback) are accepted" in caplog.text
    params["MessageSid"] = "SM-dev-2"
    remote = client.post("/twilio/sms", data=params, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 2
        db.engine.dispose()


def test_get_is_not_allowed(client):
    assert client.get("/twilio/sms").status_code == 405


def test_replies_helper_reads_what_was_sent(sms):
    assert replies(sms("hello", from_="+16175550188"))


def test_a_failure_inside_the_step_keeps_the_message_and_says_sorry(sms, session, monkeypatch):
    import engage.messaging.views as views

    def broken(_sms):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "handle_inbound", broken)
    response = sms("2", from_="+16175550102", sid="SM-broken")
    assert replies(response) == [views.SORRY]
    stored = session.scalar(sa.select(Message).where(Message.twilio_sid == "SM-broken"))
    assert stored is not None and stored.body == "2"
