"""What `make run` does after installing: migrate, seed, serve, and /healthz answers ok."""

import json
import socket
import time
import urllib.request

from tests.processes import development_environ, run_flask, start_flask


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_migrate_seed_and_serve_answers_healthz(tmp_path):
    environ = development_environ(tmp_path / "run.sqlite3")
    upgraded = run_flask("db", "upgrade", environ=environ)
    assert upgraded.returncode == 0, upgraded.stderr
    seeded = run_flask("engage", "demo", environ=environ)
    assert seeded.returncode == 0, seeded.stderr
    assert "demo network seeded" in seeded.stdout

    port = free_port()
    server = start_flask("engage", "serve", "--port", str(port), environ=environ)
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
