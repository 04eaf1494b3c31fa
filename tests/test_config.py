"""Settings come from the environment, once, and bad ones stop start-up with a reason."""

import logging
import os
import re

import pytest

from engage import announce_start, create_app
from engage.config import DEVELOPMENT_SECRET_KEY, ConfigurationError, build_settings
from tests.processes import import_wsgi


def settings(environ, overrides=None, instance_path="/srv/engage/instance"):
    """Settings from ``environ``; without Twilio settings, the local outbox chosen explicitly
    (production refuses to start without either: see the test of that below)."""
    if not any(name.startswith("TWILIO_") or name == "SMS_TRANSPORT" for name in environ):
        environ = {**environ, "SMS_TRANSPORT": "outbox"}
    return build_settings(overrides, instance_path, environ=environ)


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        settings({})
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        settings({"ENGAGE_ENV": "production", "SECRET_KEY": "   "})


def test_development_gets_a_development_secret_key():
    config = settings({"ENGAGE_ENV": "development"})
    assert config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    assert config["SESSION_COOKIE_SECURE"] is False


def test_production_cookies_are_secure_httponly_lax():
    config = settings({"SECRET_KEY": "s3cret"})
    assert config["ENGAGE_ENV"] == "production"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigurationError, match="ENGAGE_ENV='staging' is not one of"):
        settings({"ENGAGE_ENV": "staging", "SECRET_KEY": "x"})


def test_database_defaults_to_sqlite_in_the_instance_folder():
    config = settings({"SECRET_KEY": "x"}, instance_path="/srv/engage/instance")
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/engage/instance/engage.sqlite3"


@pytest.mark.parametrize(
    "given",
    ["postgres://u:p@db.internal/engage", "postgresql://u:p@db.internal/engage"],
)
def test_postgres_urls_use_psycopg_3(given):
    config = settings({"SECRET_KEY": "x", "DATABASE_URL": given})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal/engage"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 5}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("not a url", "DATABASE_URL is not a database URL"),
        ("mysql://root@localhost/engage", "DATABASE_URL names 'mysql'"),
        ("postgresql+psycopg2://u@h/engage", "DATABASE_URL uses the 'psycopg2' driver"),
    ],
)
def test_unusable_database_urls_are_refused(given, message):
    with pytest.raises(ConfigurationError, match=message):
        settings({"SECRET_KEY": "x", "DATABASE_URL": given})


def test_database_url_password_never_appears_in_the_refusal():
    with pytest.raises(ConfigurationError) as refused:
        settings({"SECRET_KEY": "x", "DATABASE_URL": "oracle://scott:tiger@db/engage"})
    assert "tiger" not in str(refused.value)


def test_in_development_without_twilio_settings_sms_stay_in_the_outbox():
    assert settings({"ENGAGE_ENV": "development"})["SMS_TRANSPORT"] == "outbox"


def test_production_without_twilio_settings_refuses_to_start_unless_outbox_is_chosen():
    with pytest.raises(ConfigurationError, match="Twilio is not configured: set TWILIO_ACC"):
        build_settings(None, "/srv/engage/instance", environ={"SECRET_KEY": "x"})
    assert settings({"SECRET_KEY": "x", "SMS_TRANSPORT": "outbox"})["SMS_TRANSPORT"] == "outbox"
    with pytest.raises(ConfigurationError, match="SMS_TRANSPORT='pigeon' is not twilio or"):
        settings({"SECRET_KEY": "x", "SMS_TRANSPORT": "pigeon"})


TWILIO = {
    "SECRET_KEY": "x",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
    "PUBLIC_BASE_URL": "https://engage.example.org/",
}


def test_twilio_settings_select_twilio():
    config = settings(TWILIO)
    assert config["SMS_TRANSPORT"] == "twilio"
    assert config["PUBLIC_BASE_URL"] == "https://engage.example.org"


def test_twilio_from_number_is_normalised():
    environ = {k: v for k, v in TWILIO.items() if k != "TWILIO_MESSAGING_SERVICE_SID"}
    environ["TWILIO_FROM_NUMBER"] = "(617) 555-0199"
    assert settings(environ)["TWILIO_FROM_NUMBER"] == "+16175550199"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("TWILIO_AUTH_TOKEN", "also set TWILIO_AUTH_TOKEN"),
        ("TWILIO_MESSAGING_SERVICE_SID", "also set TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM"),
        ("PUBLIC_BASE_URL", "PUBLIC_BASE_URL is not set"),
    ],
)
def test_partial_twilio_settings_are_refused(missing, message):
    environ = {k: v for k, v in TWILIO.items() if k != missing}
    with pytest.raises(ConfigurationError, match=message):
        settings(environ)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TWILIO_ACCOUNT_SID", "XX123", "does not look like an account SID"),
        ("TWILIO_MESSAGING_SERVICE_SID", "PN123", "does not look like a messaging service SID"),
        ("PUBLIC_BASE_URL", "engage.example.org", "is not an http(s) address"),
    ],
)
def test_malformed_twilio_settings_are_refused(name, value, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        settings({**TWILIO, name: value})


def test_create_app_reads_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ENGAGE_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite3")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.sqlite3"
    assert app.config["SMS_TRANSPORT"] == "outbox"


def test_the_outbox_is_announced_once(tmp_path, caplog):
    app = create_app(
        {"ENGAGE_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path}/announce.sqlite3"}
    )
    with caplog.at_level(logging.INFO, logger="engage"):
        announce_start(app)
        announce_start(app)
    warnings = [r for r in caplog.records if "local outbox" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


def test_wsgi_refuses_to_start_without_a_secret_key_and_says_why():
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ENGAGE_ENV")}
    result = import_wsgi(environ)
    assert result.returncode == 4
    assert "engage cannot start: SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_operations_settings_are_read_and_checked():
    config = settings(
        {
            "SECRET_KEY": "x",
            "TRUSTED_PROXIES": "1",
            "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8, 127.0.0.1",
            "SECRET_KEY_FALLBACKS": "old-key-1,old-key-2",
            "SCHEDULER_HTTP_ADDRESS": ":9101",
            "SCHEDULER_JOB_SECONDS": "send_reminders=60, expire_stale_checkins=30",
        }
    )
    assert config["TRUSTED_PROXIES"] == 1
    assert [str(n) for n in config["METRICS_ALLOWED_NETWORKS"]] == ["10.0.0.0/8", "127.0.0.1/32"]
    assert config["SECRET_KEY_FALLBACKS"] == ["old-key-1", "old-key-2"]
    assert config["SCHEDULER_HTTP_ADDRESS"] == ("0.0.0.0", 9101)
    assert config["SCHEDULER_JOB_SECONDS"] == {"send_reminders": 60, "expire_stale_checkins": 30}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRUSTED_PROXIES", "two", "TRUSTED_PROXIES='two' must be a whole number"),
        ("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8,intranet", "'intranet' is not an address"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN is shorter than 16 characters"),
        ("SCHEDULER_HTTP_ADDRESS", "localhost", "'localhost' is not host:port"),
        ("SCHEDULER_JOB_SECONDS", "send_reminders", "'send_reminders' is not job_id=seconds"),
        ("SCHEDULER_JOB_SECONDS", "send_reminders=0", "must be above 0"),
    ],
)
def test_bad_operations_settings_are_refused(name, value, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        settings({"SECRET_KEY": "x", name: value})


def test_an_unknown_job_in_scheduler_job_seconds_stops_the_scheduler(tmp_path):
    from engage.scheduler import build_scheduler

    app = create_app(
        {
            "ENGAGE_ENV": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
            "SCHEDULER_JOB_SECONDS": "send_reminder=5",
        }
    )
    with pytest.raises(
        ConfigurationError, match="SCHEDULER_JOB_SECONDS names no system job: send_reminder"
    ):
        build_scheduler(app)


def test_session_cookies_signed_with_a_previous_secret_key_still_sign_in(tmp_path):
    """Rotating SECRET_KEY keeps people signed in while SECRET_KEY_FALLBACKS holds the old key."""
    url = f"sqlite:///{tmp_path / 'rotate.sqlite3'}"
    old = create_app({"ENGAGE_ENV": "development", "DATABASE_URL": url, "SECRET_KEY": "old-key"})
    serializer = old.session_interface.get_signing_serializer(old)
    cookie = serializer.dumps({"staff_id": 7})
    rotated = create_app(
        {
            "ENGAGE_ENV": "development",
            "DATABASE_URL": url,
            "SECRET_KEY": "new-key",
            "SECRET_KEY_FALLBACKS": "old-key",
        }
    )
    assert rotated.session_interface.get_signing_serializer(rotated).loads(cookie) == {
        "staff_id": 7
    }
    without = create_app(
        {"ENGAGE_ENV": "development", "DATABASE_URL": url, "SECRET_KEY": "new-key"}
    )
    with pytest.raises(Exception, match="Signature"):
        without.session_interface.get_signing_serializer(without).loads(cookie)
