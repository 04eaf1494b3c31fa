"""The shape of an instrument file, checked with marshmallow before anything is built.

These schemas check keys and types only; the rules that span the file
(references, bands, message lengths, languages) live in ``loader.py``.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from engage.instruments.model import ItemType, RespondentMode, Severity

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
identifier = validate.Regexp(
    IDENTIFIER, error="{input!r} is not an id: use lower-case letters, digits, - and _"
)


class Translations(fields.Dict):
    """``{en: "...", es: "..."}``: non-empty text per language."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            raise ValidationError("give the text per language, e.g. {en: ..., es: ...}")
        result = super()._deserialize(value, attr, data, **kwargs)
        blank = [language for language, text in result.items() if not text.strip()]
        if blank:
            raise ValidationError(f"text for {', '.join(blank)} is blank")
        return {language: text.strip() for language, text in result.items()}


class Version(fields.Field):
    """A version label such as ``3`` or ``2026.1``; stored as text."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError(f"{value!r} is not a version such as 1 or 2026.1")
        text = str(value).strip()
        if not text or len(text) > 32:
            raise ValidationError(f"{value!r} is not a version such as 1 or 2026.1")
        return text


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class RespondentSchema(StrictSchema):
    mode = fields.Enum(RespondentMode, by_value=True, required=True)
    min_age = fields.Integer(required=True, strict=True, validate=validate.Range(0, 120))
    max_age = fields.Integer(required=True, strict=True, validate=validate.Range(0, 120))
    self_from_age = fields.Integer(strict=True, validate=validate.Range(0, 120))


class OptionSchema(StrictSchema):
    code = fields.String(required=True, validate=identifier)
    label = Translations(required=True)
    points = fields.Integer(strict=True)


class ItemSchema(StrictSchema):
    id = fields.String(required=True, validate=identifier)
    type = fields.Enum(ItemType, by_value=True, required=True)
    text = Translations(required=True)
    proxy_text = Translations()
    required = fields.Boolean()
    min = fields.Integer(strict=True)
    max = fields.Integer(strict=True)
    anchors = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.Integer(), values=fields.String())
    )
    options = fields.List(fields.Nested(OptionSchema))
    points = fields.Raw()  # ranges for integer and scale items, {yes, no} for yes_no
    max_length = fields.Integer(strict=True, validate=validate.Range(1, 1600))
    when = fields.Raw()
    points_when_not_asked = fields.Integer(strict=True)
    becomes_idea = fields.Boolean()


class BandSchema(StrictSchema):
    id = fields.String(required=True, validate=identifier)
    label = Translations(required=True)
    min = fields.Float(required=True)
    max = fields.Float(required=True)


class ScoreSchema(StrictSchema):
    id = fields.String(required=True, validate=identifier)
    label = Translations(required=True)
    items = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    reverse = fields.List(fields.String())
    min_answered = fields.Integer(strict=True, validate=validate.Range(min=1))
    prorate = fields.Boolean()
    lookup = fields.Dict(keys=fields.Integer(), values=fields.Float())
    bands = fields.List(fields.Nested(BandSchema))
    tell_respondent = Translations()


class RedFlagSchema(StrictSchema):
    id = fields.String(required=True, validate=identifier)
    severity = fields.Enum(Severity, by_value=True, required=True)
    when = fields.Raw(required=True)
    message = Translations(required=True)


class InstrumentSchema(StrictSchema):
    id = fields.String(required=True, validate=identifier)
    version = Version(required=True)
    title = Translations(required=True)
    languages = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    respondent = fields.Nested(RespondentSchema, required=True)
    intro = Translations()
    closing = Translations()
    items = fields.List(fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1))
    scores = fields.List(fields.Nested(ScoreSchema))
    red_flags = fields.List(fields.Nested(RedFlagSchema))
