"""``flask engage purge [--dry-run]``: apply the retention policy now."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from engage.cli import command_operator, command_unit_of_work
from engage.db import db
from engage.retention.services import purge_expired_data, report_lines


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Empty old inbound texts and delete expired sign-in codes, tokens and attempts.

    The scheduler does this every hour; the RETENTION_* settings say how old is old.
    """
    if dry_run:
        try:
            report = purge_expired_data(dry_run=True, by=command_operator())
        finally:
            db.session.rollback()
    else:
        with command_unit_of_work():
            report = purge_expired_data(by=f"{command_operator()} (flask engage purge)")
    for line in report_lines(report):
        click.echo(line)
