"""marshmallow fields whose errors name the value that was refused."""

from __future__ import annotations

import enum
from typing import Any

from marshmallow import ValidationError, fields

from engage.errors import InvalidInput
from engage.phones import normalise_phone
from engage.timezones import check_time_zone


class Phone(fields.String):
    """A phone number, loaded as E.164; national numbers are read as US numbers."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_phone(text, field=attr or "phone")
        except InvalidInput as error:
            raise ValidationError(f"{value!r} {error.reason}") from None


class TimeZone(fields.String):
    """An IANA time zone name."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            return check_time_zone(text, field=attr or "time_zone")
        except InvalidInput as error:
            raise ValidationError(f"{value!r} {error.reason}") from None


class Choice(fields.Enum):
    """An enum loaded by value, case-insensitively, whose error lists the choices."""

    def __init__(self, enum_class: type[enum.Enum], **kwargs: Any) -> None:
        super().__init__(enum_class, by_value=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            raise ValidationError(f"{value!r} is not one of: {self.choices_text}") from None


class Day(fields.Date):
    """A calendar date in ISO form (YYYY-MM-DD)."""

    default_error_messages = {"invalid": "{input!r} is not a date in YYYY-MM-DD form."}


class Text(fields.String):
    """Required-looking text: surrounding spaces trimmed, blank refused."""

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ValidationError("must not be blank.")
        if len(text) > self.max_length:
            raise ValidationError(
                f"{text[:20]!r}... is {len(text)} characters long; at most {self.max_length}."
            )
        return text
