"""The Gradio wiring: named endpoints, their parameters, MCP, and Gradio kept optional."""

from __future__ import annotations

import ast
import gc
import inspect
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import uvicorn

from diploqa import load_index
from diploqa.app import events, server, ui
from diploqa.app.layout import gr
from diploqa.app.live import IndexHolder
from diploqa.app.updater import Updater

#: Every parameter of a search, as every surface takes it (diploqa.query.Query's fields).
PARAMETERS = ["question", "k", "outlet", "since", "until", "source", "per_article", "sort"]
QUESTION = "Was sagte Kerry?"


@pytest.fixture(scope="module")
def editor_app(app_holder, seed_copy):
    return ui.create_app(Updater(app_holder, seed_copy))


def test_create_app_exposes_named_search_endpoints(editor_app):
    endpoints = editor_app.get_api_info()["named_endpoints"]
    assert set(endpoints) == {"/search", "/search_json", "/timeline"}
    for name in ("/search", "/search_json"):
        params = [p["parameter_name"] for p in endpoints[name]["parameters"]]
        assert params == PARAMETERS, name
        required = [p["parameter_name"] for p in endpoints[name]["parameters"]
                    if not p["parameter_has_default"]]  # fmt: skip
        assert required == ["question"]  # gradio_client callers may give the question alone
    fns = {fn.api_name: fn.fn for fn in editor_app.fns.values() if fn.api_name}
    assert fns["search"].__name__ == "search" and fns["search"].__doc__
    assert fns["search_json"].__name__ == "search_json"
    assert fns["search"]("Who did Kerry meet in Sochi?", 1).count('class="dq-card"') == 1


def test_the_api_functions_honour_every_parameter(editor_app, seed_index):
    fns = {fn.api_name: fn.fn for fn in editor_app.fns.values() if fn.api_name}
    search_json, search = fns["search_json"], fns["search"]
    outlet = seed_index.outlets()[0]
    assert {h["outlet"] for h in search_json(QUESTION, 10, [outlet])} == {outlet}
    dated = search_json(QUESTION, 10, None, "2016", "2016-10")
    assert {h["source"] for h in dated} == {"000_2ef6d3f0dcbaccb7.txt"}
    found = search_json(QUESTION, 10, source="00[34]_*")
    assert found and all(h["source"].startswith(("003_", "004_")) for h in found)
    unlimited = [h["source"] for h in search_json(QUESTION, 8, per_article=0)]
    assert len(set(unlimited)) < len(unlimited) == 8
    one = [h["source"] for h in search_json(QUESTION, 8, per_article=1)]
    assert len(set(one)) == len(one) > 1
    default = [h["source"] for h in search_json(QUESTION, 8)]  # the server's limit: 2
    assert max(default.count(s) for s in default) == 2
    by_date = search_json(QUESTION, 8, sort="date")
    dates = [h["date"] or "" for h in by_date]
    assert dates == sorted(dates, reverse=True)
    assert sorted(h["rank"] for h in by_date) == list(range(1, 9))
    page = search(QUESTION, 8, [], "", "", "003_*", 1, "date")
    assert page.count('class="dq-card"') == 1 and "(003_*; nach Datum / by date)" in page


#: The parameters of the timeline endpoint and MCP tool.
TIMELINE_PARAMETERS = ["question", "interval", "outlet", "since", "until", "source"]


def test_the_timeline_endpoint(editor_app, seed_index):
    endpoint = editor_app.get_api_info()["named_endpoints"]["/timeline"]
    assert [p["parameter_name"] for p in endpoint["parameters"]] == TIMELINE_PARAMETERS
    required = [p["parameter_name"] for p in endpoint["parameters"]
                if not p["parameter_has_default"]]  # fmt: skip
    assert required == ["question"]
    fns = {fn.api_name: fn.fn for fn in editor_app.fns.values() if fn.api_name}
    timeline = fns["timeline"]
    assert timeline.__doc__ and "interval" in timeline.__doc__
    record = timeline("Gespräche von Kerry und Lawrow")
    assert record["interval"] == "month" and record["question"] == "Gespräche von Kerry und Lawrow"
    assert (
        record["timeline"]
        == seed_index.timeline("Gespräche von Kerry und Lawrow").fields()["timeline"]
    )
    dated = timeline("Gespräche von Kerry und Lawrow", "year", None, "2016", "2016-12")
    assert [p["period"] for p in dated["timeline"]] == ["2016"] and dated["undated"] == 0
    assert timeline("Gespräche von Kerry und Lawrow", "year", ["Niemand"])["matched"] == 0
    with pytest.raises(gr.Error, match="interval must be one of"):
        timeline("Kerry", "decade")


def test_the_export_function_for_the_page(app_holder, seed_copy):
    page_events = events.Events(Updater(app_holder, seed_copy), per_article=2)
    path = page_events.export("Wer traf Lawrow in Sotschi?", 3, fmt="csv")
    assert path.endswith("diploqa-wer-traf-lawrow-in-sotschi.csv")
    data = Path(path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrank,score,title") and data.count(b"\r\n") >= 4
    other = page_events.export("Wer traf Lawrow in Sotschi?", 3, source="003_*", fmt="jsonl")
    lines = Path(other).read_text(encoding="utf-8").splitlines()
    assert other != path and lines
    assert all(json.loads(line)["source"].startswith("003_") for line in lines)
    with pytest.raises(gr.Error, match="format must be one of"):
        page_events.export("Kerry", fmt="odt")
    folder = Path(path).parent.parent  # the app's exports: gone with it, not left in /tmp
    del page_events
    gc.collect()
    assert not folder.exists()


def test_gradio_empties_its_cache_of_uploads_and_downloads(app_holder, seed_copy):
    demo = ui.create_app(Updater(app_holder, seed_copy))
    assert demo.delete_cache == ui.GRADIO_CACHE_SECONDS == (3600, 3600)


def test_gradio_s_queue_looks_for_events_a_hundred_times_a_second_not_a_thousand(editor_app):
    from gradio.queueing import Queue

    queue = editor_app._queue
    assert queue.sleep_when_free == ui.QUEUE_POLL_SECONDS == 0.01
    assert queue.progress_update_sleep_when_free == ui.PROGRESS_POLL_SECONDS == 0.05
    # the loops still read these attributes (a Gradio release that renamed them fails here)
    assert "self.sleep_when_free" in inspect.getsource(Queue.start_processing)
    assert "self.progress_update_sleep_when_free" in inspect.getsource(Queue.start_progress_updates)


def test_a_question_asked_before_the_index_is_answered_by_a_later_tick(
    tmp_path, seed_copy, seed_index
):
    """The page asks for the status every second or five; the first tick that finds an index
    brings the answer to a question the page asked before there was one (issue #25, 7)."""
    holder = IndexHolder(tmp_path / "index")
    holder.load(model=False)
    page_events = events.Events(Updater(holder, seed_copy), per_article=2)
    me, other = SimpleNamespace(session_hash="me"), SimpleNamespace(session_hash="other")
    question = "Who did Kerry meet in Sochi?"
    assert 'data-state="no-index"' in page_events.results.on_ask(question, 3, request=me)[-1]
    assert not isinstance(page_events.on_tick(None, me)[-1], str)  # still no index
    holder.install(load_index(seed_index.path))
    assert not isinstance(page_events.on_tick(None, other)[-1], str)  # it asked nothing
    *_, overview, asked, answer = page_events.on_tick(None, me)
    assert 'class="dq-overview"' in overview.value and asked.question == question
    assert isinstance(answer, str) and 'data-question="Who did Kerry meet in Sochi?"' in answer
    assert answer.count('class="dq-card"') == 3 and "001_50e04ee83bc37b66.txt" in answer
    assert not isinstance(page_events.on_tick(None, me)[-1], str)  # answered once


def test_a_question_answered_meanwhile_is_not_answered_again(tmp_path, seed_copy, seed_index):
    holder = IndexHolder(tmp_path / "index")
    holder.load(model=False)
    page_events = events.Events(Updater(holder, seed_copy), per_article=2)
    me = SimpleNamespace(session_hash="me")
    page_events.results.on_ask("Who did Kerry meet in Sochi?", 3, request=me)
    holder.install(load_index(seed_index.path))
    assert "dq-card" in page_events.results.on_ask("Was sagte Tillerson?", 2, request=me)[-1]
    key = events.status_key(page_events.updater)
    assert not isinstance(page_events.on_tick(key, me)[-1], str)  # not the older question


def test_analytics_disabled():
    import os

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_everything_but_the_wiring_imports_without_gradio():
    # Gradio is the optional 'ui' extra: state, rendering, handlers and uploads must not need it.
    script = (
        "import sys\n"
        "sys.modules['gradio'] = None\n"
        "import diploqa.app\n"
        "from diploqa.app import api, handlers, live, messages, pending, render, server, "
        "updater, uploads\n"
        "assert diploqa.app.IndexHolder is live.IndexHolder\n"
        "assert diploqa.app.serve is server.serve\n"
        "try:\n"
        "    diploqa.app.create_app\n"
        "except ImportError as err:\n"
        "    print('needs', err.name)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "needs gradio"


def test_package_exports_the_app_names():
    import diploqa.app

    assert diploqa.app.create_app is ui.create_app and diploqa.app.serve is server.serve
    assert diploqa.app.Updater is Updater
    assert sorted(diploqa.app.__all__) == ["IndexHolder", "Updater", "create_app", "serve"]


def test_search_only_app_has_no_editing_function(app_holder, seed_copy, editor_app):
    reader = ui.create_app(Updater(app_holder, seed_copy), editing=False, sign_out=True)
    names = {fn.fn.__name__ for fn in reader.fns.values() if fn.fn}
    assert names.isdisjoint({"on_upload", "on_update"})
    editing = [fn for fn in editor_app.fns.values() if fn.fn and fn.fn.__name__ == "on_update"]
    assert len(editing) == 2  # the update and the rebuild buttons: one function
    assert "on_upload" in {fn.fn.__name__ for fn in editor_app.fns.values() if fn.fn}
    ids = {getattr(block, "elem_id", None) for block in reader.blocks.values()}
    assert {"question", "k", "outlet", "since", "until", "source", "per-article", "sort"} <= ids
    assert not ids & {"upload", "update", "rebuild", "upload-report"}


def test_status_area_without_an_index(tmp_path, seed_copy):
    from diploqa.app.live import IndexHolder

    holder = IndexHolder(tmp_path / "index")
    holder.load(model=False)
    page = events.status_html(Updater(holder, seed_copy))
    assert "No index yet" in page and "dq-warning" in page


# --- MCP: the search functions as tools -----------------------------------------------------


@pytest.fixture(scope="module")
def running(editor_app, app_holder) -> Iterator[str]:
    """The full app (page, Gradio API, MCP, JSON endpoint) served by uvicorn on a thread."""
    pytest.importorskip("mcp", reason="MCP needs gradio[mcp]")
    sock = server._bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    # as diploqa serve does: an open MCP session would hold a graceful stop (30 s) otherwise
    settings = uvicorn.Config(ui.server_app(editor_app, app_holder), log_level="warning",
                              timeout_graceful_shutdown=1)  # fmt: skip
    serving = server._Server(settings)
    thread = threading.Thread(target=serving.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not serving.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serving.should_exit = True
        thread.join(30)
        sock.close()


def _mcp(url: str, method: str, params: dict | None = None) -> dict:
    """One JSON-RPC request to the MCP endpoint; the result of its (event-stream) answer."""
    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    headers = {"Accept": "application/json, text/event-stream"}
    with httpx.Client(trust_env=False, timeout=120) as client:
        answer = client.post(f"{url}/gradio_api/mcp/", json=request, headers=headers)
    assert answer.status_code == 200, answer.text
    data = [line[5:] for line in answer.text.splitlines() if line.startswith("data:")]
    message = json.loads(data[-1] if data else answer.text)
    assert "error" not in message, message
    return message["result"]


def test_mcp_tools_list_every_parameter(running):
    tools = {t["name"]: t for t in _mcp(running, "tools/list")["tools"]}
    assert {"search", "search_json", "timeline"} <= set(tools)
    schema = tools["timeline"]["inputSchema"]
    assert list(schema["properties"]) == TIMELINE_PARAMETERS
    assert schema["required"] == ["question"]
    assert all(about.get("description") for about in schema["properties"].values())
    assert "per day, week, month or year" in tools["timeline"]["description"]
    for name in ("search", "search_json"):
        schema = tools[name]["inputSchema"]
        assert list(schema["properties"]) == PARAMETERS, name
        assert schema["required"] == ["question"]
        described = [p for p, about in schema["properties"].items() if about.get("description")]
        assert described == PARAMETERS, name  # from the function's docstring


def test_an_mcp_call_honours_the_parameters(running, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the tool calls back over HTTP
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    arguments = {"question": QUESTION, "k": 8, "source": "00[34]_*", "per_article": 1,
                 "sort": "date"}  # fmt: skip
    result = _mcp(running, "tools/call", {"name": "search_json", "arguments": arguments})
    assert not result.get("isError"), result
    hits = ast.literal_eval(result["content"][0]["text"])  # Gradio sends the list's repr
    sources = [h["source"] for h in hits]
    assert sources and len(set(sources)) == len(sources)  # per_article=1
    assert all(s.startswith(("003_", "004_")) for s in sources)
    dates = [h["date"] or "" for h in hits]
    assert dates == sorted(dates, reverse=True)


def test_an_mcp_timeline_call(running, monkeypatch, seed_index):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    arguments = {"question": "Gespräche von Kerry und Lawrow", "interval": "year"}
    result = _mcp(running, "tools/call", {"name": "timeline", "arguments": arguments})
    assert not result.get("isError"), result
    text = result["content"][0]["text"]
    record = json.loads(text) if text.lstrip().startswith('{"') else ast.literal_eval(text)
    expected = seed_index.timeline("Gespräche von Kerry und Lawrow", "year")
    assert record["interval"] == "year" and record["timeline"] == expected.fields()["timeline"]
    assert record["undated"] == expected.undated and record["matched"] == expected.articles
