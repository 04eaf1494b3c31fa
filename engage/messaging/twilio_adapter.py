"""Everything engage asks of the twilio library for webhooks: signatures and TwiML."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable

from flask import Flask, Request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

log = logging.getLogger("engage.messaging")


def signed_url(app: Flask, request: Request) -> str:
    """The URL Twilio signed: the public address, not what a TLS-terminating proxy forwards."""
    base = app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base + request.path + (f"?{query}" if query else "")


def is_trusted(app: Flask, request: Request) -> bool:
    """A valid Twilio signature; without an auth token (development) only loopback is trusted."""
    token = app.config.get("TWILIO_AUTH_TOKEN")
    if not token:
        if not app.extensions.get("engage.unsigned_webhook_warned"):
            app.extensions["engage.unsigned_webhook_warned"] = True
            log.warning(
                "TWILIO_AUTH_TOKEN is not set: webhook signatures are not checked and "
                "only requests from this machine (loopback) are accepted"
            )
        return is_loopback(request.remote_addr)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    url = signed_url(app, request)
    # While the auth token is being rotated, Twilio may still sign with the previous one.
    tokens = [token, *app.config.get("TWILIO_AUTH_TOKEN_FALLBACKS", ())]
    return any(
        RequestValidator(candidate).validate(url, request.form, signature, algorithm)
        for candidate in tokens
    )


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def twiml(replies: Iterable[str]) -> str:
    response = MessagingResponse()
    for text in replies:
        response.message(text)
    return str(response)
