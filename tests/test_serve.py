"""What `make run` does after installing: migrate, seed, serve, and /healthz answers ok."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(*args, environ, cwd):
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "engage", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_seed_and_serve_answers_healthz(project_root, tmp_path):
    environ = {
        **os.environ,
        "ENGAGE_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path}/run.sqlite3",
    }
    upgraded = flask("db", "upgrade", environ=environ, cwd=project_root)
    assert upgraded.returncode == 0, upgraded.stderr
    seeded = flask("engage", "demo", environ=environ, cwd=project_root)
    assert seeded.returncode == 0, seeded.stderr
    assert "demo network seeded" in seeded.stdout

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "engage", "engage", "serve", "--port", str(port)],
        cwd=project_root,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body, deadline = None, time.monotonic() + 60
        while body is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.load(r)
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.2)
        assert body == {"status": "ok", "database": "ok"}, server.poll()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "in-process scheduler started" in output
    assert "local outbox" in output
