"""Fixtures: one migrated database per backend, a rolled-back transaction per test.

Every test that uses ``app`` runs on SQLite and again on PostgreSQL. PostgreSQL
is used when ENGAGE_TEST_POSTGRES_URL is set or a server answers at
127.0.0.1:5432; each run creates and drops its own uniquely named database.
With CI=true an unreachable PostgreSQL stops the run instead of skipping.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from engage import create_app
from engage.config import ENVIRONMENT_VARIABLES
from engage.db import db
from engage.messaging.transport import HTTP_CLIENT_KEY
from engage.network.models import Center, Network
from engage.network.services import add_center
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import ConsentMethod, ConsentState, Contact, Diagnosis, Patient
from engage.people.services import add_contact, add_patient, record_consent
from tests.demo_staff import signed_in, tokens  # noqa: F401 - fixtures for every test package
from tests.receivers import smtp, webhook  # noqa: F401 - fixtures for every test package
from tests.twilio_helpers import StubHttpClient

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TEST_SECRET_KEY = "test-secret-key-not-for-production"
TWILIO_TEST_SETTINGS = {
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32,
    "PUBLIC_BASE_URL": "https://engage.test",
}


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@cache
def postgres_server() -> tuple[str | None, str]:
    """The maintenance-database URL of the test PostgreSQL server, or None and why not."""
    url = os.environ.get("ENGAGE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return None, f"PostgreSQL does not answer at {url} ({first_line})"
    return url, ""


def require_postgres() -> str:
    """The test server's URL; without one a test skips, saying why (fails with CI=true)."""
    url, reason = postgres_server()
    if url is None:
        if running_in_ci():
            pytest.fail(f"PostgreSQL is required in CI: {reason}")
        pytest.skip(f"needs PostgreSQL: {reason}")
    return url


FAKE_TWILIO_ACCOUNT_SID = "AC" + "5" * 32
FAKE_TWILIO_AUTH_TOKEN = "fake-twilio-token"


@pytest.fixture
def fake_twilio(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The fake Twilio REST server as its own process: its URL, and the file it logs to."""
    import subprocess
    import sys

    log = tmp_path / "twilio.jsonl"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "tests.fake_twilio", "--port", "0",
            "--account-sid", FAKE_TWILIO_ACCOUNT_SID, "--auth-token", FAKE_TWILIO_AUTH_TOKEN,
            "--log", str(log), "--latency-ms", "2",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("listening on "), first
    yield first.split()[-1], log
    process.terminate()
    process.wait(timeout=10)


def pytest_configure(config: pytest.Config) -> None:
    # The suite sets its own configuration; a developer's shell must not leak in.
    for name in ENVIRONMENT_VARIABLES:
        os.environ.pop(name, None)
    if running_in_ci():
        url, reason = postgres_server()
        if url is None:
            raise pytest.UsageError(f"CI=true needs PostgreSQL: {reason}")


def with_database(url: str, name: str) -> str:
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and postgres_server()[0] is None:
        pytest.skip(postgres_server()[1] + "; set ENGAGE_TEST_POSTGRES_URL to test on PostgreSQL")
    return str(request.param)


@pytest.fixture(scope="session")
def new_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], str]]:
    """Create empty, uniquely named databases on demand; drop them at the end of the run."""
    created: list[str] = []
    server_url = postgres_server()[0]

    def create(backend: str) -> str:
        label = f"engage_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / (label + '.sqlite3')}"
        assert server_url is not None
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{label}"')
        created.append(label)
        return with_database(server_url, label)

    yield create

    if created and server_url is not None:
        with psycopg.connect(server_url, autocommit=True) as connection:
            for label in created:
                connection.execute(f'DROP DATABASE IF EXISTS "{label}" WITH (FORCE)')


def make_test_app(database_url: str, **overrides: Any) -> Flask:
    config: dict[str, Any] = {
        "TESTING": True,
        "ENGAGE_ENV": "production",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        **TWILIO_TEST_SETTINGS,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def database_url(backend: str, new_database: Callable[[str], str]) -> str:
    return new_database(backend)


@pytest.fixture(scope="session")
def migrated_app(database_url: str) -> Iterator[Flask]:
    """The app on a database built by the migrations, once per backend per run."""
    app = make_test_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(migrated_app: Flask) -> Iterator[Flask]:
    """The app, with every session of this test joined to one transaction rolled back after it.

    Commits inside the test become savepoints (SQLAlchemy's "joining a session
    into an external transaction"), so tests never see each other's rows.
    """
    with migrated_app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original_session = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield migrated_app
        finally:
            db.session.remove()
            db.session = original_session
            outer.rollback()
            connection.close()


@pytest.fixture
def session(app: Flask) -> Session:
    return db.session()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make_center(session: Session) -> Callable[..., Center]:
    counter = iter(range(1, 10_000))

    def make(code: str | None = None, time_zone: str = "America/New_York", **kw: Any) -> Center:
        network = session.scalar(sa.select(Network).where(Network.slug == "test"))
        if network is None:
            network = Network(slug="test", name="Test Network")
            session.add(network)
        n = next(counter)
        return add_center(
            network,
            code=code or f"C{n}",
            name=kw.pop("name", f"Center {n}"),
            time_zone=time_zone,
            **kw,
        )

    return make


@pytest.fixture
def make_patient(make_center: Callable[..., Center]) -> Callable[..., Patient]:
    counter = iter(range(1, 10_000))

    def make(center: Center | None = None, **kw: Any) -> Patient:
        n = next(counter)
        values: dict[str, Any] = {
            "mrn": f"MRN-{n}",
            "given_name": "Test",
            "family_name": f"Patient{n}",
            "date_of_birth": date(2012, 5, 17),
            "diagnosis": Diagnosis.CROHNS_DISEASE,
        }
        values.update(kw)
        return add_patient(center or make_center(), **values)

    return make


def consenting_phone(owner: Any, phone: str) -> Contact:
    """A phone for a patient or caregiver, whose consent staff recorded (the usual start)."""
    contact = add_contact(owner, phone)
    record_consent(
        contact,
        ConsentState.GRANTED,
        method=ConsentMethod.STAFF,
        consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
    )
    return contact


@pytest.fixture
def stub(app: Flask) -> Iterator[StubHttpClient]:
    """Twilio's REST API, answered by a script (the real twilio library builds the calls)."""
    client = StubHttpClient()
    app.extensions[HTTP_CLIENT_KEY] = client
    yield client
    app.extensions.pop(HTTP_CLIENT_KEY, None)


@pytest.fixture
def slow_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each conversation step a moment, so two unserialised requests would surely
    overlap (the concurrency tests of the webhook and the app)."""
    from engage.conversations import engine

    real_receive = engine.receive

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return real_receive(*args, **kwargs)

    monkeypatch.setattr(engine, "receive", slow)


@pytest.fixture
def sms(client: FlaskClient, app: Flask) -> Callable[..., Any]:
    """Send a text to the webhook the way Twilio does: form fields and a real signature."""
    from tests.twilio_helpers import send_signed_sms

    counter = iter(range(1, 1_000_000))

    def send(body: str, from_: str = "+16175550102", sid: str | None = None, **extra: str) -> Any:
        message_sid = sid or f"SM{uuid.uuid4().hex[:24]}{next(counter):08d}"
        return send_signed_sms(client, app, body=body, from_=from_, sid=message_sid, **extra)

    return send


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def raise_alert(session: Session) -> Callable[..., Any]:
    """An alert on a new check-in of a demo patient (seed the demo first), as a red flag raises."""
    from engage.alerts.models import Alert
    from engage.conversations.services import open_checkin
    from engage.instruments.model import Severity
    from engage.instruments.services import get_instrument
    from engage.people.models import Patient

    def raise_(mrn: str = "E-1002", severity: Severity = Severity.URGENT) -> Alert:
        patient = session.scalar(sa.select(Patient).where(Patient.mrn == mrn))
        checkin = open_checkin(patient, get_instrument("ibd-symptoms"))
        alert = Alert(
            patient_id=patient.id,
            checkin_id=checkin.id,
            red_flag_id="blood_and_pain",
            severity=severity,
            safety_message="Please call the clinic today.",
        )
        session.add(alert)
        session.commit()
        return alert

    return raise_
