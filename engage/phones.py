"""Phone numbers: one spelling (E.164) for every number the service stores."""

from __future__ import annotations

import functools

import phonenumbers

from engage.errors import InvalidInput

DEFAULT_REGION = "US"


@functools.lru_cache(maxsize=4096)
def normalise_phone(raw: str, field: str = "phone", region: str = DEFAULT_REGION) -> str:
    """Return ``raw`` in E.164, reading national numbers as ``region``; refuse invalid ones."""
    text = raw.strip() if isinstance(raw, str) else raw
    if not isinstance(text, str) or not text:
        raise InvalidInput(field, raw, "is not a phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, raw, "is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, raw, "is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_e164(value: str) -> bool:
    """True when ``value`` is already the normalised spelling of a valid number."""
    try:
        return normalise_phone(value) == value
    except InvalidInput:
        return False
