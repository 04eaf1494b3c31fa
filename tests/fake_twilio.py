"""A fake of Twilio's Messages API on loopback, for tests that send through the real library.

It answers ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` as Twilio does: basic
auth with the account SID and auth token, a 201 with a Message resource the twilio library
parses, and Twilio's error JSON otherwise. Faults are scripted per recipient and consumed
in order, so a test can make one number get a 429, then a 500, then succeed.

In-process::

    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, faults={"+16175550100": [{"status": 429}]}) as fake:
        ...  # point the client at fake.url
        assert [m["to"] for m in fake.received()] == ["+16175550100"]

As a process, for tests whose senders are other processes (prints its URL first)::

    python -m tests.fake_twilio --port 0 --account-sid AC... --auth-token secret \\
        --log received.jsonl --latency-ms 5 --faults '{"+16175550100": [{"status": 500}]}'

A fault is a dict with any of: ``delay`` (seconds to wait before answering), ``status``
(an HTTP error status, answered in Twilio's error shape), ``code`` and ``message`` (the
Twilio error code and text; defaults follow the status), ``disconnect`` (close the
connection without answering). A fault with only a ``delay`` is a slow success: the
message is accepted and recorded when the delay ends, even if the client gave up by then,
which is what makes a timed-out send ambiguous against the real Twilio too.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import signal
import socket
import sys
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import parse_qs

API_VERSION = "2010-04-01"
POLL_INTERVAL = 0.05  # how soon stop() is noticed
MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")

# Twilio's own codes and texts for the statuses a test is likely to script.
DEFAULT_ERRORS: dict[int, tuple[int, str]] = {
    400: (21211, "The 'To' number is not a valid phone number."),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    405: (20004, "Method not allowed"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service unavailable"),
}

# The GSM 03.38 basic set and its extension table (an extension character takes two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def segment_count(body: str) -> int:
    """How many SMS segments Twilio would bill for this body."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body):
        units, single, multi = sum(2 if c in GSM7_EXTENSION else 1 for c in body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


def error_payload(status: int, code: int | None = None, message: str | None = None) -> dict:
    default_code, default_message = DEFAULT_ERRORS.get(status, (20500, "Error"))
    code = default_code if code is None else code
    return {
        "code": code,
        "message": default_message if message is None else message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


class FakeTwilio:
    """A Twilio Messages API on 127.0.0.1, served from a daemon thread."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        faults: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        latency_ms: float = 0,
        log_path: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency_ms / 1000
        self.log_path = Path(log_path) if log_path is not None else None
        self._lock = threading.Lock()
        self._faults: defaultdict[str, deque[dict[str, Any]]] = defaultdict(deque)
        for phone, responses in (faults or {}).items():
            self.add_faults(phone, *responses)
        self._received: list[dict[str, Any]] = []
        self._attempts: list[dict[str, Any]] = []
        self._log: IO[str] | None = None
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._server = _Server((host, port), _handler_for(self))

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        self._open_log()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name="fake-twilio",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve from the calling thread until stop() is called from another."""
        self._open_log()
        self._server.serve_forever(poll_interval=POLL_INTERVAL)

    def _open_log(self) -> None:
        if self.log_path is not None and self._log is None:
            self._log = self.log_path.open("a", encoding="utf-8")

    def stop(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def add_faults(self, phone: str, *responses: Mapping[str, Any]) -> None:
        """Queue scripted answers for one recipient, after any already queued."""
        with self._lock:
            self._faults[phone].extend(dict(response) for response in responses)

    def pending_faults(self, phone: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._faults.get(phone, ()))

    def received(self) -> list[dict[str, Any]]:
        """The accepted messages so far, oldest first (copies)."""
        with self._lock:
            return [dict(message) for message in self._received]

    def attempts(self) -> list[dict[str, Any]]:
        """Every Messages request, accepted or not: to, status answered, received_at."""
        with self._lock:
            return [dict(attempt) for attempt in self._attempts]

    def _next_fault(self, phone: str) -> dict[str, Any] | None:
        with self._lock:
            queue = self._faults.get(phone)
            return queue.popleft() if queue else None

    def _note_attempt(self, to: str, status: int) -> None:
        with self._lock:
            self._attempts.append({"to": to, "status": status, "received_at": _now_iso()})

    def _accept(self, account_sid: str, form: dict[str, str]) -> dict[str, Any]:
        now = datetime.now(UTC)
        sid = "SM" + uuid.uuid4().hex
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
        body = form.get("Body", "")
        messaging_service_sid = form.get("MessagingServiceSid")
        resource = {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": rfc2822(now),
            "date_sent": None,
            "date_updated": rfc2822(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": messaging_service_sid,
            "num_media": "0",
            "num_segments": str(segment_count(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"{uri}/Media.json",
                "feedback": f"{uri}/Feedback.json",
            },
            "to": form.get("To"),
            "uri": f"{uri}.json",
        }
        record = {
            "sid": sid,
            "to": form.get("To"),
            "body": body,
            "status_callback": form.get("StatusCallback"),
            "from": form.get("From"),
            "messaging_service_sid": messaging_service_sid,
            "received_at": now.isoformat(),
        }
        with self._lock:
            self._received.append(record)
            self._attempts.append({"to": record["to"], "status": 201, "received_at": _now_iso()})
            if self._log is not None:
                self._log.write(json.dumps(record) + "\n")
                self._log.flush()
        return resource


class _Server(ThreadingHTTPServer):
    # Several sender processes connect at once; the default backlog of 5 would make
    # some wait for a SYN retry (a second) and look like Twilio latency.
    request_queue_size = 128
    # A delayed answer must not hold up stop(); its thread wakes on _closing instead.
    block_on_close = False


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as requests' session expects; every answer carries Content-Length.
        protocol_version = "HTTP/1.1"
        server_version = "FakeTwilio/1"
        # Headers and body go out in separate writes; with Nagle on, the body waits
        # for the client's delayed ACK (40 ms a request on Linux).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would drown a test's output

        def do_POST(self) -> None:
            form = self._read_form()
            if fake.latency:
                time.sleep(fake.latency)
            match = MESSAGES_PATH.match(self.path.split("?", 1)[0])
            if match is None:
                self._send_error(404)
                return
            if not self._authorized():
                self._send_error(401, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
                return
            if match["account"] != fake.account_sid:
                self._send_error(404)
                return
            to = form.get("To", "")
            fault = fake._next_fault(to)
            if fault is not None:
                if fault.get("delay") and fake._closing.wait(float(fault["delay"])):
                    self.close_connection = True  # stopped mid-delay: answer nothing
                    return
                if fault.get("disconnect"):
                    fake._note_attempt(to, 0)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault.get("status"):
                    status = int(fault["status"])
                    fake._note_attempt(to, status)
                    self._send_error(status, fault.get("code"), fault.get("message"))
                    return
            problem = _missing_field(form)
            if problem is not None:
                fake._note_attempt(to, 400)
                self._send_error(400, *problem)
                return
            self._send_json(201, fake._accept(match["account"], form))

        def do_GET(self) -> None:
            self._send_error(405)

        def _read_form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            return {key: values[-1] for key, values in parse_qs(raw).items()}

        def _authorized(self) -> bool:
            scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            user, _, password = decoded.partition(":")
            return user == fake.account_sid and password == fake.auth_token

        def _send_error(
            self,
            status: int,
            code: int | None = None,
            message: str | None = None,
            headers: Mapping[str, str] | None = None,
        ) -> None:
            self._send_json(status, error_payload(status, code, message), headers)

        def _send_json(
            self, status: int, payload: dict, headers: Mapping[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a scripted delay beyond its timeout): nobody to answer.
                self.close_connection = True

    return Handler


def _missing_field(form: dict[str, str]) -> tuple[int, str] | None:
    if not form.get("To"):
        return 21604, "A 'To' phone number is required."
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return 21603, "A 'From' phone number is required."
    if not form.get("Body") and not form.get("MediaUrl"):
        return 21602, "Message body is required."
    return None


def load_faults(value: str) -> dict[str, list[dict[str, Any]]]:
    """Faults from JSON text, or from a file when the value starts with @."""
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    faults = json.loads(text)
    if not isinstance(faults, dict) or not all(isinstance(v, list) for v in faults.values()):
        raise argparse.ArgumentTypeError("faults must map a phone number to a list of responses")
    return faults


def logged_messages(log: Path) -> list[dict]:
    """Every message the fake server logged so far; a line it is still writing waits for the
    next look (the server runs in another process and may be mid-line)."""
    if not log.exists():
        return []
    text = log.read_text()
    complete = text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_twilio", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--log", type=Path, help="append one JSON line per accepted message")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument(
        "--faults", type=load_faults, default={}, help="JSON {phone: [response, ...]} or @file"
    )
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        faults=args.faults,
        latency_ms=args.latency_ms,
        log_path=args.log,
        host=args.host,
        port=args.port,
    )

    def stop(signum: int, frame: Any) -> None:
        # shutdown() waits for serve_forever to return, so it cannot run on that thread.
        threading.Thread(target=fake.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on {fake.url}", flush=True)
    fake.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
