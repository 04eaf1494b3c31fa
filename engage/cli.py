"""The ``flask engage`` command group and the way its commands end a unit of work."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from marshmallow import Schema, ValidationError

from engage.db import unit_of_work
from engage.errors import InvalidInput, describe_problems

engage_cli = AppGroup("engage", help="Run and administer engage.")


def register_cli(app: Flask) -> None:
    from engage.demo.cli import demo_command
    from engage.network.cli import center_cli, network_cli
    from engage.people.cli import caregiver_cli, patient_cli
    from engage.scheduler import scheduler_command, serve_command

    for command in (
        demo_command,
        network_cli,
        center_cli,
        patient_cli,
        caregiver_cli,
        serve_command,
        scheduler_command,
    ):
        engage_cli.add_command(command)
    app.cli.add_command(engage_cli)


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
