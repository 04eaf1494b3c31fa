"""Each configuration error stops a process with one clear line saying what to fix."""

from __future__ import annotations

import pytest

from tests.processes import import_wsgi, run_flask

PRODUCTION = {
    "ENGAGE_ENV": "production",
    "SECRET_KEY": "startup-test-secret",
    "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
    "TWILIO_AUTH_TOKEN": "startup-test-token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32,
    "PUBLIC_BASE_URL": "https://engage.example.org",
}
UNREACHABLE = "postgresql://postgres:hunter2@127.0.0.1:1/engage"


def environ_with(**settings: str) -> dict[str, str]:
    import os

    from engage.config import ENVIRONMENT_VARIABLES

    clean = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT_VARIABLES}
    return {**clean, **PRODUCTION, **settings}


def the_one_line(output: str, prefix: str) -> str:
    """The process said exactly one line starting with ``prefix``, and no traceback."""
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"DATABASE_URL": "mysql://root@db/engage"}, "DATABASE_URL names 'mysql'"),
        (
            {"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "TWILIO_MESSAGING_SERVICE_SID": ""},
            "Twilio is not configured: set TWILIO_ACCOUNT_SID",
        ),
        (
            {"DATABASE_URL": UNREACHABLE},
            "the database at postgresql://postgres:***@127.0.0.1:1/engage does not answer",
        ),
    ],
    ids=["bad-database-url", "production-without-twilio", "unreachable-database"],
)
def test_web_and_scheduler_processes_refuse_to_start_with_one_line(settings, expected, tmp_path):
    environ = environ_with(**{"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **settings})
    web = import_wsgi(environ)
    assert web.returncode == 4
    line = the_one_line(web.stderr, "engage cannot start: ")
    assert expected in line
    scheduler = run_flask("engage", "scheduler", environ=environ)
    assert scheduler.returncode != 0
    assert expected in the_one_line(scheduler.stderr, "Error: ")
    assert "hunter2" not in web.stderr + scheduler.stderr


def test_a_scheduler_against_an_unmigrated_database_says_to_migrate(tmp_path):
    environ = environ_with(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    scheduler = run_flask("engage", "scheduler", environ=environ)
    assert scheduler.returncode != 0
    line = the_one_line(scheduler.stderr, "Error: ")
    assert "is not ready: no schema: run `flask --app engage db upgrade` first" in line
    # A web process serves (its /readyz says not ready) so upgrades can roll host by host,
    # and says why in its log.
    web = import_wsgi(environ)
    assert web.returncode == 0
    assert "database schema is not current: no schema: run" in web.stderr


def test_a_web_process_on_the_current_schema_starts_without_a_warning(tmp_path):
    environ = environ_with(DATABASE_URL=f"sqlite:///{tmp_path / 'current.sqlite3'}")
    assert run_flask("db", "upgrade", environ=environ).returncode == 0
    web = import_wsgi(environ)
    assert web.returncode == 0
    assert "engage (production) using database" in web.stderr
    assert "not current" not in web.stderr
