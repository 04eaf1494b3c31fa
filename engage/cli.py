"""What every ``flask engage`` command shares: loading input, ending a unit of work."""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from marshmallow import Schema, ValidationError

from engage.db import unit_of_work
from engage.errors import InvalidInput, describe_problems


class InputRefused(click.ClickException):
    """Input refused: one line per problem, each naming the field and the value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(["input refused:", *(f"  {line}" for line in problems)]))
        self.problems = problems


def load_input(schema: Schema, values: Mapping[str, Any]) -> dict[str, Any]:
    """Load CLI options through a schema, turning its errors into a readable refusal."""
    try:
        loaded: dict[str, Any] = schema.load({k: v for k, v in values.items() if v is not None})
    except ValidationError as error:
        raise InputRefused(describe_problems(error.messages)) from None
    return loaded


@contextmanager
def command_unit_of_work() -> Iterator[None]:
    """Commit once when the command succeeds; refuse bad input without a traceback."""
    try:
        with unit_of_work():
            yield
    except InvalidInput as error:
        raise InputRefused(describe_problems(error.as_messages())) from None


def command_operator() -> str:
    """Who ran the command, for the audit log: the command line has no signed-in staff."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown user"
