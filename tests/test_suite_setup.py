"""The suite's own promise: in CI an unreachable PostgreSQL fails the run, elsewhere it skips."""

import os
import subprocess
import sys

from tests.processes import PROJECT_ROOT

CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/postgres"


def run_pytest(*args: str, ci: bool) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "ENGAGE_TEST_POSTGRES_URL": CLOSED_PORT_URL}
    environ["CI"] = "true" if ci else ""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ci_fails_the_run_when_postgresql_does_not_answer():
    result = run_pytest("tests/health/test_views.py::test_healthz_reports_ok", ci=True)
    assert result.returncode != 0
    assert "CI=true needs PostgreSQL" in result.stdout + result.stderr
    assert "127.0.0.1:1" in result.stdout + result.stderr


def test_outside_ci_the_postgresql_half_is_skipped_with_the_reason():
    result = run_pytest("tests/health/test_views.py::test_healthz_reports_ok", ci=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert "PostgreSQL does not answer at postgresql://postgres@127.0.0.1:1/postgres" in (
        result.stdout
    )
