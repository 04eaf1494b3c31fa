"""Settings, read from the environment once, in the app factory."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from engage.errors import InvalidInput
from engage.phones import normalise_phone

ENVIRONMENTS = ("production", "development")

# Environment variable -> config key. Everything the service reads from the
# environment is listed here and documented in README.md.
ENVIRONMENT_VARIABLES = (
    "ENGAGE_ENV",
    "DATABASE_URL",
    "SECRET_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_FROM_NUMBER",
    "SMS_TRANSPORT",
    "PUBLIC_BASE_URL",
    "ENGAGE_PROMPTS_PATH",
    "CHECKIN_EXPIRY_HOURS",
    "CHECKINS_PER_DAY",
    "CHECKINS_PER_WEEK",
    "REMINDER_AFTER_HOURS",
    "DISPATCH_GRACE_HOURS",
    "SEND_RATE_PER_SECOND",
    "SEND_MAX_ATTEMPTS",
    "SEND_CONCURRENCY",
    "SEND_LEASE_SECONDS",
    "SCHEDULER_TICK_SECONDS",
    "TWILIO_API_URL",
    "ALERT_WEBHOOK_URL",
    "ALERT_WEBHOOK_SECRET",
    "ALERT_EMAIL_TO",
    "ALERT_EMAIL_FROM",
    "IDEAS_DIGEST_WEBHOOK_URL",
    "IDEAS_DIGEST_WEBHOOK_SECRET",
    "IDEAS_DIGEST_EMAIL_TO",
    "IDEAS_DIGEST_EMAIL_FROM",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "REGISTRY_PSEUDONYM_KEY",
    # Operations: several hosts, metrics, rotation of secrets.
    "SECRET_KEY_FALLBACKS",
    "TWILIO_AUTH_TOKEN_FALLBACKS",
    "TRUSTED_PROXIES",
    "METRICS_TOKEN",
    "METRICS_ALLOWED_NETWORKS",
    "SCHEDULER_HTTP_ADDRESS",
    "SCHEDULER_JOB_SECONDS",
    "CLOCK_OFFSET_FILE",
    # Retention: how long raw texts and old sign-in records are kept.
    "RETENTION_INBOUND_BODY_DAYS",
    "RETENTION_SESSION_DAYS",
    # Logs: JSON lines or text, and from which level.
    "LOG_FORMAT",
    "LOG_LEVEL",
)

# Scheduling and sending settings, with their defaults and whether they are whole numbers.
SCHEDULING_DEFAULTS: dict[str, tuple[float, bool]] = {
    "CHECKINS_PER_DAY": (1, True),
    "CHECKINS_PER_WEEK": (3, True),
    "REMINDER_AFTER_HOURS": (4, False),
    "DISPATCH_GRACE_HOURS": (6, False),
    "SEND_RATE_PER_SECOND": (10, True),
    "SEND_MAX_ATTEMPTS": (6, True),
    "SEND_CONCURRENCY": (8, True),
    "SEND_LEASE_SECONDS": (120, False),
    "SCHEDULER_TICK_SECONDS": (15, False),
}

DEVELOPMENT_SECRET_KEY = "engage-development-only-not-secret"
DEVELOPMENT_REGISTRY_PSEUDONYM_KEY = "engage-development-registry-key-not-secret"
# HMAC-SHA256 keys shorter than this are guessable enough to undo the pseudonyms.
REGISTRY_PSEUDONYM_KEY_MIN_LENGTH = 32


class ConfigurationError(click.ClickException):
    """The service cannot start with these settings; the message says what to change.

    A ClickException, so a ``flask`` command prints the message, not a traceback.
    """


def read_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the engage settings present (and non-empty) in ``environ``."""
    return {
        name: environ[name].strip()
        for name in ENVIRONMENT_VARIABLES
        if environ.get(name, "").strip()
    }


def build_settings(
    overrides: Mapping[str, Any] | None,
    instance_path: str,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Combine environment and explicit overrides into a checked Flask config."""
    settings: dict[str, Any] = read_environment(os.environ if environ is None else environ)
    settings.update(overrides or {})

    environment = settings.setdefault("ENGAGE_ENV", "production")
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(
            f"ENGAGE_ENV={environment!r} is not one of {', '.join(ENVIRONMENTS)}"
        )
    development = environment == "development"

    if not settings.get("SECRET_KEY"):
        if not development:
            raise ConfigurationError(
                "SECRET_KEY is not set. In production it signs session cookies and must be "
                "a long random value kept secret, e.g. "
                "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))'). "
                "For local development set ENGAGE_ENV=development instead."
            )
        settings["SECRET_KEY"] = DEVELOPMENT_SECRET_KEY

    settings.update(registry_settings(settings, development))

    database_url = settings.get("DATABASE_URL") or (
        "sqlite:///" + os.path.join(instance_path, "engage.sqlite3")
    )
    settings["DATABASE_URL"] = database_url
    settings["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(database_url)
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(settings["SQLALCHEMY_DATABASE_URI"])

    settings.update(twilio_settings(settings, development))
    settings["CHECKIN_EXPIRY_HOURS"] = positive_number(
        settings.get("CHECKIN_EXPIRY_HOURS", 24), "CHECKIN_EXPIRY_HOURS"
    )
    for name, (default, whole) in SCHEDULING_DEFAULTS.items():
        number = positive_number(settings.get(name, default), name)
        if whole and number != int(number):
            raise ConfigurationError(f"{name}={settings[name]!r} must be a whole number")
        settings[name] = int(number) if whole else number
    settings.update(alert_notice_settings(settings))
    settings.update(operations_settings(settings))
    settings.update(retention_settings(settings))
    settings.update(logging_settings(settings, development))
    settings.setdefault("PROMPT_FOLDERS", prompt_folders(settings.get("ENGAGE_PROMPTS_PATH")))
    settings["SESSION_COOKIE_HTTPONLY"] = True
    settings["SESSION_COOKIE_SAMESITE"] = "Lax"
    settings["SESSION_COOKIE_SECURE"] = not development and not settings.get("TESTING", False)
    return settings


def sqlalchemy_url(database_url: str) -> str:
    """Translate DATABASE_URL into a SQLAlchemy URL with the psycopg 3 driver."""
    url = database_url
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"DATABASE_URL is not a database URL: expected postgresql://user@host/dbname "
            f"or sqlite:///path (got {redact_url(database_url)!r})"
        ) from None
    if parsed.get_backend_name() not in ("postgresql", "sqlite"):
        raise ConfigurationError(
            f"DATABASE_URL names {parsed.get_backend_name()!r}: engage runs on PostgreSQL "
            "(production) or SQLite (embedded)"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise ConfigurationError(
            f"DATABASE_URL uses the {parsed.get_driver_name()!r} driver: use postgresql:// "
            "(engage speaks to PostgreSQL through psycopg 3)"
        )
    return url


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Wait for a writer instead of failing at once: the in-process scheduler
        # and the web server share one file.
        return {"connect_args": {"timeout": 15}, "hide_parameters": True}
    # No pre-ping: it costs a round trip per request. After a database restart SQLAlchemy
    # invalidates the whole pool on the first failed statement, and the webhook keeps
    # that message; recycling bounds the age of idle connections.
    # hide_parameters: a failed statement's message never quotes the values (a phone, a text)
    # into a log line.
    return {"pool_recycle": 1800, "connect_args": {"connect_timeout": 5}, "hide_parameters": True}


def redact_url(url: str) -> str:
    """The URL with any password hidden, fit for a log or an error message."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable>"


def twilio_settings(settings: Mapping[str, Any], development: bool) -> dict[str, Any]:
    """Decide between sending through Twilio and keeping SMS in the local outbox."""
    account_sid = settings.get("TWILIO_ACCOUNT_SID")
    auth_token = settings.get("TWILIO_AUTH_TOKEN")
    service_sid = settings.get("TWILIO_MESSAGING_SERVICE_SID")
    from_number = settings.get("TWILIO_FROM_NUMBER")
    given = [account_sid, auth_token, service_sid, from_number]
    chosen = str(settings.get("SMS_TRANSPORT") or "").strip().lower()
    if chosen not in ("", "twilio", "outbox"):
        raise ConfigurationError(f"SMS_TRANSPORT={chosen!r} is not twilio or outbox")
    if chosen == "outbox" or (not any(given) and development and chosen != "twilio"):
        return {"SMS_TRANSPORT": "outbox", "PUBLIC_BASE_URL": public_base_url(settings)}
    if not any(given):
        raise ConfigurationError(
            "Twilio is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_MESSAGING_SERVICE_SID (or TWILIO_FROM_NUMBER) so families get their texts, "
            "or SMS_TRANSPORT=outbox to keep every SMS in the local outbox (staging, training)"
        )

    missing = [
        name
        for name, value in (("TWILIO_ACCOUNT_SID", account_sid), ("TWILIO_AUTH_TOKEN", auth_token))
        if not value
    ]
    if not (service_sid or from_number):
        missing.append("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER")
    if missing:
        raise ConfigurationError(
            "Twilio is partly configured; also set "
            + ", ".join(missing)
            + " (or unset every TWILIO_* variable to keep SMS in the local outbox)"
        )
    if not str(account_sid).startswith("AC"):
        raise ConfigurationError(
            f"TWILIO_ACCOUNT_SID={account_sid!r} does not look like an account SID (AC...)"
        )
    if service_sid and not str(service_sid).startswith("MG"):
        raise ConfigurationError(
            f"TWILIO_MESSAGING_SERVICE_SID={service_sid!r} does not look like a messaging "
            "service SID (MG...)"
        )
    result: dict[str, Any] = {"SMS_TRANSPORT": "twilio"}
    if from_number:
        try:
            result["TWILIO_FROM_NUMBER"] = normalise_phone(str(from_number), "TWILIO_FROM_NUMBER")
        except InvalidInput as error:
            raise ConfigurationError(str(error)) from None
    base_url = public_base_url(settings)
    if not base_url and not development:
        raise ConfigurationError(
            "PUBLIC_BASE_URL is not set. Twilio signs each webhook with the URL it called, "
            "so engage needs the public https:// address families' messages arrive at."
        )
    result["PUBLIC_BASE_URL"] = base_url
    return result


def alert_notice_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Optional notices: new alerts (ALERT_*) and the weekly ideas digest (IDEAS_DIGEST_*),
    each by a signed webhook and/or e-mail; none is required."""
    return {**notice_settings(settings, "ALERT"), **notice_settings(settings, "IDEAS_DIGEST")}


def notice_settings(settings: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    url = settings.get(f"{prefix}_WEBHOOK_URL")
    if url:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"{prefix}_WEBHOOK_URL={url!r} is not an http(s) address")
        if not settings.get(f"{prefix}_WEBHOOK_SECRET"):
            raise ConfigurationError(
                f"{prefix}_WEBHOOK_URL is set without {prefix}_WEBHOOK_SECRET: notices are "
                "signed with it (HMAC-SHA256) so the receiver can trust them"
            )
    if settings.get(f"{prefix}_EMAIL_TO"):
        needed = ("SMTP_HOST", f"{prefix}_EMAIL_FROM")
        missing = [name for name in needed if not settings.get(name)]
        if missing:
            raise ConfigurationError(
                f"{prefix}_EMAIL_TO is set; also set " + " and ".join(missing) + " to send e-mail"
            )
        result["SMTP_PORT"] = int(positive_number(settings.get("SMTP_PORT", 587), "SMTP_PORT"))
        starttls = str(settings.get("SMTP_STARTTLS", "true")).strip().lower()
        if starttls not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigurationError(f"SMTP_STARTTLS={starttls!r} is not true or false")
        result["SMTP_STARTTLS"] = starttls in ("true", "1", "yes")
    return result


def registry_settings(settings: Mapping[str, Any], development: bool) -> dict[str, Any]:
    """The key of the registry export's pseudonyms: optional (only `export registry` needs it),
    a fixed non-secret one in development, and never short."""
    key = settings.get("REGISTRY_PSEUDONYM_KEY")
    if not key:
        return {
            "REGISTRY_PSEUDONYM_KEY": DEVELOPMENT_REGISTRY_PSEUDONYM_KEY if development else None
        }
    if len(str(key)) < REGISTRY_PSEUDONYM_KEY_MIN_LENGTH:
        raise ConfigurationError(
            f"REGISTRY_PSEUDONYM_KEY is {len(str(key))} characters long; use at least "
            f"{REGISTRY_PSEUDONYM_KEY_MIN_LENGTH}, e.g. "
            "$(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return {"REGISTRY_PSEUDONYM_KEY": str(key)}


def operations_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings for running on several hosts: proxies, metrics access, secret rotation."""
    proxies = settings.get("TRUSTED_PROXIES", 0)
    try:
        trusted_proxies = int(str(proxies))
    except ValueError:
        trusted_proxies = -1
    if trusted_proxies < 0:
        raise ConfigurationError(
            f"TRUSTED_PROXIES={proxies!r} must be a whole number: how many proxies (e.g. 1 for "
            "one TLS proxy) stand in front of engage and set X-Forwarded-* headers"
        )
    networks = []
    for part in split_list(settings.get("METRICS_ALLOWED_NETWORKS")):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"METRICS_ALLOWED_NETWORKS: {part!r} is not an address or network "
                "(e.g. 10.0.0.0/8, 127.0.0.1)"
            ) from None
    token = settings.get("METRICS_TOKEN")
    if token and len(str(token)) < 16:
        raise ConfigurationError(
            "METRICS_TOKEN is shorter than 16 characters: use a long random value"
        )
    return {
        "TRUSTED_PROXIES": trusted_proxies,
        "METRICS_TOKEN": str(token) if token else None,
        "METRICS_ALLOWED_NETWORKS": networks,
        "SECRET_KEY_FALLBACKS": split_list(settings.get("SECRET_KEY_FALLBACKS")),
        "TWILIO_AUTH_TOKEN_FALLBACKS": split_list(settings.get("TWILIO_AUTH_TOKEN_FALLBACKS")),
        "SCHEDULER_HTTP_ADDRESS": listen_address(settings.get("SCHEDULER_HTTP_ADDRESS")),
        "SCHEDULER_JOB_SECONDS": job_intervals(settings.get("SCHEDULER_JOB_SECONDS")),
        "CLOCK_OFFSET_FILE": settings.get("CLOCK_OFFSET_FILE") or None,
    }


def split_list(value: Any) -> list[str]:
    """A comma-separated setting as a list (a list given directly stays one)."""
    if not value:
        return []
    parts = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(part).strip() for part in parts if str(part).strip()]


def job_intervals(value: Any) -> dict[str, float]:
    """``job_id=seconds,...``: how often named system jobs run, instead of their default."""
    if isinstance(value, dict):
        return value
    intervals: dict[str, float] = {}
    for part in split_list(value):
        job_id, equals, seconds = part.partition("=")
        if not equals or not job_id.strip():
            raise ConfigurationError(
                f"SCHEDULER_JOB_SECONDS: {part!r} is not job_id=seconds "
                "(e.g. send_reminders=60,expire_stale_checkins=60)"
            )
        intervals[job_id.strip()] = positive_number(seconds, f"SCHEDULER_JOB_SECONDS {job_id}")
    return intervals


def listen_address(value: Any) -> tuple[str, int] | None:
    """``host:port`` (or ``:port`` for every interface) to listen on, or None."""
    if not value:
        return None
    if isinstance(value, tuple):
        return value
    host, _, port = str(value).rpartition(":")
    if not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigurationError(
            f"SCHEDULER_HTTP_ADDRESS={value!r} is not host:port "
            "(e.g. 127.0.0.1:9101, or :9101 for every interface)"
        )
    return (host.strip("[]") or "0.0.0.0", int(port))


def public_base_url(settings: Mapping[str, Any]) -> str | None:
    value = settings.get("PUBLIC_BASE_URL")
    if not value:
        return None
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"PUBLIC_BASE_URL={value!r} is not an http(s) address such as https://engage.example.org"
        )
    return str(value).rstrip("/")


def prompt_folders(extra: str | None) -> list[str]:
    """``prompts/`` of this checkout, then each folder named in ENGAGE_PROMPTS_PATH."""
    bundled = Path(__file__).resolve().parent.parent / "prompts"
    folders = [str(bundled if bundled.is_dir() else Path.cwd() / "prompts")]
    folders.extend(part for part in (extra or "").split(os.pathsep) if part.strip())
    return folders


def positive_number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name}={value!r} is not a number") from None
    if number <= 0:
        raise ConfigurationError(f"{name}={value!r} must be above 0")
    return number


# Retention settings (whole days) and their defaults: see docs/operations.md, "Retention".
RETENTION_DEFAULTS = {"RETENTION_INBOUND_BODY_DAYS": 90, "RETENTION_SESSION_DAYS": 30}


def retention_settings(settings: Mapping[str, Any]) -> dict[str, int]:
    """How many days inbound texts and old sign-in records are kept before the purge."""
    result = {}
    for name, default in RETENTION_DEFAULTS.items():
        value = settings.get(name, default)
        try:
            days = int(str(value).strip())
        except ValueError:
            days = 0
        if days <= 0:
            raise ConfigurationError(
                f"{name}={value!r} is not a whole number of days above 0 (default {default})"
            )
        result[name] = days
    return result


LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def logging_settings(settings: Mapping[str, Any], development: bool) -> dict[str, str]:
    """JSON log lines for a log pipeline in production, readable text in development."""
    log_format = str(settings.get("LOG_FORMAT") or ("text" if development else "json"))
    if log_format.strip().lower() not in LOG_FORMATS:
        raise ConfigurationError(f"LOG_FORMAT={log_format!r} is not one of json, text")
    level = str(settings.get("LOG_LEVEL") or "INFO")
    if level.strip().upper() not in LOG_LEVELS:
        raise ConfigurationError(f"LOG_LEVEL={level!r} is not one of {', '.join(LOG_LEVELS)}")
    return {"LOG_FORMAT": log_format.strip().lower(), "LOG_LEVEL": level.strip().upper()}
