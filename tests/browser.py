"""Real Chromium for the end-to-end tests: where it is, how it starts, how ``diploqa serve`` is
started for it, and the steps every browser test takes (open the app, sign in, ask and wait for
the answer). The browser itself is the ``chromium`` fixture (tests/conftest.py).

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and the Python ``playwright``
package (no ``playwright install``: the system Chromium is used); a test that needs them is
skipped with the reason when either is missing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import end_process, free_port, server_env, wait_until_serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 180
PAGE_TIMEOUT_MS = 120_000
ANSWER_TIMEOUT_MS = 60_000
UPDATE_TIMEOUT_MS = 180_000
#: What shows once the app's page is usable (signed in, where it asks).
READY = "#question textarea"

#: True once the answers to question ``q`` (white space folded, as the page does) show a card.
_ANSWERED = """(q) => {
    const r = document.querySelector('#results .dq-results');
    return r && r.dataset.question === q && r.querySelector('.dq-card');
}"""


def missing_browser() -> str | None:
    """Why no real Chromium can run here, or None where it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright not installed (pip install playwright)"
    return None


def skip_without_browser() -> None:
    """Skip the test with the reason where Chromium or playwright is missing (called before a
    server is started for nothing)."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)


@contextmanager
def launched() -> Iterator[Browser]:
    """The system Chromium, headless, closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def open_page(
    browser: Browser,
    url: str,
    *,
    size: tuple[int, int] = (1280, 1000),
    ready: str | None = READY,
    timeout_ms: int = PAGE_TIMEOUT_MS,
    **context_options,
) -> Page:
    """A page in a fresh context (its own cookies) on ``url``, once ``ready`` shows (None: at
    once). Every JavaScript dialog is dismissed and its message kept in ``page.dialogs``: an
    injected script would show there, so the tests expect it empty."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, **context_options)
    page = context.new_page()
    page.dialogs = []

    def on_dialog(dialog) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    if ready:
        page.locator(ready).wait_for(timeout=PAGE_TIMEOUT_MS)
    return page


def sign_in(page: Page, user: str, password: str) -> None:
    """Fill the sign-in form the page shows and send it."""
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#sign-in")


def wait_for_answer(page: Page, question: str, timeout_ms: int = ANSWER_TIMEOUT_MS) -> None:
    """Wait until the cards of *this* question show (not those of the one before)."""
    page.wait_for_function(_ANSWERED, arg=" ".join(question.split()), timeout=timeout_ms)


def submit(page: Page, question: str, timeout_ms: int = ANSWER_TIMEOUT_MS) -> None:
    """Type a question, click "Ask" and wait until the cards of *this* question show."""
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    wait_for_answer(page, question, timeout_ms)


def upload(page: Page, path: Path) -> Locator:
    """Upload ``path`` through the Articles tab; the upload report, once it shows."""
    page.get_by_role("tab", name="Artikel / Articles").click()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    report = page.locator("#upload-report .dq-upload-report")
    report.wait_for(timeout=UPDATE_TIMEOUT_MS)
    return report


def card_sources(page: Page) -> list[str]:
    """The file name of every answer card, in order."""
    return [c.get_attribute("data-source") for c in page.locator("#results .dq-card").all()]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    started: float  # time.monotonic() when `diploqa serve` was started

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@contextmanager
def serving(
    root: Path,
    *argv: str,
    env: dict[str, str] | None = None,
    stop: Callable[[subprocess.Popen], None] = end_process,
) -> Iterator[Server]:
    """``diploqa serve *argv`` in a subprocess on a free port, its output in
    ``root/serve.log``; yielded once it serves the page, ended with ``stop`` afterwards."""
    port = free_port()
    log = root / "serve.log"
    cli = [sys.executable, "-m", "diploqa.cli", "serve", *argv, "--port", f"{port}"]
    with log.open("wb") as out:
        started = time.monotonic()
        process = subprocess.Popen(
            cli, stdout=out, stderr=subprocess.STDOUT, env=env or server_env()
        )
    server = Server(f"http://127.0.0.1:{port}/", process, log, started)
    try:
        wait_until_serving(process, server.url, server.log_tail, START_TIMEOUT)
        yield server
    finally:
        stop(process)
