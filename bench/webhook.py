"""Benchmark the SMS webhook: the full step a family's reply takes, against a bare endpoint.

Both run under gunicorn with the same settings on loopback; Debian's wrk drives both
with the same pre-signed requests (bench/webhook.lua). Ours uses PostgreSQL, with
CONTACTS phones each in an open check-in: every request is a new MessageSid whose
answer is read, stored, moves the check-in on and is answered with the next question
in TwiML. The bare endpoint returns a constant TwiML string: the ceiling. A third
server, the floor (bench/floor_app.py), does only a reply's database work, signature
and TwiML: the most that any implementation of the full step could reach here.

    .venv/bin/python bench/webhook.py [--contacts 1000] [--rounds 3] [--seconds 10]

Needs wrk (apt-get install wrk) and PostgreSQL (ENGAGE_BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/postgres). Prints each round and the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import date
from pathlib import Path

import psycopg
import sqlalchemy as sa
import yaml
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PUBLIC_BASE_URL = "https://bench.engage.test"
AUTH_TOKEN = "bench-auth-token"
ITEMS = 40  # questions per check-in: each contact answers at most this many per round
MAX_RATE_SHARE = 26  # answers per contact in the max-rate run; the half-rate run gets the rest
WORKERS = "2"
THREADS = os.environ.get("BENCH_THREADS", "1")  # the same for both servers
WRK_THREADS = "2"


def bench_instrument() -> dict:
    """Scale items only, so the same reply ("5") is a valid answer at every step."""
    return {
        "id": "bench-scale",
        "version": 1,
        "title": {"en": "Benchmark", "es": "Prueba"},
        "languages": ["en", "es"],
        "respondent": {"mode": "self", "min_age": 0, "max_age": 120},
        "items": [
            {
                "id": f"q{n}",
                "type": "scale",
                "text": {"en": f"Question {n}: how is it today?", "es": f"Pregunta {n}: ¿como va?"},
                "anchors": {"en": {0: "bad", 10: "good"}, "es": {0: "mal", 10: "bien"}},
            }
            for n in range(1, ITEMS + 1)
        ],
        "scores": [
            {
                "id": "total",
                "label": {"en": "Total", "es": "Total"},
                "items": [f"q{n}" for n in range(1, ITEMS + 1)],
                "min_answered": 1,
                "prorate": True,
            }
        ],
        "red_flags": [
            {
                "id": "low",
                "severity": "moderate",
                "when": {"item": "q1", "lte": 1},
                "message": {"en": "We will let your team know.", "es": "Avisaremos a su equipo."},
            }
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def phones(count: int) -> list[str]:
    return [f"+1617{200 + n // 10000:03d}{n % 10000:04d}" for n in range(count)]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="engage-bench-"))
        self.server_url = os.environ.get(
            "ENGAGE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        )
        self.database = f"engage_bench_{os.getpid()}"
        self.database_url = (
            sa.make_url(self.server_url)
            .set(database=self.database)
            .render_as_string(hide_password=False)
        )
        self.prompts = self.work / "prompts"
        self.prompts.mkdir()
        (self.prompts / "bench-scale.yaml").write_text(
            yaml.safe_dump(bench_instrument(), allow_unicode=True), encoding="utf-8"
        )
        self.environ = {
            **os.environ,
            "ENGAGE_ENV": "production",
            "SECRET_KEY": "bench-secret",
            "DATABASE_URL": self.database_url,
            "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "ENGAGE_PROMPTS_PATH": str(self.prompts),
        }
        self.servers: list[subprocess.Popen[bytes]] = []

    # -- setup ----------------------------------------------------------------------------
    def create_database(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{self.database}"')
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "engage", "db", "upgrade"],
            cwd=ROOT,
            env=self.environ,
            check=True,
            capture_output=True,
        )

    def app(self):  # type: ignore[no-untyped-def]
        from engage import create_app

        os.environ["ENGAGE_PROMPTS_PATH"] = str(self.prompts)
        settings = (
            "ENGAGE_ENV",
            "SECRET_KEY",
            "DATABASE_URL",
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_MESSAGING_SERVICE_SID",
            "PUBLIC_BASE_URL",
        )
        return create_app({name: self.environ[name] for name in settings})

    def seed(self) -> None:
        """One center, CONTACTS teens with their own phones."""
        from engage.db import db
        from engage.network.models import Network
        from engage.network.services import add_center
        from engage.people.models import Diagnosis
        from engage.people.services import add_contact, add_patient

        app = self.app()
        with app.app_context():
            network = Network(slug="bench", name="Bench")
            db.session.add(network)
            center = add_center(
                network, code="BENCH", name="Bench Center", time_zone="America/New_York"
            )
            for n, phone in enumerate(phones(self.args.contacts)):
                patient = add_patient(
                    center,
                    mrn=f"B-{n}",
                    given_name="Bench",
                    family_name=str(n),
                    date_of_birth=date(2010, 1, 1),
                    diagnosis=Diagnosis.CROHNS_DISEASE,
                )
                add_contact(patient, phone)
            db.session.commit()
            db.engine.dispose()

    def open_checkins(self) -> None:
        """Close whatever is open and open one fresh check-in per contact."""
        from engage.conversations.models import CheckIn, CheckInStatus
        from engage.conversations.services import open_checkin
        from engage.db import db
        from engage.instruments.services import get_instrument
        from engage.people.models import Patient

        app = self.app()
        with app.app_context():
            db.session.execute(
                sa.update(CheckIn)
                .where(CheckIn.status.in_(["sent", "in_progress"]))
                .values(status=CheckInStatus.CANCELLED)
            )
            instrument = get_instrument("bench-scale")
            for patient in db.session.scalars(sa.select(Patient)):
                open_checkin(patient, instrument)
            db.session.commit()
            db.engine.dispose()

    def write_requests(self, path: Path, count: int) -> None:
        """COUNT signed requests, cycling over the contacts, each with its own MessageSid."""
        validator = RequestValidator(AUTH_TOKEN)
        url = PUBLIC_BASE_URL + "/twilio/sms"
        numbers = phones(self.args.contacts)
        with path.open("w", encoding="utf-8") as out:
            for n in range(count):
                params = {
                    "MessageSid": "SM" + uuid.uuid4().hex,
                    "AccountSid": "AC" + "2" * 32,
                    "From": numbers[n % len(numbers)],
                    "To": "+16175550199",
                    "Body": "5",
                    "NumMedia": "0",
                }
                signature = validator.compute_signature(url, params)
                out.write(f"{signature}\t{urllib.parse.urlencode(params)}\n")

    # -- servers --------------------------------------------------------------------------
    def start_server(self, app_path: str, port: int) -> None:
        command = [
            sys.executable, "-m", "gunicorn", "--workers", WORKERS, "--threads", THREADS, "--bind",
            f"127.0.0.1:{port}", "--log-level", "warning", app_path,
        ]  # fmt: skip
        server = subprocess.Popen(command, cwd=ROOT, env=self.environ)
        self.servers.append(server)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn {app_path} did not start on port {port}")

    def stop_servers(self) -> None:
        for server in self.servers:
            server.send_signal(signal.SIGTERM)
        for server in self.servers:
            server.wait(timeout=30)

    # -- load ----------------------------------------------------------------------------
    def wrk(self, port: int, requests: Path, *, connections: int, delay_ms: int = 0) -> dict:
        command = [
            "wrk", "-t", WRK_THREADS, "-c", str(connections), "-d", f"{self.args.seconds}s",
            "--latency", "-s", str(ROOT / "bench" / "webhook.lua"),
            f"http://127.0.0.1:{port}/twilio/sms", "--", str(requests), str(delay_ms),
        ]  # fmt: skip
        env = {**os.environ, "WRK_THREADS": WRK_THREADS}
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        line = next(x for x in output.stdout.splitlines() if x.startswith("{"))
        result = json.loads(line)
        result["rps"] = result["requests"] / result["seconds"]
        return result

    def count_steps(self) -> tuple[int, int]:
        """Inbound messages stored and answers recorded, to check the work was really done."""
        with psycopg.connect(self.database_url) as connection:
            row = connection.execute(
                "SELECT (SELECT count(*) FROM messages WHERE direction = 'inbound'),"
                " (SELECT count(*) FROM answers)"
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def run(self) -> None:
        if shutil.which("wrk") is None:
            raise SystemExit("wrk is not installed: apt-get install wrk")
        print(f"setting up {self.args.contacts} contacts in {self.database} ...", flush=True)
        self.create_database()
        self.seed()
        ours_port, bare_port, floor_port = free_port(), free_port(), free_port()
        self.start_server("wsgi:app", ours_port)
        self.start_server("bench.bare_app:app", bare_port)
        self.start_server("bench.floor_app:app", floor_port)
        rounds = []
        try:
            for number in range(1, self.args.rounds + 1):
                self.open_checkins()
                requests = self.work / f"round{number}.txt"
                self.write_requests(requests, self.args.contacts * MAX_RATE_SHARE)
                half_requests = self.work / f"round{number}-half.txt"
                self.write_requests(
                    half_requests, self.args.contacts * (ITEMS - MAX_RATE_SHARE - 1)
                )
                bare = self.wrk(bare_port, requests, connections=self.args.connections)
                # The floor stores what it is sent: it gets its own MessageSids, so that
                # engage's requests are new to the database, never replays.
                floor_requests = self.work / f"round{number}-floor.txt"
                self.write_requests(floor_requests, self.args.contacts * MAX_RATE_SHARE)
                floor = self.wrk(floor_port, floor_requests, connections=self.args.connections)
                self.open_checkins()  # engage answers fresh check-ins, not the floor's
                before = self.count_steps()
                ours = self.wrk(ours_port, requests, connections=self.args.connections)
                time.sleep(1)  # let requests still in flight when wrk stopped commit
                after = self.count_steps()
                target = ours["rps"] / 2
                slow_connections = 16
                delay = max(1, round(slow_connections * 1000 / target))
                half = self.wrk(
                    ours_port, half_requests, connections=slow_connections, delay_ms=delay
                )
                round_result = {
                    "round": number,
                    "bare": bare,
                    "floor": floor,
                    "ours": ours,
                    "half": half,
                    "stored_inbound": after[0] - before[0],
                    "stored_answers": after[1] - before[1],
                }
                rounds.append(round_result)
                self.print_round(round_result)
        finally:
            self.stop_servers()
            with psycopg.connect(self.server_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            shutil.rmtree(self.work, ignore_errors=True)
        self.print_summary(rounds)

    @staticmethod
    def print_round(r: dict) -> None:
        bare, floor, ours, half = r["bare"], r["floor"], r["ours"], r["half"]
        print(
            f"round {r['round']}: bare {bare['rps']:.0f} req/s (p50 {bare['p50_ms']:.1f} ms, "
            f"p99 {bare['p99_ms']:.1f} ms) | floor {floor['rps']:.0f} req/s (ratio "
            f"{floor['rps'] / bare['rps']:.2f}, non-2xx {floor['non_2xx']}) "
            f"| engage {ours['rps']:.0f} req/s "
            f"(p50 {ours['p50_ms']:.1f} ms, p99 {ours['p99_ms']:.1f} ms, non-2xx "
            f"{ours['non_2xx']}, wrapped {ours['wrapped']}) | ratio {ours['rps'] / bare['rps']:.2f}"
            f" | at half rate {half['rps']:.0f} req/s: p50 {half['p50_ms']:.1f} ms, "
            f"p99 {half['p99_ms']:.1f} ms | stored {r['stored_inbound']} inbound, "
            f"{r['stored_answers']} answers",
            flush=True,
        )

    @staticmethod
    def print_summary(rounds: list[dict]) -> None:
        def median(path: tuple[str, str]) -> float:
            return statistics.median(r[path[0]][path[1]] for r in rounds)

        ratio = statistics.median(r["ours"]["rps"] / r["bare"]["rps"] for r in rounds)
        floor_ratio = statistics.median(r["floor"]["rps"] / r["bare"]["rps"] for r in rounds)
        print("\nmedian of", len(rounds), "rounds")
        print("| endpoint | req/s | p50 ms | p99 ms |")
        print("| --- | --- | --- | --- |")
        for label, key in (("bare Flask TwiML", "bare"),
                           ("floor: the database work alone", "floor"),
                           ("engage full step", "ours"),
                           ("engage at half its max rate", "half")):  # fmt: skip
            print(
                f"| {label} | {median((key, 'rps')):.0f} | {median((key, 'p50_ms')):.1f} "
                f"| {median((key, 'p99_ms')):.1f} |"
            )
        print(f"ratio engage / bare (median): {ratio:.2f}")
        print(f"ratio floor / bare (median): {floor_ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    Bench(parser.parse_args()).run()


if __name__ == "__main__":
    main()
