"""The fake Twilio answers the real twilio library as Twilio would, faults included."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tests.fake_twilio import FakeTwilio, segment_count

ACCOUNT_SID = "AC" + "2" * 32
AUTH_TOKEN = "fake-twilio-token"
SERVICE_SID = "MG" + "2" * 32
CALLBACK = "https://engage.test/twilio/status"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class LoopbackHttpClient(TwilioHttpClient):
    """Send what the library addresses to api.twilio.com to the fake instead."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


def twilio_client(fake: FakeTwilio, *, token: str = AUTH_TOKEN, timeout: float = 5) -> Client:
    return Client(ACCOUNT_SID, token, http_client=LoopbackHttpClient(fake.url, timeout=timeout))


def send(client: Client, to: str, body: str = "How are you today?") -> Any:
    return client.messages.create(
        to=to, body=body, messaging_service_sid=SERVICE_SID, status_callback=CALLBACK
    )


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, log_path=tmp_path / "received.jsonl") as fake:
        yield fake


def test_create_returns_a_queued_message(fake: FakeTwilio) -> None:
    message = send(twilio_client(fake), "+16175550100", "Hello")

    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.to == "+16175550100"
    assert message.body == "Hello"
    assert message.account_sid == ACCOUNT_SID
    assert message.messaging_service_sid == SERVICE_SID
    assert message.num_segments == "1"
    assert message.error_code is None
    assert message.date_created is not None and message.date_created.tzinfo is not None
    assert message.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message.sid}.json"
    [received] = fake.received()
    assert received["sid"] == message.sid
    assert received["status_callback"] == CALLBACK


def test_the_log_holds_one_line_per_accepted_message(fake: FakeTwilio) -> None:
    fake.add_faults("+16175550102", {"status": 500})
    client = twilio_client(fake)
    sids = [send(client, "+16175550101").sid]
    with pytest.raises(TwilioRestException):
        send(client, "+16175550102")  # answered 500: not accepted, so not logged
    sids.append(send(client, "+16175550102").sid)

    assert fake.log_path is not None
    lines = [json.loads(line) for line in fake.log_path.read_text().splitlines()]
    assert [line["sid"] for line in lines] == sids
    assert set(lines[0]) >= {"sid", "to", "body", "status_callback", "received_at"}
    assert [a["status"] for a in fake.attempts()] == [201, 500, 201]


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"status": 429}, 429, 20429),
        ({"status": 500}, 500, 20500),
        ({"status": 400, "code": 21610, "message": "Unsubscribed recipient"}, 400, 21610),
    ],
)
def test_scripted_errors_raise_with_status_and_code(
    fake: FakeTwilio, fault: dict, status: int, code: int
) -> None:
    fake.add_faults("+16175550103", fault)
    client = twilio_client(fake)

    with pytest.raises(TwilioRestException) as raised:
        send(client, "+16175550103")

    assert raised.value.status == status
    assert raised.value.code == code
    assert fake.received() == []
    assert send(client, "+16175550103").status == "queued"  # the script is used up


def test_faults_are_consumed_in_order_per_recipient() -> None:
    faults = {"+16175550104": [{"status": 429}, {"status": 500}]}
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, faults=faults) as fake:
        client = twilio_client(fake)
        statuses = []
        for _ in range(3):
            try:
                statuses.append(send(client, "+16175550104").status)
            except TwilioRestException as error:
                statuses.append(error.status)
        assert send(client, "+16175550105").status == "queued"

    assert statuses == [429, 500, "queued"]


def test_a_delay_beyond_the_timeout_times_out_yet_is_accepted(fake: FakeTwilio) -> None:
    fake.add_faults("+16175550106", {"delay": 1.0})

    with pytest.raises(requests.exceptions.Timeout):
        send(twilio_client(fake, timeout=0.2), "+16175550106")

    # Like Twilio, the fake may have taken a message whose answer the client never heard.
    deadline = time.monotonic() + 5
    while not fake.received() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["to"] for m in fake.received()] == ["+16175550106"]


def test_a_disconnect_fault_drops_the_connection(fake: FakeTwilio) -> None:
    fake.add_faults("+16175550107", {"disconnect": True})

    with pytest.raises(requests.exceptions.ConnectionError):
        send(twilio_client(fake), "+16175550107")
    assert fake.received() == []


def test_bad_basic_auth_gets_401(fake: FakeTwilio) -> None:
    with pytest.raises(TwilioRestException) as raised:
        send(twilio_client(fake, token="wrong"), "+16175550108")

    assert raised.value.status == 401
    assert raised.value.code == 20003
    assert fake.received() == []


def test_missing_fields_get_twilio_codes(fake: FakeTwilio) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client(fake).messages.create(to="+16175550109", body="Hi")

    assert (raised.value.status, raised.value.code) == (400, 21603)


@pytest.mark.parametrize(
    ("body", "segments"),
    [("a" * 160, 1), ("a" * 161, 2), ("{" * 80, 1), ("{" * 81, 2), ("é" * 160, 1), ("ő" * 71, 2)],
)
def test_segment_count(body: str, segments: int) -> None:
    assert segment_count(body) == segments


def test_the_process_form_prints_its_url_and_logs(tmp_path: Path) -> None:
    log = tmp_path / "process.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fake_twilio",
            "--port=0",
            f"--account-sid={ACCOUNT_SID}",
            f"--auth-token={AUTH_TOKEN}",
            f"--log={log}",
            "--latency-ms=5",
            '--faults={"+16175550111": [{"status": 429}]}',
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline().strip()
        assert first_line.startswith("listening on http://127.0.0.1:")
        url = first_line.removeprefix("listening on ")
        client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=LoopbackHttpClient(url, timeout=5))

        with pytest.raises(TwilioRestException) as raised:
            send(client, "+16175550111")
        message = send(client, "+16175550110")

        assert raised.value.status == 429
        [line] = [json.loads(line) for line in log.read_text().splitlines()]
        assert (line["sid"], line["to"]) == (message.sid, "+16175550110")
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
