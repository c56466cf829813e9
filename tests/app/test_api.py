"""The plain JSON endpoint ``GET /api/search`` (for curl, JavaScript, other services)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from diploqa.app.api import json_routes
from diploqa.app.live import IndexHolder
from diploqa.config import Settings


@pytest.fixture(scope="module")
def client(app_holder) -> TestClient:
    server = FastAPI()
    server.router.routes.extend(json_routes(app_holder))
    return TestClient(server)


def test_answers_with_the_search_json_fields(client):
    response = client.get("/api/search", params={"q": "Wer traf Lawrow in Sotschi?", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["question"] == "Wer traf Lawrow in Sotschi?"
    assert 1 <= len(body["hits"]) <= 3 and body["hits"][0]["rank"] == 1
    assert set(body["hits"][0]) == {
        "rank", "score", "title", "source", "date", "date_text", "outlet", "url", "text",
        "answer_sentence", "duplicates", "low_score",
    }  # fmt: skip


def test_filters_and_order(client, seed_index):
    outlets = seed_index.outlets()
    assert outlets, "the seeds name their outlets"
    response = client.get(
        "/api/search", params={"q": "Kerry und Lawrow", "k": 10, "outlet": [outlets[0]]}
    )
    hits = response.json()["hits"]
    assert hits and {h["outlet"] for h in hits} == {outlets[0]}
    dated = client.get("/api/search", params={"q": "Kerry", "k": 10, "since": "2016"}).json()
    assert dated["hits"] and all(h["date"] and h["date"] >= "2016" for h in dated["hits"])
    by_date = client.get("/api/search", params={"q": "Kerry", "k": 10, "sort": "date"}).json()
    dates = [h["date"] or "" for h in by_date["hits"]]
    assert dates == sorted(dates, reverse=True)
    assert client.get("/api/search", params={"q": "Kerry", "outlet": "Nobody"}).json() == {
        "question": "Kerry",
        "hits": [],
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "the question is empty"),
        ({"q": "Kerry", "k": "zwei"}, "k must be a whole number"),
        ({"q": "Kerry", "k": 0}, "k must be a whole number"),
        ({"q": "Kerry", "k": 500}, "k must be at most 20"),
        ({"q": "Kerry", "since": "gestern"}, "since must be a date like 2016"),
        ({"q": "Kerry", "since": "2017", "until": "2016"}, "is after until"),
        ({"q": "Kerry", "sort": "random"}, "sort must be one of relevance, date"),
        ({"q": "Kerry", "per_article": "viele"}, "per_article must be a whole number"),
        ({"q": "Kerry", "per_article": "-1"}, "per_article must be a whole number ≥ 1"),
    ],
)
def test_bad_requests_are_400_with_a_message(client, params, message):
    response = client.get("/api/search", params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert "hits" not in response.json()


def test_no_index_is_503(tmp_path):
    holder = IndexHolder(tmp_path / "index")
    server = FastAPI()
    server.router.routes.extend(json_routes(holder))
    response = TestClient(server).get("/api/search", params={"q": "Kerry"})
    assert response.status_code == 503 and "No index yet" in response.json()["error"]


def test_source_and_per_article(client):
    question = {"q": "Was sagte Kerry?", "k": 8}
    found = client.get("/api/search", params={**question, "source": "00[34]_*"}).json()["hits"]
    assert found and all(h["source"].startswith(("003_", "004_")) for h in found)

    def sources(**params) -> list[str]:
        answer = client.get("/api/search", params={**question, **params})
        assert answer.status_code == 200, answer.text
        return [h["source"] for h in answer.json()["hits"]]

    unlimited = sources(per_article=0)
    assert len(set(unlimited)) < len(unlimited) == 8  # one article gives several passages
    one = sources(per_article=1)
    assert len(set(one)) == len(one) > 1
    two = sources(per_article=2)
    assert max(two.count(s) for s in two) == 2
    assert sources() == two  # absent: the server's default (DIPLOQA_PASSAGES_PER_ARTICLE=2)


def test_the_default_per_article_limit_is_the_servers(app_holder, monkeypatch):
    monkeypatch.setenv("DIPLOQA_PASSAGES_PER_ARTICLE", "0")
    server = FastAPI()
    server.router.routes.extend(json_routes(app_holder, Settings.from_env().server))
    hits = TestClient(server).get("/api/search", params={"q": "Was sagte Kerry?", "k": 8})
    sources = [h["source"] for h in hits.json()["hits"]]
    assert len(set(sources)) < len(sources) == 8
