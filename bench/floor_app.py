"""The floor for bench/webhook.py: a reply's database work alone, in a bare Flask endpoint.

It checks the signature with the twilio library, runs the three statements engage's
reply runs on PostgreSQL (``engage.conversations.postgres``: lock the phone, read its
open check-ins, store both messages, the answer and the new state) and commits, then
answers with TwiML. Nothing else: no conversation engine, no ORM session, no request
log, no metrics. Whatever engage does on top can only be slower, so this bounds the
ratio any implementation of the full step can reach on the machine that runs it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import psycopg
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from engage.conversations import postgres

app = Flask(__name__)
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
SIGNED_URL = os.environ["PUBLIC_BASE_URL"] + "/twilio/sms"
QUESTION = "Question 2: how is it today?"
connection: psycopg.Connection[Any] | None = None  # one per worker process (sync workers)


@app.post("/twilio/sms")
def sms() -> Response:
    global connection
    if connection is None:
        connection = psycopg.connect(os.environ["DATABASE_URL"])
    form = request.form
    if not validator.validate(SIGNED_URL, form, request.headers.get("X-Twilio-Signature", "")):
        return Response("Forbidden\n", 403, mimetype="text/plain")
    phone, sid = form["From"], form["MessageSid"]
    locked = postgres.lock_phone(connection, phone, sid)
    assert locked is not None, "the benchmark only sends from known phones"
    contact_id = locked[0]
    checkin = postgres.open_checkins(connection, contact_id)[0]
    state = checkin[4]
    answered = len(state.get("answers", {})) + 1
    state = {**state, "answers": {**state.get("answers", {}), f"q{answered}": 5}}
    postgres.write_answer(
        connection,
        sid=sid,
        phone=phone,
        service_phone=form["To"],
        body=form["Body"],
        num_media=0,
        contact_id=contact_id,
        checkin_id=checkin[0],
        item_id=f"q{answered}",
        answer_status="answered",
        value=5,
        role=checkin[7],
        state=state,
        status=checkin[3],
        replies=[(QUESTION, "question")],
        now=datetime.now(UTC),
    )
    connection.commit()
    response = MessagingResponse()
    response.message(QUESTION)
    return Response(str(response), mimetype="application/xml")
