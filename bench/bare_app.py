"""The baseline for bench/webhook.py: a bare Flask endpoint answering constant TwiML."""

from flask import Flask, Response

app = Flask(__name__)

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
    "How bad was the worst pain, from 0 to 10?</Message></Response>"
)


@app.post("/twilio/sms")
def sms() -> Response:
    return Response(TWIML, mimetype="application/xml")
