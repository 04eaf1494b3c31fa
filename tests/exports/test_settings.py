"""REGISTRY_PSEUDONYM_KEY: optional for the service, fixed in development, never short."""

import pytest

from engage.config import (
    DEVELOPMENT_REGISTRY_PSEUDONYM_KEY,
    ConfigurationError,
    build_settings,
)


def settings(environ):
    return build_settings(
        None, "/srv/engage/instance", environ={"SMS_TRANSPORT": "outbox", **environ}
    )


def test_production_starts_without_a_key_and_development_has_a_fixed_one():
    assert settings({"SECRET_KEY": "s3cret"})["REGISTRY_PSEUDONYM_KEY"] is None
    development = settings({"ENGAGE_ENV": "development"})
    assert development["REGISTRY_PSEUDONYM_KEY"] == DEVELOPMENT_REGISTRY_PSEUDONYM_KEY


def test_a_key_is_read_from_the_environment():
    key = "k" * 64
    config = settings({"SECRET_KEY": "s3cret", "REGISTRY_PSEUDONYM_KEY": f"  {key} "})
    assert config["REGISTRY_PSEUDONYM_KEY"] == key


def test_a_short_key_stops_start_up_without_showing_it():
    with pytest.raises(ConfigurationError, match="REGISTRY_PSEUDONYM_KEY is 8 characters") as error:
        settings({"SECRET_KEY": "s3cret", "REGISTRY_PSEUDONYM_KEY": "tooshort"})
    assert "tooshort" not in str(error.value)
