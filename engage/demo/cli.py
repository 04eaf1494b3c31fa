"""``flask engage demo``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from engage.cli import command_unit_of_work
from engage.demo.seed import seed_demo


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Seed the demo network (idempotent: a second run adds nothing)."""
    with command_unit_of_work():
        added = seed_demo()
    if added:
        click.echo("demo network seeded: " + ", ".join(f"{n} {kind}" for kind, n in added.items()))
    else:
        click.echo("demo network already complete: nothing added")
