"""The ``flask engage`` command group, assembled from each capability's commands.

Also registered as a ``flask.commands`` entry point, so commands that need no
app (``instruments check``) run even when the app cannot start.
"""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

from engage.auth.cli import audit_cli, staff_cli
from engage.codesign.cli import ideas_cli
from engage.conversations.cli import chat_command, checkin_cli
from engage.demo.cli import demo_command
from engage.exports.cli import export_cli
from engage.instruments.cli import instruments_cli
from engage.messaging.cli import outbox_command
from engage.network.cli import center_cli, network_cli
from engage.people.cli import caregiver_cli, patient_cli
from engage.retention.cli import purge_command
from engage.roster.cli import import_command
from engage.scheduler import scheduler_command, serve_command
from engage.scheduling.cli import enroll_cli, visit_cli

engage_cli = AppGroup("engage", help="Run and administer engage.")
for command in (
    demo_command,
    network_cli,
    center_cli,
    staff_cli,
    audit_cli,
    patient_cli,
    caregiver_cli,
    import_command,
    instruments_cli,
    checkin_cli,
    chat_command,
    enroll_cli,
    visit_cli,
    outbox_command,
    purge_command,
    ideas_cli,
    export_cli,
    serve_command,
    scheduler_command,
):
    engage_cli.add_command(command)


def register_cli(app: Flask) -> None:
    app.cli.add_command(engage_cli)
