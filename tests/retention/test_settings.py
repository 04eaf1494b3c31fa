"""RETENTION_* settings: whole days above 0, or start-up stops and names the setting."""

from __future__ import annotations

import pytest

from engage.config import ConfigurationError, build_settings


def settings(**environ: str) -> dict:
    return build_settings(
        None, "/srv/engage/instance", environ={"ENGAGE_ENV": "development", **environ}
    )


def test_retention_defaults():
    config = settings()
    assert config["RETENTION_INBOUND_BODY_DAYS"] == 90
    assert config["RETENTION_SESSION_DAYS"] == 30


def test_retention_days_are_read_from_the_environment():
    config = settings(RETENTION_INBOUND_BODY_DAYS="365", RETENTION_SESSION_DAYS=" 7 ")
    assert config["RETENTION_INBOUND_BODY_DAYS"] == 365
    assert config["RETENTION_SESSION_DAYS"] == 7


@pytest.mark.parametrize("value", ["0", "-5", "ninety", "1.5", "90d"])
@pytest.mark.parametrize("name", ["RETENTION_INBOUND_BODY_DAYS", "RETENTION_SESSION_DAYS"])
def test_retention_days_must_be_whole_and_above_zero(name, value):
    with pytest.raises(ConfigurationError) as refused:
        settings(**{name: value})
    message = str(refused.value)
    assert message.startswith(f"{name}={value!r} is not a whole number of days above 0")
    assert "\n" not in message
