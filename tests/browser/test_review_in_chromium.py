"""A clinician's round trip in a real headless Chromium, against the app served as `make run` does.

Sign in, open the clinic day, follow a patient's link to their summary with its score chart,
sign out. The browser is Debian's ``chromium`` driven by Playwright; Playwright's own browser
downloads are never used. Outside CI a missing browser skips with the reason; with CI=true it
fails. Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from engage.demo.seed import DEMO_STAFF_PASSWORD
from tests.conftest import running_in_ci
from tests.processes import PROJECT_ROOT, development_environ, flask_command, run_flask

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
ANA = "ana.rivera@east.example.org"  # clinician at EAST
NOAH = "+16175550102"  # E-1002 answers his own check-ins
NOAH_ANSWERS = "1\nnone\nformed\ntwo\nnope\nnot at all\n/quit\n"
JORDAN = "jordan.lee@network.example.org"  # network reviewer
LAURA = "+16175550101"  # Mia's and Noah's mother
LAURA_IDEA = (
    "IDEA Please text us the lab results, the portal makes Mia wait days\n"
    "Parents of kids on infusions\nyes\nNAME\n/quit\n"
)
STEP_TIMEOUT_MS = 10_000
SERVER_START_SECONDS = 30


def missing_browser() -> str | None:
    """Why this machine cannot run the browser test, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (apt-get install chromium, or `make test` as root)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DemoServer:
    base_url: str
    visit_day: str  # E-1002's demo visit, YYYY-MM-DD in the center's time zone
    log: Path
    database: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args[3:]}: {result.stdout}{result.stderr}"
    return result


def wait_for_healthz(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if json.load(response).get("status") == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base_url}/healthz did not answer ok within {SERVER_START_SECONDS} s")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; skipped (failed with CI=true) when it is not here."""
    reason = missing_browser()
    if reason is not None:
        if running_in_ci():
            pytest.fail(f"CI=true needs the browser test to run: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: Chromium's sandbox refuses to start as root, as tests run here and in CI.
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless=new", "--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


def chat_as(phone: str, lines: str, environ: dict[str, str]) -> str:
    """Text through the simulator (`flask engage chat`), as a family would; its output."""
    chat = subprocess.run(
        flask_command("engage", "chat", phone),
        cwd=PROJECT_ROOT,
        env=environ,
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return checked(chat).stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo network with one answered check-in, served on a free loopback port."""
    folder = tmp_path_factory.mktemp("browser")
    environ = development_environ(folder / "engage.sqlite3")
    checked(run_flask("db", "upgrade", environ=environ))
    checked(run_flask("engage", "demo", environ=environ))
    checked(run_flask("engage", "checkin", "start", "E-1002", "ibd-symptoms", environ=environ))
    chat = chat_as(NOAH, NOAH_ANSWERS, environ)
    assert "Your symptoms this week: Remission." in chat, chat
    idea_chat = chat_as(LAURA, LAURA_IDEA, environ)
    assert "We'll text you what becomes of I-" in idea_chat, idea_chat
    visits = checked(run_flask("engage", "visit", "list", "E-1002", environ=environ)).stdout
    visit_day = re.search(r"at EAST (\d{4}-\d\d-\d\d) ", visits)
    assert visit_day is not None, visits

    port = free_port()
    log = folder / "server.log"
    # A file, not a pipe: nobody reads the server's output while the browser works, and a
    # full pipe would stall it.
    with log.open("wb") as output:
        process = subprocess.Popen(
            flask_command("engage", "serve", "--host", "127.0.0.1", "--port", str(port)),
            cwd=PROJECT_ROOT,
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    demo = DemoServer(
        f"http://127.0.0.1:{port}", visit_day.group(1), log, folder / "engage.sqlite3"
    )
    try:
        try:
            wait_for_healthz(demo.base_url, process)
        except AssertionError as problem:
            raise AssertionError(f"{problem}\n{demo.log_tail()}") from None
        yield demo
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@dataclass
class Trouble:
    """What a page did wrong on the way: console errors, uncaught errors, failed requests."""

    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self.on_request_failed)
        page.on("response", self.on_response)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location})")

    def on_request_failed(self, request: Request) -> None:
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )


@pytest.fixture
def page(browser: Browser, server: DemoServer) -> Iterator[tuple[Page, Trouble]]:
    """A fresh browser context (no cookies) and a record of what went wrong in it."""
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    tab = context.new_page()
    trouble = Trouble()
    trouble.watch(tab)
    try:
        yield tab, trouble
    finally:
        context.close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"browser-{name}.png", full_page=True)


def test_a_clinician_signs_in_reviews_a_chart_and_signs_out(
    page: tuple[Page, Trouble], server: DemoServer
) -> None:
    from playwright.sync_api import expect

    tab, trouble = page
    base = re.escape(server.base_url)

    tab.goto("/sign-in")
    tab.get_by_label("E-mail").fill(ANA)
    tab.get_by_label("Password").fill(DEMO_STAFF_PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab).to_have_url(re.compile(base + r"/$"))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Hello, Dr. Ana Rivera")
    screenshot(tab, "home")

    # Today may have no visits; the page renders anyway.
    tab.get_by_role("link", name="Clinic day").click()
    expect(tab).to_have_url(re.compile(base + r"/review/clinic-day$"))
    expect(tab.get_by_role("heading", name="Clinic day")).to_be_visible()
    screenshot(tab, "clinic-day-today")

    tab.get_by_label("Date").fill(server.visit_day)
    tab.get_by_role("button", name="Show").click()
    expect(tab).to_have_url(re.compile(base + rf"/review/clinic-day\?date={server.visit_day}$"))
    noah = tab.get_by_role("link", name="Noah Thompson")
    expect(noah).to_be_visible()
    screenshot(tab, "clinic-day-visit")

    noah.click()
    expect(tab).to_have_url(re.compile(base + r"/review/patients/\d+$"))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Noah Thompson")
    expect(tab.locator("svg.score-chart").first).to_be_visible()
    points = tab.locator("svg.score-chart circle.point")
    expect(points.first).to_be_attached()
    assert points.count() >= 1
    screenshot(tab, "patient")

    tab.get_by_role("button", name="Sign out").click()
    expect(tab).to_have_url(re.compile(base + r"/sign-in$"))
    tab.goto("/review/clinic-day")
    expect(tab).to_have_url(re.compile(base + r"/sign-in\?next="))
    expect(tab.get_by_role("heading", name="Sign in")).to_be_visible()

    assert trouble.problems == [], "\n".join(trouble.problems) + "\n" + server.log_tail()


def test_a_reviewer_finds_a_texted_idea_merges_it_and_moves_it_on(
    page: tuple[Page, Trouble], server: DemoServer
) -> None:
    from playwright.sync_api import expect

    tab, trouble = page
    base = re.escape(server.base_url)
    tab.goto("/sign-in")
    tab.get_by_label("E-mail").fill(JORDAN)
    tab.get_by_label("Password").fill(DEMO_STAFF_PASSWORD)
    tab.get_by_role("button", name="Sign in").click()

    tab.get_by_role("link", name="Ideas", exact=True).click()
    expect(tab).to_have_url(re.compile(base + r"/ideas$"))
    tab.get_by_label("Search the redacted text, tags or a reference").fill("lab results")
    tab.get_by_role("button", name="Show").click()
    rows = tab.locator("table tbody tr")
    expect(rows.first).to_contain_text("[name] wait days")  # the child's name never shows
    screenshot(tab, "ideas-search")

    rows.first.get_by_role("link").first.click()
    expect(tab).to_have_url(re.compile(base + r"/ideas/I-\d+$"))
    new_reference = tab.url.rsplit("/", 1)[1]
    similar = tab.locator("section", has=tab.get_by_role("heading", name="Similar ideas"))
    twin = similar.locator("tbody tr", has_text="portal").first
    twin_reference = twin.get_by_role("link").first.inner_text()
    twin.get_by_label("Why they are the same (sent by SMS)").fill("You sent this idea before.")
    twin.get_by_role("button", name="Merge into this").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("merged")
    screenshot(tab, "idea-merged")

    tab.goto(f"/ideas/{twin_reference}")
    tab.get_by_label(re.compile("^Move from")).select_option("accepted_for_testing")
    tab.get_by_label("Why (required)").fill("Two centers will try it in January.")
    tab.get_by_role("button", name="Change status").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("accepted for testing")
    history = tab.locator("section", has=tab.get_by_role("heading", name="History"))
    expect(history).to_contain_text("texted 1 phone")
    screenshot(tab, "idea-accepted")

    outbox = checked(
        run_flask(
            "engage", "outbox", "--status", "all", environ=development_environ(server.database)
        )
    ).stdout
    assert f"Your idea {new_reference} is like idea {twin_reference}" in outbox, outbox
    assert f"Good news: your idea {twin_reference} was chosen" in outbox, outbox
    assert trouble.problems == [], "\n".join(trouble.problems) + "\n" + server.log_tail()
