"""In a real Chromium: a question asked while ``diploqa serve`` builds the first index of a
fresh folder is answered once the build is done, without being asked again (issue #25, 7).

The build is held before it writes (the crash tests' ``pause:before-write`` point), so the
question is surely asked while there is no index, and released once the page shows that.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from browser import (
    START_TIMEOUT,
    UPDATE_TIMEOUT_MS,
    card_sources,
    open_page,
    serving,
    wait_for_answer,
)
from conftest import SEEDS, server_env, stop_process

pytestmark = pytest.mark.slow

QUESTION = "Who did Kerry meet in Sochi?"
SOURCE = "001_50e04ee83bc37b66.txt"


def wait_for_file(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear in {timeout:.0f} s"
        time.sleep(0.2)


def test_a_question_asked_during_the_first_build_is_answered_when_it_is_done(chromium, tmp_path):
    articles = shutil.copytree(SEEDS, tmp_path / "articles")
    gate = tmp_path / "gate"
    env = {**server_env(), "DIPLOQA_FAULT": "pause:before-write", "DIPLOQA_FAULT_GATE": str(gate)}
    argv = ["--index", str(tmp_path / "index"), "--articles", str(articles)]
    with serving(tmp_path, *argv, env=env, stop=stop_process) as server:
        wait_for_file(Path(f"{gate}.reached"), START_TIMEOUT)  # the build holds: no index
        page = open_page(chromium, server.url)
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#ask").click()
        waiting = page.locator('#results .dq-unanswered[data-state="no-index"]')
        waiting.wait_for(timeout=60_000)
        assert "answered as soon as it is done" in waiting.inner_text()
        gate.touch()  # let the build finish; nobody clicks again
        wait_for_answer(page, QUESTION, timeout_ms=UPDATE_TIMEOUT_MS)
        assert card_sources(page)[0] == SOURCE
        assert page.locator('#results [data-state="no-index"]').count() == 0
        assert server.process.poll() is None, server.log_tail()
