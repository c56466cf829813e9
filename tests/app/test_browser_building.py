"""In a real Chromium: a question asked while ``diploqa serve`` builds the first index of a
fresh folder is answered once the build is done, without being asked again (issue #25, 7).

The build is held before it writes (the crash tests' ``pause:before-write`` point), so the
question is surely asked while there is no index, and released once the page shows that.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEEDS, free_port, server_env, stop_process, wait_until_serving
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    START_TIMEOUT,
    UPDATE_TIMEOUT_MS,
    _missing_browser,
)

pytestmark = pytest.mark.slow

QUESTION = "Who did Kerry meet in Sochi?"
SOURCE = "001_50e04ee83bc37b66.txt"


def wait_for_file(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear in {timeout:.0f} s"
        time.sleep(0.2)


def test_a_question_asked_during_the_first_build_is_answered_when_it_is_done(tmp_path):
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
    articles = shutil.copytree(SEEDS, tmp_path / "articles")
    gate = tmp_path / "gate"
    env = {**server_env(), "DIPLOQA_FAULT": "pause:before-write", "DIPLOQA_FAULT_GATE": str(gate)}
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "diploqa.cli", "serve", "--index", str(tmp_path / "index"),
             "--articles", str(articles), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"

    def log_tail() -> str:
        return log.read_text(errors="replace")[-4000:]

    from playwright.sync_api import sync_playwright

    try:
        wait_until_serving(process, url, log_tail, START_TIMEOUT)
        wait_for_file(Path(f"{gate}.reached"), START_TIMEOUT)  # the build holds: no index
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(url, wait_until="domcontentloaded", timeout=120_000)
                page.locator("#question textarea").wait_for(timeout=120_000)
                page.locator("#question textarea").fill(QUESTION)
                page.locator("#ask").click()
                waiting = page.locator('#results .dq-unanswered[data-state="no-index"]')
                waiting.wait_for(timeout=60_000)
                assert "answered as soon as it is done" in waiting.inner_text()
                gate.touch()  # let the build finish; nobody clicks again
                page.wait_for_function(
                    """(q) => {
                        const r = document.querySelector('#results .dq-results');
                        return r && r.dataset.question === q && r.querySelector('.dq-card');
                    }""",
                    arg=QUESTION,
                    timeout=UPDATE_TIMEOUT_MS,
                )
                first = page.locator("#results .dq-card").first.get_attribute("data-source")
                assert first == SOURCE
                assert page.locator('#results [data-state="no-index"]').count() == 0
            finally:
                browser.close()
        assert process.poll() is None, log_tail()
    finally:
        stop_process(process)
