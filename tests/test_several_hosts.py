"""Two web hosts and two scheduler processes on one PostgreSQL run a day for 2,000 patients.

The layout of docs/operations.md, on one machine: two gunicorn "hosts" (two workers each)
behind what a TLS proxy would send (``X-Forwarded-*``, ``TRUSTED_PROXIES=1``, webhooks
signed over ``PUBLIC_BASE_URL``), two ``flask engage scheduler`` processes, one database,
and the real twilio library sending to a fake Twilio REST server on loopback.

Every process reads its clock from one CLOCK_OFFSET_FILE, which this test moves through
a simulated Tuesday and the night after. The test plays 2,000 patients' and parents'
phones: it reads what the fake Twilio received, reports delivery through signed status
callbacks, and answers through signed webhooks to either host, sending some replies twice
at once to both hosts as Twilio's retries can. Some patients answer everything, some
stop half-way, some never answer, some text STOP, some phones cannot be reached, and
100 parents answer for two children each on one phone.

Then: every check-in was opened once and sent once, every reply was stored and answered
once, each patient's check-in ended as their behaviour says, and /metrics on both web
hosts and both schedulers showed the outbox and delivery figures during the day and the
database's truth at its end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import psycopg
import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import FAKE_TWILIO_ACCOUNT_SID as ACCOUNT_SID
from tests.conftest import FAKE_TWILIO_AUTH_TOKEN as AUTH_TOKEN
from tests.conftest import consenting_phone, require_postgres
from tests.fake_twilio import logged_messages as received
from tests.metric_samples import Samples, parse_samples, sample_sum, sample_value
from tests.processes import PROJECT_ROOT, flask_command

TEENS = 1_800
FAMILIES = 100  # a parent answering for two children on one phone
PATIENTS = TEENS + 2 * FAMILIES
PUBLIC_BASE_URL = "https://engage.test"
METRICS_TOKEN = "several-hosts-metrics-token"
SERVICE_SID = "MG" + "6" * 32
SERVICE_PHONE = "+16175550100"
# Tuesday 1 December 2026, 08:00 in New York: before anyone is due.
DAY_STARTS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
ENROLLED_AT = DAY_STARTS - timedelta(days=1)
EXPIRY_HOURS = 12
REMINDER_HOURS = 2


@dataclass(frozen=True)
class Behaviour:
    """How one phone treats its check-in, and how that check-in must end."""

    name: str
    expected: str  # the check-in's final status


COMPLETE = Behaviour("answers everything", "completed")
PARTIAL = Behaviour("answers the first question only", "expired")
SILENT = Behaviour("never answers", "missed")
STOPS = Behaviour("texts STOP", "cancelled")
UNREACHABLE = Behaviour("cannot be reached", "missed")


def teen_behaviour(n: int) -> Behaviour:
    if n % 20 == 0:
        return STOPS
    if n % 50 == 7:
        return UNREACHABLE
    if n % 10 == 3:
        return SILENT
    if n % 10 == 5:
        return PARTIAL
    return COMPLETE


def teen_phone(n: int) -> str:
    return f"+1617{2_000_000 + n:07d}"


def parent_phone(k: int) -> str:
    return f"+1646{3_000_000 + k:07d}"


# -- the network ---------------------------------------------------------------------------


def seed_network(database_url: str) -> dict[str, Behaviour]:
    """Migrate, then enroll 2,000 patients through engage's own services; return the
    behaviour of each patient, by MRN."""
    import flask_migrate

    from engage import create_app
    from engage.db import db, unit_of_work
    from engage.network.models import Network
    from engage.network.services import add_center
    from engage.people.models import Diagnosis, Relationship
    from engage.people.services import (
        add_caregiver,
        add_patient,
        link_caregiver,
    )
    from engage.scheduling.models import ScheduleKind
    from engage.scheduling.schedules import Schedule
    from engage.scheduling.services import enroll

    app = create_app(
        {"ENGAGE_ENV": "development", "DATABASE_URL": database_url, "SMS_TRANSPORT": "outbox"}
    )
    expected: dict[str, Behaviour] = {}

    def weekly(center: Any, at: clock_time) -> Schedule:
        return Schedule(
            kind=ScheduleKind.RECURRING,
            time_zone=center.time_zone,
            weekdays=("tue",),
            local_time=at,
        )

    with app.app_context():
        flask_migrate.upgrade()
        with unit_of_work() as session:
            network = Network(slug="sim", name="Simulated network")
            session.add(network)
            east = add_center(network, code="EAST", name="East", time_zone="America/New_York")
            west = add_center(network, code="WEST", name="West", time_zone="America/Los_Angeles")
            patients = []
            for n in range(TEENS):
                center = east if n % 2 == 0 else west
                patient = add_patient(
                    center,
                    mrn=f"T-{n:04d}",
                    given_name="Teen",
                    family_name=f"Sim{n}",
                    date_of_birth=date(2012, 3, 1),
                    diagnosis=Diagnosis.CROHNS_DISEASE,
                )
                consenting_phone(patient, teen_phone(n))
                # Half-hour slots from 09:00 to 18:30 local time.
                at = clock_time(9 + (n % 20) // 2, 30 * (n % 2))
                patients.append((patient, weekly(center, at)))
                expected[patient.mrn] = teen_behaviour(n)
            for k in range(FAMILIES):
                center = east if k % 2 == 0 else west
                parent = add_caregiver(given_name="Parent", family_name=f"Sim{k}")
                consenting_phone(parent, parent_phone(k))
                for child in range(2):
                    patient = add_patient(
                        center,
                        mrn=f"F-{k:03d}-{child}",
                        given_name=("Ana", "Ben")[child],
                        family_name=f"Sim{k}",
                        date_of_birth=date(2018 - 2 * child, 6, 1),
                        diagnosis=Diagnosis.ULCERATIVE_COLITIS,
                    )
                    link_caregiver(
                        parent, patient, relationship=Relationship.PARENT, may_answer_as_proxy=True
                    )
                    patients.append((patient, weekly(center, clock_time(17, 0))))
                    expected[patient.mrn] = COMPLETE
            session.flush()
            for patient, schedule in patients:
                enroll(patient, "ibd-symptoms", schedule, now=ENROLLED_AT)
        db.engine.dispose()
    return expected


# -- the processes -------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    output: Path
    base_url: str = ""


def environ_for(database_url: str, twilio_url: str, clock_file: Path) -> dict[str, str]:
    from engage.config import ENVIRONMENT_VARIABLES

    clean = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT_VARIABLES}
    clean.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return {
        **clean,
        "ENGAGE_ENV": "production",
        "SECRET_KEY": "several-hosts-secret",
        "DATABASE_URL": database_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        "TWILIO_API_URL": twilio_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TRUSTED_PROXIES": "1",
        "METRICS_TOKEN": METRICS_TOKEN,
        "CLOCK_OFFSET_FILE": str(clock_file),
        "CHECKIN_EXPIRY_HOURS": str(EXPIRY_HOURS),
        "REMINDER_AFTER_HOURS": str(REMINDER_HOURS),
        "SCHEDULER_TICK_SECONDS": "1",
        "SCHEDULER_JOB_SECONDS": "send_reminders=1,expire_stale_checkins=1",
        "SEND_RATE_PER_SECOND": "200",
        "LOG_FORMAT": "json",
    }


def start_web_host(name: str, environ: dict[str, str], folder: Path) -> Process:
    port = free_port()
    metrics_dir = folder / f"{name}-metrics"
    metrics_dir.mkdir()
    output = folder / f"{name}.log"
    popen = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--timeout", "60", "wsgi:app"],
        cwd=PROJECT_ROOT,
        env={**environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    return Process(name, popen, output, f"http://127.0.0.1:{port}")


def start_scheduler(name: str, environ: dict[str, str], folder: Path) -> Process:
    port = free_port()
    output = folder / f"{name}.log"
    popen = subprocess.Popen(
        flask_command("engage", "scheduler", "--http", f"127.0.0.1:{port}"),
        cwd=PROJECT_ROOT,
        env=environ,
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return Process(name, popen, output, f"http://127.0.0.1:{port}")


def wait_until_ready(process: Process, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.popen.poll() is None, f"{process.name} exited:\n{process.output.read_text()}"
        try:
            with urllib.request.urlopen(process.base_url + "/readyz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or no worker has booted to answer
            pass
        time.sleep(0.2)
    pytest.fail(f"{process.name} never became ready:\n{process.output.read_text()[-3000:]}")


def stop(processes: list[Process]) -> None:
    for process in processes:
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()


def scrape(process: Process) -> Samples:
    request = urllib.request.Request(
        process.base_url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return parse_samples(text)


# -- the simulated clock -------------------------------------------------------------------


class SimulatedClock:
    """Moves every process's clock by rewriting the offset file they all read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0.0

    def set(self, moment: datetime) -> None:
        self.offset = (moment - datetime.now(UTC)).total_seconds()
        partial = self.path.with_suffix(".partial")
        partial.write_text(f"{self.offset:.6f}\n")
        os.replace(partial, self.path)  # readers see the old offset or the new, never half

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)


# -- the phones ----------------------------------------------------------------------------


def question_answers() -> dict[str, str]:
    """Each question of ibd-symptoms as engage texts it, and the answer a well child gives."""
    from engage.instruments.loader import load_library
    from engage.instruments.model import ItemType
    from engage.instruments.render import item_message

    library = load_library([PROJECT_ROOT / "prompts"])
    instrument = library.instruments["ibd-symptoms"]
    answers = {}
    for item in instrument.items:
        answer = "no" if item.type is ItemType.YES_NO else "1"
        for proxy in (False, True):
            answers[item_message(item, "en", proxy=proxy)] = answer
    return answers


def twiml_texts(body: str) -> list[str]:
    return [element.text or "" for element in ElementTree.fromstring(body).iter("Message")]


@dataclass
class PhoneState:
    behaviour: Behaviour
    lock: threading.Lock = field(default_factory=threading.Lock)
    answered: int = 0
    stopped: bool = False


class Phones:
    """2,000 patients' and parents' phones: they read what Twilio delivers and answer."""

    def __init__(self, behaviours: dict[str, Behaviour], hosts: list[Process], log: Path):
        self.phones = {phone: PhoneState(b) for phone, b in behaviours.items()}
        self.hosts = hosts
        self.log = log
        self.answers = question_answers()
        self.executor = ThreadPoolExecutor(max_workers=12)
        self.lock = threading.Lock()
        self.pending = 0
        self.read_upto = 0
        self.sids = count(1)
        self.posts = count()
        self.inbound_sids: list[str] = []
        self.undelivered = 0
        self.unrecognised: Counter[str] = Counter()
        self.errors: list[str] = []

    # what reaches the phones

    def poll(self) -> None:
        """Hand each message the fake Twilio received since the last look to its phone."""
        records = received(self.log)
        for record in records[self.read_upto :]:
            self.submit(self.deliver, record)
        self.read_upto = len(records)

    def idle(self) -> bool:
        with self.lock:
            return self.pending == 0

    def submit(self, work: Any, *args: Any) -> None:
        with self.lock:
            self.pending += 1

        def run() -> None:
            try:
                work(*args)
            except Exception as error:  # a phone's failure is the test's failure, reported
                self.errors.append(f"{type(error).__name__}: {error}")
            finally:
                with self.lock:
                    self.pending -= 1

        self.executor.submit(run)

    def deliver(self, record: dict[str, Any]) -> None:
        phone = self.phones[record["to"]]
        reachable = phone.behaviour is not UNREACHABLE
        self.status_callback(record, "delivered" if reachable else "undelivered")
        if reachable:
            with phone.lock:
                self.read(record["to"], phone, [record["body"]])

    def read(self, number: str, phone: PhoneState, texts: list[str]) -> None:
        """Answer what calls for an answer, as this phone's owner would, until nothing does."""
        while texts:
            reply = None
            for text in texts:
                reply = self.reply_to(phone, text) or reply
            if reply is None:
                return
            texts = self.text_engage(number, reply)

    def reply_to(self, phone: PhoneState, text: str) -> str | None:
        behaviour = phone.behaviour
        if phone.stopped or behaviour in (SILENT, UNREACHABLE):
            return None
        if text.startswith("Which child is this about?"):
            return "1"
        answer = next((a for q, a in self.answers.items() if q in text), None)
        if answer is None:
            self.unrecognised[text[:60]] += 1
            return None
        if behaviour is STOPS:
            phone.stopped = True
            return "STOP"
        if behaviour is PARTIAL and phone.answered >= 1:
            return None
        phone.answered += 1
        return answer

    # what the phones send

    def text_engage(self, number: str, body: str) -> list[str]:
        sid = f"SM{next(self.sids):032d}"
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": number,
            "To": SERVICE_PHONE,
            "Body": body,
            "NumMedia": "0",
        }
        self.inbound_sids.append(sid)
        n = next(self.posts)
        host = self.hosts[n % 2]
        if n % 7 == 0:
            # Twilio retries a webhook it thinks failed: the same message, to the other host,
            # at the same moment.
            twin = self.hosts[(n + 1) % 2]
            retry = threading.Thread(target=self.post, args=(twin, "/twilio/sms", params))
            retry.start()
            answer = self.post(host, "/twilio/sms", params)
            retry.join()
        else:
            answer = self.post(host, "/twilio/sms", params)
        return twiml_texts(answer)

    def status_callback(self, record: dict[str, Any], status: str) -> None:
        params = {
            "MessageSid": record["sid"],
            "MessageStatus": status,
            "AccountSid": ACCOUNT_SID,
            "To": record["to"],
            "From": SERVICE_PHONE,
        }
        if status == "undelivered":
            params["ErrorCode"] = "30003"
            with self.lock:
                self.undelivered += 1
        callback = urlsplit(record["status_callback"])
        path = callback.path + (f"?{callback.query}" if callback.query else "")
        self.post(
            self.hosts[next(self.posts) % 2], path, params, signed_url=record["status_callback"]
        )

    def post(
        self, host: Process, path: str, params: dict[str, str], signed_url: str | None = None
    ) -> str:
        url = signed_url or PUBLIC_BASE_URL + path
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        request = urllib.request.Request(
            host.base_url + path,
            data=urlencode(params).encode(),
            headers={
                "X-Twilio-Signature": signature,
                # What the TLS proxy in front of every host adds.
                "X-Forwarded-For": "54.172.60.1",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "engage.test",
            },
        )
        for attempt in range(5):
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return str(response.read().decode())  # 200 with TwiML, or 204
            except urllib.error.HTTPError as error:
                detail = error.read()[:300]
                raise AssertionError(f"{path} answered {error.code}: {detail!r}") from None
            except (urllib.error.URLError, ConnectionError):
                if attempt == 4:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")


# -- the day -------------------------------------------------------------------------------

BUSY = """
SELECT
  (SELECT count(*) FROM enrollments WHERE status = 'active' AND next_due_at <= %(now)s),
  (SELECT count(*) FROM messages WHERE status = 'submitting'
      OR (status = 'queued' AND coalesce(next_attempt_at, created_at) <= %(now)s)),
  (SELECT count(*) FROM checkins WHERE status IN ('sent', 'in_progress')
      AND expires_at <= %(now)s),
  (SELECT count(*) FROM messages)
"""
# Reminders are not counted above (quiet hours hold some back till morning): a beat of
# silence longer than a scheduler tick says the reminder job found nothing more to send.
STEADY_SECONDS = 2.5


def wait_for_quiet(
    connection: psycopg.Connection,
    clock: SimulatedClock,
    phones: Phones,
    watch: Callable[[], None],
) -> None:
    """Until nothing is due, queued or past its window, and no message appeared for a beat;
    ``watch`` (a scrape of /metrics) runs about once a second meanwhile."""
    deadline = time.monotonic() + 180
    last_total, steady_since = -1, time.monotonic()
    busy: tuple[int, ...] = ()
    next_watch = 0.0
    while time.monotonic() < deadline:
        assert not phones.errors, phones.errors[:5]
        if time.monotonic() >= next_watch:
            watch()
            next_watch = time.monotonic() + 1.0
        phones.poll()
        due, queued, stale, total = connection.execute(BUSY, {"now": clock.now()}).fetchone()
        if total != last_total or not phones.idle():
            last_total, steady_since = total, time.monotonic()
        busy = (due, queued, stale)
        if busy == (0, 0, 0) and time.monotonic() - steady_since > STEADY_SECONDS:
            return
        time.sleep(0.2)
    pytest.fail(f"the day stalled at {clock.now():%H:%M}: due, queued, past window = {busy}")


def day_of_simulated_time() -> list[datetime]:
    """Hourly steps through the day, then two-hourly ones until the last check-in expires."""
    steps = [DAY_STARTS + timedelta(hours=h) for h in range(15)]  # to 03:00 UTC
    steps += [steps[-1] + timedelta(hours=h) for h in range(2, EXPIRY_HOURS + 3, 2)]
    return steps


def test_two_web_hosts_and_two_schedulers_run_a_day_for_2000_patients(
    new_database, fake_twilio, tmp_path
):
    require_postgres()
    database_url = new_database("postgresql")
    twilio_url, twilio_log = fake_twilio
    behaviours = seed_network(database_url)
    clock_file = tmp_path / "clock-offset"
    clock = SimulatedClock(clock_file)
    clock.set(DAY_STARTS)
    environ = environ_for(database_url, twilio_url, clock_file)

    processes = [
        start_web_host("web-1", environ, tmp_path),
        start_web_host("web-2", environ, tmp_path),
        start_scheduler("scheduler-1", environ, tmp_path),
        start_scheduler("scheduler-2", environ, tmp_path),
    ]
    webs = processes[:2]
    by_phone: dict[str, Behaviour] = {}
    for n in range(TEENS):
        by_phone[teen_phone(n)] = teen_behaviour(n)
    for k in range(FAMILIES):
        by_phone[parent_phone(k)] = COMPLETE
    phones = Phones(by_phone, webs, twilio_log)
    during: list[dict] = []
    try:
        for process in processes:
            wait_until_ready(process)
        with psycopg.connect(database_url, autocommit=True) as connection:
            due_times = connection.execute(
                "SELECT min(next_due_at), max(next_due_at), count(*) FROM enrollments"
            ).fetchone()
            assert due_times[0] > DAY_STARTS and due_times[2] == PATIENTS, due_times
            assert due_times[1] < DAY_STARTS + timedelta(hours=14), due_times

            def watch() -> None:
                during.append({"web": scrape(webs[len(during) % 2]), "at": clock.now()})

            for moment in day_of_simulated_time():
                clock.set(moment)
                wait_for_quiet(connection, clock, phones, watch)
            assert not phones.errors, phones.errors[:5]
            # Half past: /metrics counts the last 24 hours' messages, and no message was
            # written near the half hour, so the window's edge falls between them.
            clock.set(moment + timedelta(minutes=30))
            day_before = moment + timedelta(minutes=30) - timedelta(hours=24)

            statuses = dict(
                connection.execute(
                    "SELECT p.mrn, c.status FROM checkins c JOIN patients p ON p.id = c.patient_id"
                ).fetchall()
            )
            checkins, enrollments = connection.execute(
                "SELECT count(*), count(DISTINCT enrollment_id) FROM checkins"
            ).fetchone()
            sent = connection.execute(
                "SELECT twilio_sid, phone FROM messages WHERE direction = 'outbound'"
                " AND twilio_sid IS NOT NULL AND status <> 'replied'"
            ).fetchall()
            inbound = Counter(
                sid
                for (sid,) in connection.execute(
                    "SELECT twilio_sid FROM messages WHERE direction = 'inbound'"
                )
            )
            answers_per_checkin = Counter(
                count_
                for (count_,) in connection.execute(
                    "SELECT count(*) FROM answers a JOIN checkins c ON c.id = a.checkin_id"
                    " WHERE c.status = 'completed' GROUP BY a.checkin_id"
                )
            )
            undeliverable = connection.execute(
                "SELECT count(*) FROM messages WHERE status = 'undelivered' AND error_code = '30003'"
            ).fetchone()[0]
            truth = dict(
                connection.execute("SELECT status, count(*) FROM checkins GROUP BY status")
            )
            failures_last_24h, delivered_last_24h = connection.execute(
                "SELECT count(*) FILTER (WHERE status = 'undelivered' AND error_code = '30003'),"
                " count(*) FILTER (WHERE status = 'delivered')"
                " FROM messages WHERE direction = 'outbound' AND created_at >= %s",
                (day_before,),
            ).fetchone()
            waiting_statuses = connection.execute(
                "SELECT count(*) FROM early_status_callbacks"
            ).fetchone()[0]

        # Every check-in was opened once, and ended as its patient's behaviour says.
        assert (checkins, enrollments) == (PATIENTS, PATIENTS)
        wrong = {
            mrn: (statuses.get(mrn), b.expected)
            for mrn, b in behaviours.items()
            if statuses.get(mrn) != b.expected
        }
        assert not wrong, (
            f"{len(wrong)} check-ins ended wrongly, e.g. {list(wrong.items())[:8]}; unrecognised texts: {phones.unrecognised.most_common(5)}"
        )

        # Every message was handed to Twilio once: what the fake received is what was sent.
        delivered = received(twilio_log)
        assert Counter(r["sid"] for r in delivered).most_common(1)[0][1] == 1
        assert sorted(r["sid"] for r in delivered) == sorted(sid for sid, _ in sent)
        assert len(delivered) >= 2 * PATIENTS - 2 * FAMILIES  # intro and first question

        # Every reply was stored once, retries included, and answered once.
        assert sorted(inbound) == sorted(set(phones.inbound_sids))
        assert set(inbound.values()) == {1}
        assert set(answers_per_checkin) <= {6, 7}, answers_per_checkin
        assert undeliverable == phones.undelivered > 0
        assert waiting_statuses == 0  # every status that came early found its message

        # /metrics showed the outbox and deliveries during the day, and the truth at its end.
        assert any(
            sample_value(s["web"], "engage_outbox_depth", state="due")
            + sample_value(s["web"], "engage_outbox_depth", state="in_flight")
            > 0
            for s in during
        ), "no scrape saw a message waiting in the outbox"
        assert (
            max(
                sample_sum(s["web"], "engage_messages_last_24h", status="delivered") for s in during
            )
            > 0
        )
        time.sleep(10.5)  # let every process's cached database figures expire
        final = [scrape(process) for process in processes]
        for samples in final:
            for status, number in truth.items():
                assert sample_value(samples, "engage_checkins_last_7d", status=status) == number
            assert sample_value(samples, "engage_outbox_depth", state="due") == 0
            failures = sample_value(samples, "engage_message_failures_last_24h", error_code="30003")
            assert failures == failures_last_24h > 0
            delivered_figure = sample_value(
                samples, "engage_messages_last_24h", direction="outbound", status="delivered"
            )
            assert delivered_figure == delivered_last_24h > 0
        webhook_calls = sum(
            sample_sum(samples, "engage_webhook_duration_seconds_count") for samples in final[:2]
        )
        assert webhook_calls >= len(phones.inbound_sids) + len(delivered)
        for samples in final[2:]:
            assert (
                sample_value(samples, "engage_job_runs_total", job="send_outbox", outcome="ok") > 0
            )
            assert (
                sample_value(
                    samples, "engage_job_runs_total", job="open_due_checkins", outcome="failed"
                )
                == 0
            )
    finally:
        stop(processes)
        phones.executor.shutdown(wait=False, cancel_futures=True)

    for process in processes:
        output = process.output.read_text()
        assert "Traceback" not in output, f"{process.name}:\n{output[-3000:]}"
        # The logs of a whole day of 2,000 families name none of their phones.
        logged = [number for number in by_phone if number[2:] in output]
        assert not logged, f"{process.name} logged phone numbers, e.g. {logged[:3]}"
        assert '"event": "request"' in output or "scheduler" in process.name
    print(
        f"check-ins: {truth}; sent to Twilio: {len(delivered)}; replies: "
        f"{len(phones.inbound_sids)}; scrapes during the day: {len(during)}"
    )
