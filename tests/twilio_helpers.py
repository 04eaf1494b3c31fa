"""Requests signed as Twilio signs them, and TwiML read back, with the twilio library itself."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

SERVICE_PHONE = "+16175550199"


def signed_headers(app: Flask, path: str, params: dict[str, str]) -> dict[str, str]:
    url = app.config["PUBLIC_BASE_URL"] + path
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    return {"X-Twilio-Signature": signature}


def sms_params(body: str, from_: str, sid: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": from_,
        "To": SERVICE_PHONE,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        **extra,
    }


def send_signed_sms(
    client: FlaskClient, app: Flask, *, body: str, from_: str, sid: str, **extra: str
) -> Any:
    params = sms_params(body, from_, sid, **extra)
    return client.post(
        "/twilio/sms", data=params, headers=signed_headers(app, "/twilio/sms", params)
    )


def replies(response: Any) -> list[str]:
    """The texts of a TwiML answer."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    return [element.text or "" for element in root.iter("Message")]
