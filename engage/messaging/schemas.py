"""The shape of Twilio's webhook requests."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class InboundSmsSchema(Schema):
    """Twilio's inbound-message fields; the many others Twilio sends are ignored."""

    class Meta:
        unknown = EXCLUDE

    MessageSid = fields.String(required=True, validate=validate.Length(min=1, max=64))
    From = fields.String(required=True, validate=validate.Length(min=1, max=64))
    To = fields.String(load_default=None, validate=validate.Length(max=64))
    Body = fields.String(load_default="", validate=validate.Length(max=10_000))
    NumMedia = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100))
    OptOutType = fields.String(load_default=None, validate=validate.Length(max=16))
    AccountSid = fields.String(load_default=None)


class StatusCallbackSchema(Schema):
    """Twilio's message status callback; the many other fields it sends are ignored."""

    class Meta:
        unknown = EXCLUDE

    MessageSid = fields.String(required=True, validate=validate.Length(min=1, max=64))
    MessageStatus = fields.String(required=True, validate=validate.Length(min=1, max=32))
    ErrorCode = fields.String(load_default=None, validate=validate.Length(max=16))
    AccountSid = fields.String(load_default=None, validate=validate.Length(max=64))
