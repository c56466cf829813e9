"""``diploqa serve``'s server: binding, access choice, and the staged start (the JSON endpoint
answers while Gradio is still loading; then the full app takes over every route)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from conftest import free_port
from fastapi import FastAPI
from fastapi.testclient import TestClient

from diploqa.app import server
from diploqa.app.api import json_routes
from diploqa.cli import main

QUESTION = {"q": "Wer traf Lawrow?", "k": 1}
PAGE = {"accept": "text/html,application/xhtml+xml"}


@contextmanager
def started(serving) -> Iterator[TestClient]:
    """A client of ``serve``'s app, once the page has taken over (its lifespan runs)."""
    with TestClient(serving) as client:
        deadline = time.monotonic() + 120
        while not serving.staged.ready:
            assert serving.failure is None, serving.failure
            assert time.monotonic() < deadline, "the page was not built in 120 s"
            time.sleep(0.05)
        yield client


@pytest.fixture
def served(monkeypatch):
    """Run ``serve`` with ``check(client)`` in place of the real server loop."""
    seen: dict = {}

    def use(check):
        def fake_run(serving, sock):
            seen["address"] = sock.getsockname()
            with started(serving) as client:
                check(client)

        monkeypatch.setattr(server, "_run", fake_run)
        return seen

    return use


def test_serve_refuses_when_exposed_and_mounts_page_and_json_api(
    served, capsys, seed_index, seed_copy
):
    def check(client):
        answer = client.get("/api/search", params=QUESTION)
        seen["api"] = answer.status_code, len(answer.json()["hits"])
        seen["page"] = client.get("/", headers=PAGE).status_code

    seen = served(check)
    port = free_port()
    notes = []
    stopped = server.serve(seed_index.path, seed_copy, host="127.0.0.1", port=port,
                           notify=notes.append)  # fmt: skip
    assert stopped == server.Stopped() and stopped.problem is None
    assert notes == [f"diploqa: serving on http://127.0.0.1:{port}/"]  # nothing printed
    assert capsys.readouterr() == ("", "")
    assert seen["address"] == ("127.0.0.1", port)
    assert seen["api"] == (200, 1) and seen["page"] == 200  # the JSON endpoint beside the page

    with pytest.raises(server.ServeError, match=r"refusing to serve on 0\.0\.0\.0 without"):
        server.serve(seed_index.path, seed_copy, host="0.0.0.0", port=free_port())


def test_serve_reports_port_in_use_before_loading_anything(monkeypatch, capsys, tmp_path):
    def never(*args):
        raise AssertionError("nothing is loaded for a port that is taken")

    monkeypatch.setattr(server.IndexHolder, "load", never)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(server.ServeError, match=r"cannot serve on 127\.0\.0\.1"):
            server.serve(tmp_path / "index", tmp_path, port=port)
        argv = ["serve", "--index", str(tmp_path / "index"), "--articles", str(tmp_path)]
        assert main([*argv, "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot serve on 127.0.0.1") and err.count("\n") == 1


def test_public_serves_search_to_all_and_refuses_editing(served, seed_index, seed_copy):
    def check(client):
        seen["api"] = client.get("/api/search", params={"q": "Wer traf Lawrow?"}).status_code
        seen["upload"] = client.post("/gradio_api/upload", files={"files": ("a.txt", b"x")})
        config = client.get("/config").json()
        seen["ids"] = {c.get("props", {}).get("elem_id") for c in config["components"]}

    seen = served(check)
    assert server.serve(seed_index.path, seed_copy, port=free_port(), public=True).failure is None
    assert seen["api"] == 200 and seen["upload"].status_code == 403
    assert "question" in seen["ids"] and "upload" not in seen["ids"]


def test_server_socket_sends_without_delay():
    """Answers leave at once on keep-alive connections (no Nagle wait for a delayed ACK):
    the listening socket has TCP_NODELAY, which accepted connections inherit."""
    sock = server._bind("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        sock.close()


# --------------------------------------------------------------------------------------------
# Staged start
# --------------------------------------------------------------------------------------------


def _full_app(holder) -> FastAPI:
    @asynccontextmanager
    async def lifespan(full: FastAPI):
        full.state.started = True
        yield

    full = FastAPI(lifespan=lifespan)
    full.router.routes.extend(json_routes(holder))
    full.state.started = False

    @full.get("/config")
    def config():
        return {"started": full.state.started}

    return full


def test_json_api_answers_while_the_page_is_built(app_holder):
    release, failures = threading.Event(), []
    early = FastAPI()
    early.router.routes.extend(json_routes(app_holder))

    def build():
        assert release.wait(60), "never released"
        return _full_app(app_holder)

    staged = server.StagedApp(early, build, failures.append)
    with TestClient(staged) as client:
        assert not staged.ready
        answer = client.get("/api/search", params=QUESTION)
        assert answer.status_code == 200 and len(answer.json()["hits"]) == 1
        page = client.get("/", headers=PAGE)
        assert page.status_code == 503 and page.headers["retry-after"] == "1"
        assert 'http-equiv="refresh"' in page.text and "starting" in page.text
        api = client.get("/config")
        assert api.status_code == 503 and "starting" in api.json()["error"]

        release.set()
        deadline = time.monotonic() + 30
        while not staged.ready:
            assert time.monotonic() < deadline and not failures
            time.sleep(0.02)
        # The full app's startup events ran when it took over, as at a launch.
        assert client.get("/config").json() == {"started": True}
        assert client.get("/api/search", params=QUESTION).status_code == 200
    assert failures == []


def test_a_failed_page_build_stops_the_server_with_one_line(
    monkeypatch, capsys, seed_index, seed_copy
):
    def broken(holder, access, texts, alerts):
        def build():
            raise RuntimeError("the page could not be laid out")

        return build

    monkeypatch.setattr(server, "_page_builder", broken)
    stopped = server.serve(seed_index.path, seed_copy, port=free_port())
    assert isinstance(stopped.failure, RuntimeError) and not stopped.cut_short
    assert stopped.problem == "building the page failed: the page could not be laid out"
    argv = ["serve", "--index", str(seed_index.path), "--articles", str(seed_copy)]
    assert main([*argv, "--port", str(free_port())]) == 1  # the command prints it, once
    err = capsys.readouterr().err
    assert err.count("error: building the page failed: the page could not be laid out\n") == 1


def test_a_missing_ui_extra_met_while_building_the_page_is_named():
    stopped = server.Stopped(ModuleNotFoundError("No module named 'gradio'", name="gradio"))
    assert stopped.problem == (
        "the web UI needs the optional 'ui' extra (Gradio), which is not installed "
        "(missing module: gradio): pip install 'diploqa[ui]'"
    )


def test_the_page_is_built_once_the_preloaded_models_are_in(monkeypatch, tmp_path):
    """``serve`` waits on the loads the CLI started (the preload it was handed) before it
    imports Gradio for the page, so the import does not take the cores the models need."""
    from starlette.applications import Starlette

    from diploqa.app.live import IndexHolder
    from diploqa.app.updater import Updater
    from diploqa.preload import Preload

    release = threading.Event()
    loading = threading.Thread(target=release.wait, args=(30,), daemon=True)
    loading.start()
    seen: list[bool] = []

    def page(updater, access, texts, alerts):
        return lambda: seen.append(loading.is_alive()) or Starlette()

    monkeypatch.setattr(server, "_page_builder", page)
    updater = Updater(IndexHolder(tmp_path / "index"), tmp_path / "articles")
    serving = server._Serving(updater, None, preload=Preload((loading,)))
    building = threading.Thread(target=serving.staged._build, daemon=True)
    building.start()
    building.join(0.3)
    assert building.is_alive() and seen == []  # still waiting for the models
    release.set()
    building.join(30)
    assert seen == [False]  # built after the load ended
