"""The backup and restore in docs/operations.md, run as written: every row comes back.

PostgreSQL only: it is what production runs, and what pg_dump and pg_restore read.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid

import psycopg
import sqlalchemy as sa

from tests.conftest import require_postgres, with_database
from tests.processes import PROJECT_ROOT, run_flask

RUNBOOK = PROJECT_ROOT / "docs" / "operations.md"
BLOCK = re.compile(r"^<!-- runbook: (\w+) -->\n```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def runbook_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for name, text in BLOCK.findall(RUNBOOK.read_text(encoding="utf-8")):
        assert name not in blocks, f"two '{name}' blocks in {RUNBOOK.name}"
        blocks[name] = text
    return blocks


def snapshot(url: str) -> dict[str, object]:
    """Each table's row count and a checksum of all its rows; sequences; the schema version."""
    tables: dict[str, object] = {}
    with psycopg.connect(url) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        for name in names:
            tables[name] = connection.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{name}" t'
            ).fetchone()
        sequences = connection.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
            "ORDER BY 1"
        ).fetchall()
        triggers = connection.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
        ).fetchall()
        [version] = connection.execute("SELECT version_num FROM alembic_version").fetchone() or [
            None
        ]
    return {"tables": tables, "sequences": sequences, "triggers": triggers, "version": version}


def run_block(script: str, environ: dict[str, str]) -> None:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script}\nexit {done.returncode}\n{done.stderr}{done.stdout}"


def test_the_documented_backup_restores_every_row_into_a_new_database(new_database, tmp_path):
    server_url = require_postgres()
    blocks = runbook_blocks()
    assert set(blocks) >= {"backup", "restore"}, f"runbook blocks in {RUNBOOK}: {set(blocks)}"

    source = new_database("postgresql")
    engage_environ = {**os.environ, "ENGAGE_ENV": "development", "DATABASE_URL": source}
    for command in (("db", "upgrade"), ("engage", "demo", "--history")):
        done = run_flask(*command, environ=engage_environ)
        assert done.returncode == 0, done.stderr
    original = snapshot(source)
    tables = original["tables"]
    assert isinstance(tables, dict)
    assert tables["messages"][0] > 100 and tables["answers"][0] > 100, tables
    assert original["version"] and original["triggers"]

    server = sa.make_url(server_url)
    restored_name = f"engage_restore_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    runbook_environ = {
        name: value for name, value in os.environ.items() if not name.startswith("PG")
    }
    runbook_environ.update(
        DATABASE_URL=source,
        BACKUP_FILE=str(tmp_path / "engage.dump"),
        RESTORE_DATABASE=restored_name,
        PGHOST=server.host or "127.0.0.1",
        PGPORT=str(server.port or 5432),
        PGUSER=server.username or "postgres",
    )
    if server.password:
        runbook_environ["PGPASSWORD"] = server.password
    try:
        run_block(blocks["backup"], runbook_environ)
        assert (tmp_path / "engage.dump").stat().st_mode & 0o077 == 0, "others can read the dump"
        run_block(blocks["restore"], runbook_environ)
        restored = snapshot(with_database(server_url, restored_name))
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')

    assert restored["version"] == original["version"]
    assert restored["sequences"] == original["sequences"]
    assert restored["triggers"] == original["triggers"]
    assert restored["tables"] == original["tables"]
