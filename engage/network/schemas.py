"""Shapes of network data coming in from the CLI and HTTP."""

from __future__ import annotations

from marshmallow import Schema

from engage import fields


class NewCenterSchema(Schema):
    network = fields.Text(load_default=None, allow_none=True, max_length=64)
    code = fields.Text(required=True, max_length=16)
    name = fields.Text(required=True, max_length=200)
    time_zone = fields.TimeZone(required=True)
    family_phone = fields.Phone(load_default=None, allow_none=True)


class NewNetworkSchema(Schema):
    slug = fields.Text(required=True, max_length=64)
    name = fields.Text(required=True, max_length=200)
