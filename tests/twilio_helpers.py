"""Requests signed as Twilio signs them, and TwiML read back, with the twilio library itself."""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections import defaultdict, deque
from typing import Any, NamedTuple
from xml.etree import ElementTree

from flask import Flask
from flask.testing import FlaskClient
from twilio.http import HttpClient
from twilio.http.response import Response
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


# -- the REST side: the real twilio Client over a scripted HTTP client ---------------------
ACCOUNT_SID = "AC" + "1" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


class RecordedRequest(NamedTuple):
    method: str
    url: str
    data: dict[str, Any]
    auth: tuple[str, str] | None


class StubHttpClient(HttpClient):
    """A ``twilio.http.HttpClient`` that records each request and answers from a script.

    Answers are queued per recipient (``To``): a ``twilio.http.response.Response`` or an
    exception to raise. With nothing queued, Twilio accepts the message (201).
    """

    def __init__(self) -> None:
        super().__init__(logging.getLogger("tests.twilio"), is_async=False, timeout=None)
        self.requests: list[RecordedRequest] = []
        self.answers: defaultdict[str, deque[Response | BaseException]] = defaultdict(deque)
        self.lock = threading.Lock()
        self.counter = itertools.count(1)

    def script(self, to: str, *answers: Response | BaseException) -> None:
        self.answers[to].extend(answers)

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        form = dict(data or {})
        with self.lock:
            self.requests.append(RecordedRequest(method, uri, form, auth))
            queued = self.answers.get(str(form.get("To")))
            answer = queued.popleft() if queued else None
            number = next(self.counter)
        if isinstance(answer, BaseException):
            raise answer
        return answer or accepted(f"SM{number:032x}", form)

    def sent_to(self) -> list[str]:
        return [str(request.data["To"]) for request in self.requests]


def accepted(sid: str, form: dict[str, Any] | None = None, status: str = "queued") -> Response:
    """Twilio's 201 answer with a Message resource."""
    form = form or {}
    resource = {
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "status": status,
        "to": form.get("To"),
        "body": form.get("Body"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "from": form.get("From"),
        "direction": "outbound-api",
        "num_segments": "1",
        "api_version": "2010-04-01",
    }
    return Response(201, json.dumps(resource))


def twilio_error(status: int, code: int, message: str = "error") -> Response:
    """Twilio's error answer, as its API sends it."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(status, json.dumps(body))


# -- status callbacks ------------------------------------------------------------------
def status_params(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": "+16175550102",
        "From": SERVICE_PHONE,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        params["ErrorCode"] = error_code
    return params


def send_signed_status(
    client: FlaskClient, app: Flask, sid: str, status: str, error_code: str | None = None
) -> Any:
    params = status_params(sid, status, error_code)
    return client.post(
        "/twilio/status", data=params, headers=signed_headers(app, "/twilio/status", params)
    )
