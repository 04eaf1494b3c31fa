"""Structured logs: JSON lines with a request id, one per request and per job run, and no
phone, name, e-mail address or message text in them, through a whole SMS conversation."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from engage.config import ConfigurationError, build_settings, logging_settings
from engage.db import utcnow
from engage.demo.seed import seed_demo
from engage.messaging.models import Message
from engage.monitoring.logs import (
    HANDLER_NAME,
    JsonFormatter,
    TextFormatter,
    install_handler,
    mask,
    masked_value,
)
from engage.network.models import Center
from engage.people.models import Diagnosis, Patient, Relationship
from engage.people.services import (
    add_caregiver,
    add_patient,
    link_caregiver,
)
from engage.scheduler import SYSTEM_JOBS, SystemJob, run_system_job
from engage.scheduling.models import ScheduleKind
from engage.scheduling.schedules import Schedule
from engage.scheduling.services import enroll
from tests.conftest import consenting_phone
from tests.demo_staff import ANA
from tests.twilio_helpers import replies, send_signed_status, twilio_error

PATIENT = ("Zephyrine", "Quillfeather")
CAREGIVER = ("Barnaby", "Vantongeren")
PATIENT_PHONE = "+16175550164"
CAREGIVER_PHONE = "+16175550165"
NOTE = "my zebra-striped nebulizer hums lullabies at dawn"
IDEA = "a glow-in-the-dark pill calendar shaped like a narwhal"
WHO_IT_HELPS = "kids who sleep over at grandmas"


def phone_formats(e164: str) -> list[str]:
    """The ways a US number may be written: each must stay out of the log."""
    area, exchange, line = e164[2:5], e164[5:8], e164[8:]
    return [
        e164,
        e164[1:],
        e164[2:],
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"{area} {exchange} {line}",
        f"{exchange}-{line}",
    ]


def leaks(output: str, forbidden: list[str]) -> list[str]:
    """Which of the forbidden values appear in ``output`` (ignoring case)."""
    return [value for value in forbidden if value.lower() in output.lower()]


# -- capturing what is logged ---------------------------------------------------------------
class Capture:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Every line, each parsed as JSON (a line that is not JSON fails the test)."""
        return [json.loads(line) for line in self.text().splitlines()]


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Everything engage logs (DEBUG and up) and whatever else reaches the root logger,
    written by the JSON formatter production uses."""
    capture = Capture()
    handler = logging.StreamHandler(capture.stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root, engage = logging.getLogger(), logging.getLogger("engage")
    level = engage.level
    root.addHandler(handler)
    engage.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(handler)
        engage.setLevel(level)


@pytest.fixture
def served(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int, str]]:
    """(method, path, status, X-Request-Id) of every request the app answered, seen from
    outside it, at the WSGI layer."""
    seen: list[tuple[str, str, int, str]] = []
    inner = app.wsgi_app

    def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            request_id = dict(headers).get("X-Request-Id", "")
            seen.append(
                (environ["REQUEST_METHOD"], environ["PATH_INFO"], int(status[:3]), request_id)
            )
            return start_response(status, headers, *args)

        return inner(environ, start)

    monkeypatch.setattr(app, "wsgi_app", recording)
    return seen


@pytest.fixture
def demo(session: Any) -> None:
    seed_demo()
    session.commit()


@pytest.fixture
def family(demo: None, session: Any) -> Patient:
    """A 14-year-old at the demo's EAST center who answers on her own phone, and her father
    with a phone of his own; both agreed to texts, and her wellbeing check-in is due."""
    center = session.scalar(sa.select(Center).where(Center.code == "EAST"))
    center.quiet_hours_start = center.quiet_hours_end = time(0, 0)  # texts at any hour
    today = utcnow().date()
    patient = add_patient(
        center,
        mrn="E-LOGS-1",
        given_name=PATIENT[0],
        family_name=PATIENT[1],
        date_of_birth=date(today.year - 14, 1, 15),
        diagnosis=Diagnosis.CROHNS_DISEASE,
    )
    father = add_caregiver(given_name=CAREGIVER[0], family_name=CAREGIVER[1])
    link_caregiver(father, patient, relationship=Relationship.PARENT, may_answer_as_proxy=True)
    for owner, phone in ((patient, PATIENT_PHONE), (father, CAREGIVER_PHONE)):
        consenting_phone(owner, phone)
    schedule = Schedule(
        kind=ScheduleKind.RECURRING,
        time_zone=center.time_zone,
        weekdays=None,
        local_time=time(18, 0),
    )
    enrollment = enroll(patient, "ibd-wellbeing", schedule)
    enrollment.next_due_at = utcnow() - timedelta(minutes=1)
    session.commit()
    return patient


def system_job(job_id: str) -> SystemJob:
    [job] = [job for job in SYSTEM_JOBS if job.id == job_id]
    return job


# -- the whole conversation -----------------------------------------------------------------
def test_a_whole_conversation_logs_one_line_per_request_and_job_and_nothing_personal(
    app, session, client, sms, signed_in, family, stub, served, captured
):
    jobs_run: list[str] = []

    def run(job: SystemJob) -> None:
        run_system_job(app, job)
        jobs_run.append(job.id)

    # The dispatcher opens the check-in; the sender hands its first texts to Twilio.
    run(system_job("open_due_checkins"))
    run(system_job("send_outbox"))
    session.expire_all()
    sids = session.scalars(
        sa.select(Message.twilio_sid)
        .where(Message.phone == PATIENT_PHONE, Message.twilio_sid.is_not(None))
        .order_by(Message.id)
    ).all()
    assert len(sids) == 2, sids  # the intro and the first question
    assert send_signed_status(client, app, sids[0], "delivered").status_code == 204
    assert send_signed_status(client, app, sids[1], "undelivered", "30003").status_code == 204

    # She answers every question; the last two are her own words.
    asked = "first"
    for _ in range(12):
        if asked.startswith("Anything else you want your care team to know"):
            text = NOTE
        elif asked.startswith("Anything we could do better"):
            text = "SKIP"
        else:
            text = "2"
        got = replies(sms(text, from_=PATIENT_PHONE))
        assert got, f"no answer to {text!r} after {asked!r}"
        if got[0].startswith("Thank you!"):
            break
        asked = got[-1]
    else:
        pytest.fail(f"the check-in never ended; last asked: {asked}")

    assert replies(sms("HELP", from_=PATIENT_PHONE))[0].startswith("engage check-ins from")
    assert "Your idea is saved" in replies(sms(f"IDEA: {IDEA}", from_=PATIENT_PHONE))[0]
    replies(sms(WHO_IT_HELPS, from_=PATIENT_PHONE))
    replies(sms("yes", from_=PATIENT_PHONE))
    replies(sms("NAME", from_=PATIENT_PHONE))
    assert "unsubscribed" in replies(sms("STOP", from_=PATIENT_PHONE))[0]
    replies(sms("START", from_=PATIENT_PHONE))

    # Her father asks the app for a sign-in code; Twilio refuses the number, quoting it.
    stub.script(
        CAREGIVER_PHONE,
        twilio_error(400, 21211, f"The 'To' number {CAREGIVER_PHONE} is not a valid phone number."),
    )
    code_answer = client.post("/api/v1/auth/code", json={"phone": "(617) 555-0165"})
    assert code_answer.status_code == 202, code_answer.text
    for job_id in ("send_outbox", "send_reminders", "notify_new_alerts", "expire_stale_checkins"):
        run(system_job(job_id))

    # A request whose query string carries a phone, one that is not found, and a clinician
    # reading the patient's page.
    client.get(f"/healthz?phone={PATIENT_PHONE}")
    assert client.get(f"/no-such-page?to={PATIENT_PHONE}").status_code == 404
    staff = signed_in(ANA)
    page = staff.get(f"/review/patients/{family.id}?q={PATIENT[1]}")
    assert page.status_code == 200 and PATIENT[1] in page.text

    # A line that quotes the phone anyway, from inside a job: the formatter masks it.
    planted_log = logging.getLogger("engage.test")
    run(
        SystemJob(
            id="plant",
            run=lambda: planted_log.warning("planted %s %s", PATIENT_PHONE, ANA),
        )
    )

    lines = captured.lines()
    assert lines, "nothing was logged"

    # Every line has a request id: a request's or a job run's.
    assert all(line["request_id"] for line in lines), [
        line for line in lines if not line["request_id"]
    ]

    # One request line per request, with the id sent back in X-Request-Id.
    request_lines = [line for line in lines if line.get("event") == "request"]
    logged = sorted(
        (line["method"], line["path"], line["status"], line["request_id"]) for line in request_lines
    )
    assert logged == sorted(served)
    assert len({request_id for *_, request_id in served}) == len(served)
    assert all(line["path"].startswith("/") and "?" not in line["path"] for line in request_lines)
    probe = [line for line in request_lines if line["path"] == "/healthz"]
    assert [line["level"] for line in probe] == ["DEBUG"]

    # One job line per job run, each run with its own id, carried by the lines inside it.
    job_lines = [line for line in lines if line.get("event") == "job"]
    assert [line["job"] for line in job_lines] == jobs_run
    assert all(line["outcome"] == "ok" for line in job_lines), job_lines
    run_ids = [line["request_id"] for line in job_lines]
    assert all(run_id.startswith("job-") for run_id in run_ids)
    assert len(set(run_ids)) == len(run_ids)
    known_ids = set(run_ids) | {request_id for *_, request_id in served}
    assert {line["request_id"] for line in lines} <= known_ids
    [planted] = [line for line in lines if line["logger"] == "engage.test"]
    assert planted["request_id"] == run_ids[-1]
    assert planted["message"] == "planted [phone] [email]"

    # And nothing personal anywhere: no phone in any format, no name, no e-mail address,
    # no message text (what the family sent, and what was sent to them).
    session.expire_all()
    bodies = session.scalars(
        sa.select(Message.body).where(Message.phone.in_([PATIENT_PHONE, CAREGIVER_PHONE]))
    ).all()
    assert NOTE in bodies and any("engage code" in body for body in bodies)
    forbidden = [
        *phone_formats(PATIENT_PHONE),
        *phone_formats(CAREGIVER_PHONE),
        *PATIENT,
        *CAREGIVER,
        ANA,
        NOTE,
        IDEA,
        WHO_IT_HELPS,
        *(body for body in bodies if len(body) >= 12),
    ]
    code = re.search(r"code is (\d{6})", next(b for b in bodies if "engage code" in b))
    assert code is not None
    decoded = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for output in (captured.text(), decoded):
        assert not leaks(output, forbidden), leaks(output, forbidden)
        assert not re.search(rf"(?<![0-9a-f]){code.group(1)}(?![0-9a-f])", output)
    # The scan can fail: had the formatter let the planted line through, it would say so.
    unmasked = captured.text().replace("planted [phone] [email]", f"planted {PATIENT_PHONE} {ANA}")
    assert {PATIENT_PHONE, ANA} <= set(leaks(unmasked, forbidden))


# -- the request id ---------------------------------------------------------------------------
def test_a_callers_request_id_is_kept_and_sent_back(client, captured):
    answer = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.1_x"})
    assert answer.headers["X-Request-Id"] == "lb-7f3a.1_x"
    [line] = [line for line in captured.lines() if line.get("event") == "request"]
    assert line["request_id"] == "lb-7f3a.1_x"


@pytest.mark.parametrize(
    "given",
    ["", "has space", "x" * 65, "semi;colon", "<script>", "16175550164", "a@b.example.org"],
)
def test_an_unfit_request_id_is_replaced_by_a_new_one(client, captured, given):
    answer = client.get("/healthz", headers={"X-Request-Id": given})
    request_id = answer.headers["X-Request-Id"]
    assert request_id != given
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = [line for line in captured.lines() if line.get("event") == "request"]
    assert line["request_id"] == request_id


def test_every_request_gets_a_new_id(client):
    ids = {client.get("/healthz").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_a_failing_request_logs_the_masked_error_and_one_500_line(
    app, client, captured, monkeypatch
):
    def broken() -> str:
        raise RuntimeError(f"could not text {PATIENT_PHONE} or write to ops@clinic.example.org")

    monkeypatch.setitem(app.view_functions, "auth.sign_in", broken)
    answer = client.get("/sign-in")
    assert answer.status_code == 500
    lines = captured.lines()
    [request_line] = [line for line in lines if line.get("event") == "request"]
    assert (request_line["status"], request_line["level"]) == (500, "WARNING")
    assert request_line["request_id"] == answer.headers["X-Request-Id"]
    [error] = [line for line in lines if line["message"] == "unhandled error"]
    assert error["request_id"] == request_line["request_id"]
    assert "RuntimeError: could not text [phone] or write to [email]" in error["exc"]
    assert PATIENT_PHONE not in captured.text() and "ops@clinic" not in captured.text()


def test_a_job_line_says_failed_and_carries_the_run_id(app, captured):
    def fail() -> None:
        logging.getLogger("engage.test").info("about to fail")
        raise RuntimeError("boom")

    run_system_job(app, SystemJob(id="fail", run=fail))
    lines = captured.lines()
    [job_line] = [line for line in lines if line.get("event") == "job"]
    assert (job_line["job"], job_line["outcome"], job_line["level"]) == ("fail", "failed", "ERROR")
    assert job_line["duration_ms"] >= 0
    assert {line["request_id"] for line in lines} == {job_line["request_id"]}
    assert "job fail failed" in [line["message"] for line in lines]


# -- masking --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        *phone_formats("+16175550141"),
        "+1 (617) 555-0141",
        "1-617-555-0141",
        "+44 20 7946 0958",
        "+5215512345678",
    ],
)
def test_phone_numbers_are_masked_however_written(text):
    assert mask(f"texted {text}, then left") == "texted [phone], then left"


@pytest.mark.parametrize(
    "text", ["maya.r+ibd@example.org", "ops@clinic.example.co.uk", "FIRST.LAST@EXAMPLE.ORG"]
)
def test_email_addresses_are_masked(text):
    assert mask(f"to <{text}>.") == "to <[email]>."


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01T17:00:00.123Z",
        "2026-12-01 17:00:00+00:00",
        "127.0.0.1:5000",
        "10.0.0.0/8",
        "SM0123456789abcdef0123456789abcdef",
        "job-0123456789abcdef",
        "3f2a9c0b1d5e4f6789abcdef01234567",
        "outbox: 3 sent, 0 to retry, 1 failed",
        "GET /review/patients/12 200 in 8ms",
        "contact 1234 of check-in 567890",
        "schema at 0007, code expects 0008",
        "HTTP 400: code 21211",
    ],
)
def test_ids_times_and_counts_are_left_alone(text):
    assert mask(text) == text


def test_structured_fields_are_masked_and_keep_their_types():
    fields = {"contact_id": 12, "ok": True, "ms": 1.5, "to": "+16175550141", "n": 6175550141}
    assert masked_value(fields) == {
        "contact_id": 12,
        "ok": True,
        "ms": 1.5,
        "to": "[phone]",
        "n": "[phone]",
    }


def test_sql_parameters_never_reach_the_log():
    record = logging.LogRecord("engage.x", logging.ERROR, __file__, 1, "failed", None, None)
    try:
        raise RuntimeError(
            "(IntegrityError) duplicate\n[SQL: INSERT INTO messages (phone, body) VALUES (?, ?)]\n"
            "[parameters: ('+16175550141', 'my tummy hurts after pizza')]"
        )
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert "[SQL: INSERT INTO messages (phone, body) VALUES (?, ?)]" in line["exc"]
    assert "pizza" not in line["exc"] and "6175550141" not in line["exc"]


def test_a_json_line_has_the_standard_keys_and_fields_never_replace_them():
    record = logging.LogRecord(
        "engage.x", logging.INFO, __file__, 1, "sent %d to %s", (2, "+16175550141"), None
    )
    record.fields = {"message": "forged", "level": "forged", "contact_id": 7}
    line = json.loads(JsonFormatter().format(record))
    assert list(line)[:5] == ["time", "level", "logger", "message", "request_id"]
    assert (line["level"], line["message"], line["contact_id"]) == ("INFO", "sent 2 to [phone]", 7)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["request_id"] is None  # neither a request nor a job


def test_text_lines_are_masked_too():
    record = logging.LogRecord(
        "engage.x", logging.WARNING, __file__, 1, "to %s", ("(617) 555-0141",), None
    )
    text = TextFormatter().format(record)
    assert text.endswith("WARNING engage.x: to [phone]")


# -- settings and the handler ---------------------------------------------------------------
def test_json_in_production_and_text_in_development_by_default(tmp_path):
    assert logging_settings({}, development=False) == {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    assert logging_settings({}, development=True) == {"LOG_FORMAT": "text", "LOG_LEVEL": "INFO"}
    chosen = build_settings(
        {"ENGAGE_ENV": "development"},
        str(tmp_path),
        environ={"LOG_FORMAT": " JSON", "LOG_LEVEL": "debug"},
    )
    assert (chosen["LOG_FORMAT"], chosen["LOG_LEVEL"]) == ("json", "DEBUG")


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [("LOG_FORMAT", "xml", "not one of json, text"), ("LOG_LEVEL", "LOUD", "not one of DEBUG")],
)
def test_a_wrong_log_setting_stops_start_up_with_one_line(tmp_path, name, value, says):
    with pytest.raises(ConfigurationError, match=says) as raised:
        build_settings({"ENGAGE_ENV": "development"}, str(tmp_path), environ={name: value})
    assert "\n" not in str(raised.value)


@contextmanager
def bare_logging() -> Iterator[logging.Logger]:
    """The "engage" and root loggers as a fresh process has them: no handlers at all.

    Inside the test itself: pytest adds its own handlers to the root logger for each phase.
    """
    root, engage = logging.getLogger(), logging.getLogger("engage")
    saved = root.handlers, engage.handlers, engage.level
    root.handlers, engage.handlers = [], []
    try:
        yield engage
    finally:
        root.handlers, engage.handlers = saved[0], saved[1]
        engage.setLevel(saved[2])


def test_the_handler_is_installed_once_and_takes_the_last_format():
    with bare_logging() as engage:
        install_handler("text", "INFO")
        install_handler("json", "WARNING")
        install_handler("json", "INFO")
        [handler] = engage.handlers
        assert handler.get_name() == HANDLER_NAME
        assert isinstance(handler.formatter, JsonFormatter)
        assert engage.level == logging.INFO
        assert engage.propagate  # pytest's caplog, a host's handlers still see the records


def test_a_host_that_set_up_logging_keeps_its_handlers():
    with bare_logging() as engage:
        logging.getLogger().handlers.append(logging.NullHandler())
        install_handler("json", "INFO")
        assert engage.handlers == []


def test_werkzeug_access_lines_are_dropped_and_its_other_lines_kept():
    install_handler("json", "INFO")
    werkzeug = logging.getLogger("werkzeug")

    def record(msg: str, *args: Any) -> logging.LogRecord:
        return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, None)

    access = record(
        '127.0.0.1 - - [01/Dec/2026 12:00:00] "%s" %s %s', "GET /?to=+1617 HTTP/1.1", "200", "-"
    )
    assert not werkzeug.filter(access)
    assert werkzeug.filter(record(" * Running on %s", "http://127.0.0.1:5000"))
