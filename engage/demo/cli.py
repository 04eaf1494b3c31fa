"""``flask engage demo``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from engage.cli import command_unit_of_work
from engage.demo.history import seed_history
from engage.demo.seed import seed_demo


@click.command("demo")
@click.option(
    "--history", is_flag=True, help="Also eight weeks of answered check-ins, for the charts."
)
@with_appcontext
def demo_command(history: bool) -> None:
    """Seed the demo network (idempotent: a second run adds nothing)."""
    with command_unit_of_work():
        added = seed_demo()
        if history:
            added += seed_history()
    if added:
        click.echo("demo network seeded: " + ", ".join(f"{n} {kind}" for kind, n in added.items()))
    else:
        click.echo("demo network already complete: nothing added")
