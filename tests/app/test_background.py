"""Background builds and watch mode of the web UI: in process, then ``diploqa serve`` for real.

A build is held at a known point with ``DIPLOQA_FAULT=pause:while-embedding`` (it waits until
the gate file exists, see :mod:`diploqa.faults`), so what the page and the API say *during*
a build is checked without racing it.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser import launched, missing_browser
from conftest import (
    GENEVA_QUESTION,
    NEW_ARTICLE,
    SEEDS,
    assert_no_traceback,
    end_process,
    first_source,
    free_port,
    server_env,
    wait_until_serving,
)

from diploqa.app.events import status_html
from diploqa.app.handlers import answer_html, search_records, status_record
from diploqa.app.live import IndexHolder
from diploqa.app.messages import BUILDING_TEXT
from diploqa.app.updater import Updater
from diploqa.errors import DiploqaError

KERRY = ("Who did Kerry meet in Sochi?", "001_50e04ee83bc37b66.txt")
START_TIMEOUT = 180
BUILD_TIMEOUT = 300


def _wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


@pytest.fixture
def gate(tmp_path, monkeypatch) -> Path:
    """Builds in this process pause after embedding until the returned file exists."""
    gate = tmp_path / "gate"
    monkeypatch.setenv("DIPLOQA_FAULT", "pause:while-embedding")
    monkeypatch.setenv("DIPLOQA_FAULT_GATE", str(gate))
    yield gate
    gate.touch()  # never leave a build waiting


def _reached(gate: Path) -> bool:
    return Path(f"{gate}.reached").exists()


# --------------------------------------------------------------------------------------------
# In process: Updater.start_background and the status area
# --------------------------------------------------------------------------------------------


def _updater(index_dir: Path, articles: Path) -> Updater:
    """As ``diploqa serve`` starts: the index loaded without the model, the articles not
    compared yet."""
    holder = IndexHolder(index_dir)
    holder.load(model=False)
    return Updater(holder, articles)


def test_first_build_in_the_background_says_it_is_coming(tmp_path, seed_copy, gate):
    updater = _updater(tmp_path / "index", shutil.copytree(seed_copy, tmp_path / "a"))
    holder = updater.holder
    assert updater.needs_update()
    thread = updater.start_background()
    _wait_for(lambda: _reached(gate), BUILD_TIMEOUT, "the build to embed")

    build = holder.build
    assert build.running and build.total > 0 and build.done == build.total
    assert f"building: {build.total:,} of {build.total:,} passages embedded" in build.describe()
    assert holder.problem == BUILDING_TEXT
    page = answer_html(holder, KERRY[0], 3)  # a search meanwhile: a message, no error
    assert "it is being built" in page and "dq-card" not in page
    assert_no_traceback(page)
    with pytest.raises(DiploqaError, match="it is being built"):
        search_records(holder, KERRY[0], 3)
    status = status_html(updater)
    assert 'data-state="building"' in status and "<progress" in status
    assert "dq-error" not in status
    record = status_record(updater)
    assert record["building"] and not record["ready"] and record["total"] == build.total

    gate.touch()
    thread.join(BUILD_TIMEOUT)
    assert not thread.is_alive()
    assert first_source(answer_html(holder, KERRY[0], 3)) == KERRY[1]
    assert updater.last_report.added and not holder.build.running
    assert status_record(updater)["ready"] and "dq-build" not in status_html(updater)


def test_an_update_in_the_background_keeps_answering_from_the_old_index(app_updater, gate):
    updater, holder = app_updater, app_updater.holder
    assert not updater.needs_update()
    (updater.articles_dir / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    updater.check_articles()  # as `diploqa serve` finds the folder at start: changed
    assert updater.needs_update()
    old = holder.index
    thread = updater.start_background()
    _wait_for(lambda: _reached(gate), BUILD_TIMEOUT, "the update to embed")

    assert holder.build.running and holder.index is old  # nothing swapped yet
    assert first_source(answer_html(holder, GENEVA_QUESTION, 3)) != "005_genf.txt"
    status = status_html(updater)
    assert "Index: 5 Artikel" in status and 'data-state="building"' in status

    gate.touch()
    thread.join(BUILD_TIMEOUT)
    assert holder.index is not old
    assert first_source(answer_html(holder, GENEVA_QUESTION, 3)) == "005_genf.txt"
    assert updater.pending is None and not updater.needs_update()


def test_serve_compares_the_articles_in_the_background_not_before_answering(app_updater):
    """``diploqa serve`` loads without reading the articles folder (its first answer does not
    wait for 2,000 files); the background thread compares them and brings the index up to
    date."""
    (app_updater.articles_dir / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    updater = _updater(app_updater.holder.index_dir, app_updater.articles_dir)
    holder = updater.holder
    assert holder.index is not None and updater.pending is None and not updater.needs_update()
    old = holder.index
    updater.start_background().join(BUILD_TIMEOUT)
    assert holder.index is not old
    assert first_source(answer_html(holder, GENEVA_QUESTION, 3)) == "005_genf.txt"
    assert updater.pending is None and not updater.needs_update()


def test_a_failed_background_build_is_shown_not_raised(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "bild.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    updater = _updater(tmp_path / "index", articles)
    holder = updater.holder
    updater.start_background().join(BUILD_TIMEOUT)

    assert holder.index is None and holder.build.error
    assert "could not be built" in holder.problem and "no readable article" in holder.problem
    for page in (status_html(updater), answer_html(holder, KERRY[0], 3)):
        assert "dq-error" in page and "no readable article" in page
        assert_no_traceback(page)
    assert status_record(updater)["error"]


def test_a_current_index_is_neither_rebuilt_nor_swapped(app_updater):
    updater, holder = app_updater, app_updater.holder
    live = holder.index
    updater.start_background().join(60)  # nothing to do
    assert updater.last_report is None and holder.index is live
    report = updater.update()  # an update that finds nothing new keeps the live index
    assert not report.changed and holder.index is live


def test_close_stops_a_background_update_at_its_next_step(tmp_path, seed_copy):
    updater = _updater(tmp_path / "index", seed_copy)
    updater.close()  # as `diploqa serve` does when it stops
    updater.start_background()
    assert updater.close(timeout=BUILD_TIMEOUT)
    assert updater.holder.index is None and not (tmp_path / "index" / "manifest.json").exists()
    assert "stopping" in updater.build.error
    updater.start_background(watch=True)  # a watcher told to stop ends at once
    assert updater.close(timeout=10)


# --------------------------------------------------------------------------------------------
# diploqa serve in a subprocess
# --------------------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    started: float

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


#: ``diploqa`` with :data:`diploqa.app.server.STOP_GRACE_SECONDS` (how long a stopping server
#: waits for a running update) at one second instead of 15.
SHORT_GRACE = (
    "import sys\n"
    "from diploqa.app import server\n"
    "from diploqa.cli import main\n"
    "server.STOP_GRACE_SECONDS = 1.0\n"
    "sys.exit(main())\n"
)


@pytest.fixture
def serve(tmp_path) -> Iterator[Callable[..., Server]]:
    """Start ``diploqa serve`` (extra arguments and environment as given; ``short_grace``: see
    :data:`SHORT_GRACE`); killed at the end."""
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None, short_grace: bool = False) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        program = ["-c", SHORT_GRACE] if short_grace else ["-m", "diploqa.cli"]
        cmd = [sys.executable, *program, "serve", "--port", str(port), *args]
        with log.open("wb") as out:
            process = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**server_env(), **(env or {})},
                # Ctrl-C must reach Python even where the test runner ignores SIGINT.
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
        server = Server(f"http://127.0.0.1:{port}/", process, log, time.monotonic())
        started.append(server)
        wait_until_serving(process, server.url, server.log_text, START_TIMEOUT)
        return server

    yield start
    for server in started:
        end_process(server.process)


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def _page_status_while_building(url: str, gate: Path) -> tuple[str, str]:
    """In real Chromium: the status area while the build is held, then (after opening the
    gate) its text once the page's timer saw the build end."""
    with launched() as browser:
        page = browser.new_page()
        page.goto(url, wait_until="domcontentloaded", timeout=120_000)
        building = page.locator("#index-status .dq-build progress")
        building.wait_for(timeout=60_000)
        during = page.locator("#index-status").inner_text()
        gate.touch()  # let the build finish: the page's timer must notice
        page.locator("#index-status .dq-build").wait_for(state="detached", timeout=120_000)
        return during, page.locator("#index-status").inner_text()


@pytest.mark.slow
def test_serve_without_an_index_answers_at_once_and_builds_in_the_background(serve, tmp_path):
    articles = shutil.copytree(SEEDS, tmp_path / "articles")
    index = tmp_path / "index"
    gate = tmp_path / "gate"
    env = {"DIPLOQA_FAULT": "pause:while-embedding", "DIPLOQA_FAULT_GATE": str(gate)}
    server = serve("--articles", str(articles), "--index", str(index), env=env)
    try:
        seconds_to_page = time.monotonic() - server.started
        client = _client(server.url)
        _wait_for(lambda: _reached(gate), BUILD_TIMEOUT, "the background build to embed")
        status = client.predict(api_name="/status")
        assert status["building"] and not status["ready"] and status["total"] > 0
        assert "passages embedded" in status["message"]

        page = client.predict(KERRY[0], 3, api_name="/search")  # during the build
        assert "it is being built" in page and "dq-card" not in page
        assert_no_traceback(page)

        if missing_browser() is None:
            during, after = _page_status_while_building(server.url, gate)
            assert "passages embedded" in during and "No index yet – it is being built" in during
            assert "Index: 5 Artikel" in after
        gate.touch()
        _wait_for(lambda: client.predict(api_name="/status")["ready"], BUILD_TIMEOUT, "the build")
        records = client.predict(KERRY[0], 3, api_name="/search_json")
        assert records[0]["source"] == KERRY[1]
        assert (index / "manifest.json").exists()
        assert "5 added" in server.log_text()
        print(f"\nserve without index: page after {seconds_to_page:.1f} s")
    finally:
        gate.touch()
    assert server.process.poll() is None, server.log_text()[-3000:]


@pytest.mark.slow
def test_ctrl_c_during_a_background_build_ends_serve_cleanly(serve, tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(8):  # enough passages for several embedding steps
        for seed in sorted(SEEDS.iterdir()):
            text = seed.read_text(encoding="utf-8")
            (articles / f"{n}_{seed.name}").write_text(f"title: Kopie {n}\n\n{text}", "utf-8")
    server = serve("--articles", str(articles), "--index", str(tmp_path / "index"))
    client = _client(server.url)

    def embedding() -> bool:
        status = client.predict(api_name="/status")
        return status["total"] > 0 and status["done"] < status["total"]

    _wait_for(embedding, BUILD_TIMEOUT, "embedding to start")
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=60) == 0, server.log_text()[-3000:]
    assert "terminate called" not in server.log_text()
    assert not (tmp_path / "index" / "manifest.json").exists()  # the build left nothing


@pytest.mark.slow
def test_ctrl_c_with_an_update_that_does_not_stop_exits_at_once(serve, tmp_path):
    gate = tmp_path / "gate"  # never opened: the build stays held, as if stuck
    env = {"DIPLOQA_FAULT": "pause:while-embedding", "DIPLOQA_FAULT_GATE": str(gate)}
    articles = shutil.copytree(SEEDS, tmp_path / "articles")
    index = str(tmp_path / "index")
    # what it waits for is the same with the 15 s it waits in use
    server = serve("--articles", str(articles), "--index", index, env=env, short_grace=True)
    _wait_for(lambda: _reached(gate), BUILD_TIMEOUT, "the build to embed")
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=60) == 0, server.log_text()[-3000:]
    assert "an index update was cut short" in server.log_text()
    assert not (tmp_path / "index" / "manifest.json").exists()


@pytest.mark.slow
def test_serve_watch_indexes_a_new_file_while_searches_go_on(serve, built, tmp_path):
    articles, index = built
    gate = tmp_path / "gate"
    env = {
        "DIPLOQA_FAULT": "pause:while-embedding",
        "DIPLOQA_FAULT_GATE": str(gate),
        "DIPLOQA_WATCH_SETTLE": "0.5",
    }
    server = serve("--watch", "--articles", str(articles), "--index", str(index), env=env)
    client = _client(server.url)
    _wait_for(lambda: "unchanged" in server.log_text(), 120, "the update at start")

    errors: list[str] = []
    answered: list[str] = []
    stop = threading.Event()

    def keep_searching() -> None:
        searcher = _client(server.url)
        while not stop.is_set():
            try:
                answered.append(searcher.predict(GENEVA_QUESTION, 3, api_name="/search_json"))
            except Exception as err:  # any failed search fails the test
                errors.append(f"{type(err).__name__}: {err}")

    searchers = [threading.Thread(target=keep_searching, daemon=True) for _ in range(2)]
    try:
        for thread in searchers:
            thread.start()
        added = time.monotonic()
        (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        _wait_for(lambda: _reached(gate), 60, "the watcher to start an update")
        picked_up = time.monotonic() - added
        during = len(answered)
        status = client.predict(api_name="/status")
        assert status["building"] and status["ready"]  # the old index still answers
        # searches are answered while the update is held (more than ten in all, see below)
        _wait_for(lambda: len(answered) > max(during, 10), 60, "searches during the update")
        assert all(records[0]["source"] != "005_genf.txt" for records in answered)

        gate.touch()

        def found() -> bool:
            records = client.predict(GENEVA_QUESTION, 3, api_name="/search_json")
            return records[0]["source"] == "005_genf.txt"

        _wait_for(found, 60, "the new article to be found")
        print(f"\nserve --watch: update started {picked_up:.1f} s after the file appeared")
    finally:
        stop.set()
        gate.touch()
        for thread in searchers:
            thread.join(timeout=30)
    assert errors == []
    assert len(answered) > 10
    assert "1 added" in server.log_text()
    assert server.process.poll() is None, server.log_text()[-3000:]
