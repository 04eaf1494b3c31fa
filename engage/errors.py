"""Errors that carry a message fit for the person who gave the input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class InvalidInput(ValueError):
    """Input refused for a reason that names the field and the value.

    Raised by services and model validators; the edges (CLI, HTTP, file
    import) turn it into a message without a traceback.
    """

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {value!r} {reason}")

    def as_messages(self) -> dict[str, list[str]]:
        return {self.field: [f"{self.value!r} {self.reason}"]}


class Conflict(InvalidInput):
    """Refused because of the current state, not the input's form: an illegal status change,
    a second vote. HTTP edges answer 409."""


def describe_problems(messages: Mapping[str, Any] | list[Any] | str, prefix: str = "") -> list[str]:
    """Flatten marshmallow-style nested error messages into 'field: message' lines."""
    if isinstance(messages, str):
        return [f"{prefix}: {messages}" if prefix else messages]
    if isinstance(messages, list):
        lines: list[str] = []
        for message in messages:
            lines.extend(describe_problems(message, prefix))
        return lines
    lines = []
    for key, value in messages.items():
        field = f"{prefix}.{key}" if prefix else str(key)
        lines.extend(describe_problems(value, field))
    return lines
