"""Against a real Milvus server process (``milvus-lite server``, see conftest.MilvusServer):
an outage and a restart under a running diploqa."""

from __future__ import annotations

import re

import pytest
from conftest import (
    assert_no_traceback,
    copy_seeds,
    forget_milvus_client,
    run_cli,
)

import diploqa
from diploqa.errors import StoreUnavailableError

QUESTION = "Wen traf Kerry in Sotschi?"


def _sources(hits) -> list[tuple[str, int]]:
    return [(h.source, h.start) for h in hits]


def test_server_outage_is_one_line_everywhere_and_diploqa_recovers_when_milvus_is_back(
    milvus_server, tmp_path, embedder
):
    pytest.importorskip("gradio", reason="the web UI needs the 'ui' extra")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from diploqa.app import IndexHolder
    from diploqa.app.api import json_api
    from diploqa.app.handlers import answer_html

    store = milvus_server.address()
    articles = copy_seeds(tmp_path / "articles")
    try:
        diploqa.build_index(articles, tmp_path / "unused", store=store)
        holder = IndexHolder(tmp_path / "unused", articles, store=store)
        holder.load()
        server = FastAPI()
        server.include_router(json_api(holder))
        api = TestClient(server)
        before = api.get("/api/search", params={"q": QUESTION, "k": 3})
        assert before.status_code == 200 and before.json()["hits"]
        index = diploqa.load_index(store=store)  # the library, beside the server's holder
        expected = _sources(index.search(QUESTION, k=3))

        milvus_server.kill()
        down = api.get("/api/search", params={"q": QUESTION, "k": 3})
        assert down.status_code == 503, down.text
        error = down.json()["error"]
        assert re.match(f"cannot (reach|connect to) Milvus at {re.escape(store)} ", error)
        assert "\n" not in error and "Traceback" not in error
        page = answer_html(holder, QUESTION)
        assert re.search("cannot (reach|connect to) Milvus at", page)
        assert_no_traceback(page)
        with pytest.raises(StoreUnavailableError, match=r"cannot (reach|connect to) Milvus at"):
            index.search(QUESTION, k=3)
        cli = run_cli("search", QUESTION, "--store", store)
        assert cli.returncode == 1 and "Traceback" not in cli.stderr
        assert cli.stderr.startswith(f"error: cannot connect to Milvus at {store}")
        assert cli.stderr.count("\n") == 1, cli.stderr

        milvus_server.start()  # same port, same data; diploqa is not restarted
        after = api.get("/api/search", params={"q": QUESTION, "k": 3})
        assert after.status_code == 200, after.text
        assert after.json()["hits"] == before.json()["hits"]
        assert _sources(index.search(QUESTION, k=3)) == expected
        assert "dq-card" in answer_html(holder, QUESTION)
    finally:
        forget_milvus_client(store)
