"""Running engage's own commands as separate processes, the way an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def development_environ(database_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ENGAGE_ENV": "development",
        "DATABASE_URL": f"sqlite:///{database_path}",
    }


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "engage", *args]


def run_flask(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        flask_command(*args),
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start_flask(*args: str, environ: dict[str, str]) -> subprocess.Popen[str]:
    """Start a long-lived command with stdout and stderr merged into one text pipe."""
    return subprocess.Popen(
        flask_command(*args),
        cwd=PROJECT_ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def import_wsgi(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Load wsgi.py as gunicorn would, in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
