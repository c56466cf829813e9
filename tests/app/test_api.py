"""The plain JSON endpoint ``GET /api/search`` (for curl, JavaScript, other services)."""

from __future__ import annotations

import codecs
import csv
import io
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import diploqa
from diploqa.app.api import json_routes
from diploqa.app.live import IndexHolder
from diploqa.config import Settings
from diploqa.export import COLUMNS, neutralise


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
        "answer_sentence", "sentence_url", "duplicates", "low_score",
    }  # fmt: skip
    assert "timeline" not in body and "facets" not in body and "matched" not in body


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
        ({"q": "Kerry", "timeline": "fortnight"}, "interval must be one of auto, day, week"),
        ({"q": "Kerry", "facets": "date"}, "facets must be outlet, not 'date'"),
        ({"q": "Kerry", "format": "xlsx"}, "format must be one of json, csv, jsonl"),
        ({"q": "", "format": "csv"}, "the question is empty"),
        ({"q": "Kerry", "since": "gestern", "timeline": "month"}, "since must be a date"),
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
    for extra in ({}, {"timeline": "month", "facets": "outlet"}, {"format": "csv"}):
        response = TestClient(server).get("/api/search", params={"q": "Kerry", **extra})
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


# --- The matching articles per period and outlet ------------------------------------------------

TIMELINE_QUESTION = "Gespräche von Kerry und Lawrow"


def test_timeline_and_facets_beside_the_hits(client, seed_index):
    params = {"q": TIMELINE_QUESTION, "k": 2, "timeline": "month", "facets": "outlet"}
    body = client.get("/api/search", params=params).json()
    timeline = seed_index.timeline(TIMELINE_QUESTION)
    assert len(body["hits"]) == 2 and body["interval"] == "month"
    assert body["timeline"] == [
        {"period": p.label, "start": p.start, "end": p.end, "articles": p.articles}
        for p in timeline
    ]
    assert body["timeline"] == [
        {"period": "2016-10", "start": "2016-10-01", "end": "2016-10-31", "articles": 1}
    ]
    assert body["undated"] == timeline.undated > 0 and body["imprecise"] == 0
    assert body["facets"] == {"outlet": seed_index.facets(TIMELINE_QUESTION)}
    assert set(body["facets"]["outlet"]) <= set(seed_index.outlets())
    assert body["matched"] == timeline.articles and body["capped"] is False


def test_timeline_and_facets_take_the_filters(client):
    base = {"q": TIMELINE_QUESTION, "timeline": "year", "facets": "outlet"}
    dated = client.get("/api/search", params={**base, "since": "2016"}).json()
    assert [p["period"] for p in dated["timeline"]] == ["2016"] and dated["undated"] == 0
    assert dated["matched"] == 1 and dated["facets"] == {"outlet": {}}  # the dated seed: none
    zeit = client.get("/api/search", params={**base, "outlet": "ZEIT ONLINE"}).json()
    assert zeit["facets"] == {"outlet": {"ZEIT ONLINE": 1}} and zeit["timeline"] == []
    assert zeit["undated"] == 1
    auto = client.get("/api/search", params={**base, "timeline": "auto"}).json()
    assert auto["interval"] == "month"  # a span of days, but its one date is a month: "2016-10"
    facets_only = client.get("/api/search", params={"q": TIMELINE_QUESTION, "facets": "outlet"})
    assert "timeline" not in facets_only.json() and "matched" in facets_only.json()
    empty = client.get("/api/search", params={"q": TIMELINE_QUESTION, "timeline": ""}).json()
    assert "timeline" not in empty


def test_csv_export_reads_back_like_the_json_hits(client):
    params = {"q": "Wer traf Lawrow in Sotschi?", "k": 4}
    hits = client.get("/api/search", params=params).json()["hits"]
    response = client.get("/api/search", params={**params, "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="diploqa-wer-traf-lawrow-in-sotschi.csv"'
    )
    assert response.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == list(COLUMNS) and len(rows) == len(hits) == 4
    for row, hit in zip(rows, hits, strict=True):
        assert (row["rank"], row["title"], row["source"], row["passage"]) == (
            str(hit["rank"]), neutralise(hit["title"]), hit["source"], neutralise(hit["text"]),
        )  # fmt: skip
        assert row["answer_sentence"] == neutralise(hit["answer_sentence"])  # "- " bullets: "'- "
        assert row["outlet"] == (hit["outlet"] or "")


def test_jsonl_export_one_line_per_hit(client):
    params = {"q": "Wer traf Lawrow in Sotschi?", "k": 3, "format": "jsonl"}
    response = client.get("/api/search", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson; charset=utf-8"
    assert response.headers["content-disposition"].endswith('.jsonl"')
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [r["rank"] for r in rows] == [1, 2, 3] and list(rows[0]) == list(COLUMNS)


ARTICLES = {
    "formel.txt": (
        'title: =HYPERLINK("http://evil.example";"Gespräche in Genf")\n'
        "date: 2017-05-02\nsource: @Außenpolitik Blatt\n"
        "url: https://example.org/genf-gespraeche\n\n"
        "Die Außenminister der USA und Russlands sprachen in Genf über die Waffenruhe in "
        "Syrien. Lawrow sagte, die Gespräche seien konstruktiv gewesen. Danach reisten beide "
        "Delegationen ab.\n"
    ),
    "minus.txt": (
        "title: -Größe der Delegationen\ndate: 2017-05-03\nsource: +Grüße Zeitung\n\n"
        "- Beide Delegationen kamen mit je zwölf Diplomaten nach Genf. Über die Waffenruhe "
        "wurde bis in die Nacht verhandelt.\n"
    ),
}


@pytest.fixture(scope="module")
def archive_client(tmp_path_factory, embedder) -> TestClient:
    """The API on a small real index whose titles and outlets begin like formulas."""
    folder = tmp_path_factory.mktemp("formulas") / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("formulas-index") / "index"
    diploqa.build_index(folder, index_dir)
    holder = IndexHolder(index_dir)
    holder.load()
    server = FastAPI()
    server.router.routes.extend(json_routes(holder))
    return TestClient(server)


def test_csv_cells_from_the_archive_cannot_run_as_formulas(archive_client):
    params = {"q": "Waffenruhe in Genf", "k": 5, "per_article": 0, "format": "csv"}
    data = archive_client.get("/api/search", params=params).content
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert {r["source"] for r in rows} == set(ARTICLES)
    titles = {r["title"] for r in rows}
    assert '\'=HYPERLINK("http://evil.example";"Gespräche in Genf")' in titles
    assert "'-Größe der Delegationen" in titles
    assert {r["outlet"] for r in rows} == {"'@Außenpolitik Blatt", "'+Grüße Zeitung"}
    for row in rows:
        for column in ("title", "outlet", "source", "passage", "answer_sentence", "also_in"):
            assert not row[column].startswith(("=", "+", "-", "@")), (column, row[column])
    assert "Größe".encode() in data  # UTF-8, not a legacy code page


def test_the_json_hit_links_to_its_answer_sentence(archive_client):
    hits = archive_client.get("/api/search", params={"q": "Was sagte Lawrow über die Gespräche?",
                                                     "k": 1}).json()["hits"]  # fmt: skip
    hit = hits[0]
    assert hit["url"] == "https://example.org/genf-gespraeche"
    assert hit["sentence_url"].startswith("https://example.org/genf-gespraeche#:~:text=")
    directive = hit["sentence_url"].split("#:~:text=", 1)[1]
    from urllib.parse import unquote

    assert unquote(directive) == " ".join(hit["answer_sentence"].split())
    assert not {"-", ",", "&", " "} & set(directive)
