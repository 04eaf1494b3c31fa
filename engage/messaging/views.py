"""Twilio's webhooks: ``POST /twilio/sms`` (inbound messages), ``POST /twilio/status``."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from engage.conversations.services import InboundSms, handle_inbound, replay, store_unhandled
from engage.db import db, unit_of_work
from engage.errors import describe_problems
from engage.messaging.schemas import InboundSmsSchema, StatusCallbackSchema
from engage.messaging.sender import (
    keep_early_status,
    record_delivery_status,
    settle_early_statuses,
)
from engage.messaging.twilio_adapter import is_trusted, twiml

bp = Blueprint("messaging", __name__, url_prefix="/twilio")
log = logging.getLogger("engage.messaging")

TWIML = "application/xml"
INBOUND_SMS = InboundSmsSchema()
STATUS_CALLBACK = StatusCallbackSchema()
SORRY = "Sorry, something went wrong on our side. Your message was kept; please try again later."


@bp.post("/sms")
def inbound_sms() -> Response:
    refused = refusal()
    if refused is not None:
        return refused
    try:
        fields = INBOUND_SMS.load(request.form)
    except ValidationError as error:
        return bad_request(error)
    sms = InboundSms(
        message_sid=fields["MessageSid"],
        from_phone=without_nul(fields["From"]),
        to_phone=fields["To"],
        body=without_nul(fields["Body"]),
        num_media=fields["NumMedia"],
        opt_out_type=fields["OptOutType"],
    )
    try:
        with unit_of_work():
            replies = handle_inbound(sms)
    except IntegrityError:
        # The same MessageSid raced in from an unknown phone: the first one won.
        db.session.rollback()
        replies = replay(sms.message_sid) or []
    except Exception:
        log.exception("could not handle inbound message %s", sms.message_sid)
        db.session.rollback()
        replies = keep_unhandled(sms)
    return Response(twiml(replies), 200, mimetype=TWIML)


@bp.post("/status")
def status_callback() -> Response:
    """Record a delivery status Twilio reports for one of our outbound messages."""
    refused = refusal()
    if refused is not None:
        return refused
    try:
        fields = STATUS_CALLBACK.load(request.form)
    except ValidationError as error:
        return bad_request(error)
    sid, status, code = fields["MessageSid"], fields["MessageStatus"], fields["ErrorCode"]
    with unit_of_work():
        update = record_delivery_status(sid, status, code)
        if update is None:
            keep_early_status(sid, status, code)
    if update is None:
        # Twilio can call back before the sender has stored the SID Twilio answered with:
        # the status waits for it (and goes with retention if no such message appears).
        with unit_of_work():
            settled = settle_early_statuses(sa.select(sa.literal(sid)))
        if not settled:
            log.info("status %r for message %s kept until the message is known", status, sid)
        return Response("", 200, mimetype="text/plain")
    return Response(status=204)


def refusal() -> Response | None:
    """A 403 for a request not signed by Twilio, or None."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if is_trusted(app, request):
        return None
    log.warning("refused an unsigned or wrongly signed request to %s", request.path)
    return Response(
        "Forbidden: missing or invalid X-Twilio-Signature\n", 403, mimetype="text/plain"
    )


def bad_request(error: ValidationError) -> Response:
    problems = "; ".join(describe_problems(error.messages))
    return Response(f"Bad Request: {problems}\n", 400, mimetype="text/plain")


def keep_unhandled(sms: InboundSms) -> list[str]:
    """Store a message whose handling failed, so it is not lost, and say sorry once."""
    with unit_of_work():
        if replay(sms.message_sid) is None:
            store_unhandled(sms)
    return [SORRY]


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL; keep a visible mark where one was."""
    return text.replace("\x00", "\ufffd")
