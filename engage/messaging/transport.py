"""Everything engage asks of the twilio library for sending: a client, one SMS, its errors.

The sender decides what to do with a failure; this module only says which kind it is:
transient (worth trying again later) or permanent (Twilio refused this message).
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

import requests
from flask import Flask
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

# Tests put their own ``twilio.http.HttpClient`` here; the real client is built around it.
HTTP_CLIENT_KEY = "engage.twilio_http_client"
# The default HTTP client, kept per app so its connection pool outlives one sender run.
_DEFAULT_HTTP_CLIENT_KEY = "engage.twilio_default_http_client"
HTTP_TIMEOUT_SECONDS = 10
STATUS_CALLBACK_PATH = "/twilio/status"


class RedirectingHttpClient(TwilioHttpClient):
    """Send Twilio API calls to another base URL: a fake Twilio on loopback, an egress proxy."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, redirect_url(url, self.base_url), *args, **kwargs)


def redirect_url(url: str, base_url: str) -> str:
    """``https://api.twilio.com/path?query`` on ``base_url`` instead; other URLs unchanged."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
        return url
    return base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def http_client_for(app: Flask) -> HttpClient:
    """The HTTP client Twilio calls go through: a test's, or one kept for this app."""
    injected = app.extensions.get(HTTP_CLIENT_KEY)
    if injected is not None:
        return injected
    api_url = app.config.get("TWILIO_API_URL") or None
    kept = app.extensions.get(_DEFAULT_HTTP_CLIENT_KEY)
    if kept is not None and kept[0] == api_url:
        return kept[1]
    if api_url:
        client = RedirectingHttpClient(str(api_url), timeout=HTTP_TIMEOUT_SECONDS)
    else:
        client = TwilioHttpClient(timeout=HTTP_TIMEOUT_SECONDS)
    app.extensions[_DEFAULT_HTTP_CLIENT_KEY] = (api_url, client)
    return client


def twilio_client(app: Flask) -> Client:
    return Client(
        app.config["TWILIO_ACCOUNT_SID"],
        app.config["TWILIO_AUTH_TOKEN"],
        http_client=http_client_for(app),
    )


class Handover(NamedTuple):
    """What Twilio answered when it took a message: its SID and Twilio's status."""

    sid: str
    status: str


class SendFailed(Exception):
    """Twilio did not take the message; ``transient`` says whether trying later may help."""

    def __init__(self, message: str, *, code: str | None, transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient


class TwilioTransport:
    """Hands one SMS at a time to Twilio's Messages API."""

    def __init__(
        self,
        client: Client,
        *,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
        status_callback: str | None = None,
    ) -> None:
        if not (messaging_service_sid or from_number):
            raise ValueError("a messaging service SID or a from number is needed")
        self.client = client
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number
        self.status_callback = status_callback

    @classmethod
    def from_app(cls, app: Flask) -> TwilioTransport:
        base_url = app.config.get("PUBLIC_BASE_URL")
        return cls(
            twilio_client(app),
            messaging_service_sid=app.config.get("TWILIO_MESSAGING_SERVICE_SID"),
            from_number=app.config.get("TWILIO_FROM_NUMBER"),
            status_callback=(base_url + STATUS_CALLBACK_PATH) if base_url else None,
        )

    def send(self, to: str, body: str) -> Handover:
        """Hand one SMS to Twilio; raise SendFailed when it was not taken."""
        arguments: dict[str, Any] = {"to": to, "body": body}
        if self.messaging_service_sid:
            arguments["messaging_service_sid"] = self.messaging_service_sid
        else:
            arguments["from_"] = self.from_number
        if self.status_callback:
            arguments["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(**arguments)
        except Exception as error:
            raise classify(error) from error
        if not message.sid:
            raise SendFailed("Twilio answered without a message SID", code=None, transient=True)
        return Handover(sid=str(message.sid), status=str(message.status or "queued"))


def send_sms(app: Flask, to: str, body: str) -> Handover:
    """Hand one SMS to Twilio with the app's settings: (sid, twilio_status), or SendFailed."""
    return TwilioTransport.from_app(app).send(to, body)


def classify(error: BaseException) -> SendFailed:
    """Say whether a failed hand-over is worth trying again, with Twilio's code and text."""
    if isinstance(error, SendFailed):
        return error
    if isinstance(error, TwilioRestException | TwilioServiceException):
        status = int(error.status)
        code = str(error.code) if error.code is not None else str(status)
        if isinstance(error, TwilioServiceException):
            text = error.detail or error.title
        else:
            text = str(error.msg).removeprefix("Unable to create record: ")
        transient = status == 429 or status >= 500
        return SendFailed(f"HTTP {status}: {text}", code=code, transient=transient)
    if isinstance(error, requests.exceptions.Timeout | TimeoutError):
        return SendFailed(f"timed out: {error}", code=None, transient=True)
    if isinstance(error, requests.exceptions.ConnectionError | ConnectionError):
        return SendFailed(f"connection error: {error}", code=None, transient=True)
    # Anything else (a garbled answer, a library error): retry, and give up after the
    # last attempt like any other transient failure.
    return SendFailed(f"{type(error).__name__}: {error}", code=None, transient=True)
