"""The web UI's search handlers, without a browser, on a real index of the seeds: cards for a
question, readable errors, escaping, and the JSON records of the API."""

from __future__ import annotations

import json
import os
import re
import time

import pytest
from conftest import assert_no_traceback, first_source

from diploqa.app import messages
from diploqa.app.handlers import (
    EXPORT_KEEP_SECONDS,
    NoIndexError,
    answer_html,
    page_answer,
    save_export,
    search_records,
    timeline_record,
)
from diploqa.app.live import IndexHolder
from diploqa.errors import DiploqaError, QueryError
from diploqa.query import Query


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("Worüber telefonierten Obama und Putin?", "004_6afb54f85d6e1e90.txt"),
        ("Mit wem sprach Kerry in Sotschi?", "001_50e04ee83bc37b66.txt"),
        ("Who did Kerry meet in Sochi?", "001_50e04ee83bc37b66.txt"),
        ("What did Tillerson say about Assad?", "003_fa869275608591a9.txt"),
        ("Worum ging es bei den Gesprächen in Lausanne?", "000_2ef6d3f0dcbaccb7.txt"),
    ],
)
def test_answer_shows_right_source_first(app_holder, question, source):
    page = answer_html(app_holder, question, 5)
    assert first_source(page) == source
    assert page.count('class="dq-card"') == 5
    assert "<mark>" in page and "dq-bar-fill" in page
    assert "Im Artikel zeigen / Show in article" in page
    assert "dq-warning" not in page  # on-topic: no low-score warning


def test_card_shows_title_outlet_score_and_context(app_holder):
    page = answer_html(app_holder, "Who did Kerry meet in Sochi?", 1)
    assert "Kerry in Moskau:USA und Russland suchen nach Gemeinsamkeiten" in page
    assert "Süddeutsche Zeitung" in page
    assert re.search(r'style="width:\d{1,3}%"></span></span><span class="dq-pct">\d+ %', page)
    assert "dq-context-passage" in page


def test_k_controls_the_number_of_cards(app_holder):
    assert answer_html(app_holder, "Kerry Lawrow", 1).count('class="dq-card"') == 1
    assert answer_html(app_holder, "Kerry Lawrow", 20.0).count('class="dq-card"') == 20


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_shows_message_not_traceback(app_holder, question):
    page = answer_html(app_holder, question, 5)
    assert messages.EMPTY_QUESTION_TEXT in page and "dq-error" in page
    assert "dq-card" not in page
    assert_no_traceback(page)


@pytest.mark.parametrize("k", [0, -3, 2.5])
def test_invalid_k_shows_message(app_holder, k):
    page = answer_html(app_holder, "Kerry", k)
    assert "dq-error" in page and "k must be" in page
    assert_no_traceback(page)


@pytest.mark.parametrize("question", ["Wie backe ich Brot?", "How tall is the Eiffel tower?"])
def test_off_topic_question_warns_but_shows_results(app_holder, question):
    page = answer_html(app_holder, question, 3)
    assert messages.LOW_SCORE_TEXT.split(":")[0] in page and "dq-warning" in page
    assert page.index("dq-warning") < page.index("dq-card")
    assert page.count('class="dq-card"') == 3


def test_question_is_escaped(app_holder):
    question = '<img src=x onerror=alert(1)> "Kerry"'
    page = answer_html(app_holder, question, 1)
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_search_records_are_json_ready(app_holder):
    records = search_records(app_holder, "Who did Kerry meet in Sochi?", 3)
    assert [r["rank"] for r in records] == [1, 2, 3]
    assert records[0]["source"] == "001_50e04ee83bc37b66.txt"
    assert set(records[0]) >= {"rank", "score", "title", "source", "date", "outlet", "text"}
    assert records[0]["answer_sentence"] in records[0]["text"]
    json.dumps(records)


def test_search_records_raise_readable_errors(app_holder):
    with pytest.raises(DiploqaError, match="empty"):
        search_records(app_holder, " ", 3)


# --- Every parameter of a search reaches the page and the records ----------------------------


def test_every_parameter_is_honoured(app_holder, seed_index):
    question = "Was sagte Kerry?"
    outlet = seed_index.outlets()[0]
    records = search_records(app_holder, question, 10, outlet=[outlet])
    assert records and {r["outlet"] for r in records} == {outlet}
    dated = search_records(app_holder, question, 10, since="2016", until="2016-10")
    assert {r["source"] for r in dated} == {"000_2ef6d3f0dcbaccb7.txt"}
    sources = {r["source"] for r in search_records(app_holder, question, 10, source="00[34]_*")}
    assert sources and all(s.startswith(("003_", "004_")) for s in sources)
    many = search_records(app_holder, question, 8)
    capped = search_records(app_holder, question, 8, per_article=1)
    assert len({r["source"] for r in many}) < len(many)
    assert len({r["source"] for r in capped}) == len(capped) > 1
    by_date = search_records(app_holder, question, 8, sort="date")
    assert [r["date"] or "" for r in by_date] == sorted((r["date"] or "" for r in by_date),
                                                        reverse=True)  # fmt: skip
    assert sorted(r["rank"] for r in by_date) == [r["rank"] for r in many]  # relevance ranks
    assert [r["rank"] for r in by_date] != [r["rank"] for r in many]


def test_handlers_take_a_query(app_holder):
    query = Query("Was sagte Kerry?", 10, source="003_*", sort="date")
    assert search_records(app_holder, query) == search_records(
        app_holder, "Was sagte Kerry?", 10, source="003_*", sort="date"
    )
    page = answer_html(app_holder, query)
    assert page.count('class="dq-card"') >= 2 and first_source(page).startswith("003_")
    assert set(re.findall(r'data-source="([^"]*)" data-rank', page)) == {"003_fa869275608591a9.txt"}
    assert "(003_*; nach Datum / by date)" in page
    with pytest.raises(TypeError):
        answer_html(app_holder, query, 3)


# --- The timeline for the Gradio API and MCP, and the page's download ---------------------------


def test_timeline_record_for_the_gradio_api(app_holder, seed_index):
    query = Query("Gespräche von Kerry und Lawrow", since="2016")
    record = timeline_record(app_holder, query, "year")
    assert record == {
        "question": "Gespräche von Kerry und Lawrow",
        **seed_index.timeline(query, "year").fields(),
        "matched": 1,
        "capped": False,
    }
    assert record["timeline"][0]["period"] == "2016"
    json.dumps(record)
    with pytest.raises(QueryError, match="interval must be one of"):
        timeline_record(app_holder, query, "decade")


def test_save_export_writes_a_new_file_each_time(app_holder, tmp_path):
    query = Query("Wer traf Lawrow in Sotschi?", 3)
    first = save_export(app_holder, query, "csv", tmp_path)
    second = save_export(app_holder, query, "csv", tmp_path)
    assert first != second and first.name == second.name == "diploqa-wer-traf-lawrow-in-sotschi.csv"
    assert first.parent.parent == tmp_path and first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"\xef\xbb\xbfrank,score,title")
    lines = save_export(app_holder, query, "jsonl", tmp_path).read_text("utf-8").splitlines()
    assert [json.loads(line)["rank"] for line in lines] == [1, 2, 3]
    # a server running for weeks keeps only its recent exports
    old = time.time() - EXPORT_KEEP_SECONDS - 1
    os.utime(first.parent, (old, old))
    latest = save_export(app_holder, query, "csv", tmp_path)
    assert not first.parent.exists() and second.exists() and latest.exists()


def test_save_export_refuses_before_searching(tmp_path, app_holder):
    with pytest.raises(QueryError, match="format must be one of"):
        save_export(app_holder, Query("Kerry"), "pdf", tmp_path)
    with pytest.raises(NoIndexError, match="No index yet"):
        save_export(IndexHolder(tmp_path / "none"), Query("Kerry"), "csv", tmp_path)
    assert not list(tmp_path.glob("export-*"))  # no file was begun


# --- What the page shows for a question: the cards and the overview beside them ----------------

KERRY_SYRIA = "Was sagte Kerry über Syrien?"


def test_the_page_answer_gives_the_cards_and_the_overview_from_one_reading(app_holder, seed_index):
    shown = page_answer(app_holder, KERRY_SYRIA, 5, "auto", per_article_default=2)
    assert shown.query == Query(KERRY_SYRIA, 5)
    assert shown.results == answer_html(app_holder, KERRY_SYRIA, 5)
    timeline = seed_index.timeline(shown.query, "auto")
    peak = timeline.peak()
    assert peak is not None and timeline.undated  # the seeds: one dated article, four not
    assert f"{timeline.articles} passende Artikel / matching articles" in shown.overview
    assert f'class="dq-period dq-peak" data-since="{peak.start}"' in shown.overview
    assert f"ohne Datum / undated: {timeline.undated}" in shown.overview
    for outlet, count in seed_index.facets(shown.query).items():
        assert f'data-outlet="{outlet}">{outlet} <span class="dq-chip-count">{count}<' in (
            shown.overview
        )
    # the link: the server limits passages per article, this search does not
    assert 'data-link="?q=Was+sagte+Kerry+%C3%BCber+Syrien%3F&amp;per_article=0"' in (
        shown.overview
    )


def test_a_bar_narrows_the_answers_to_its_period(app_holder, seed_index):
    peak = seed_index.timeline(KERRY_SYRIA, "auto").peak()
    everywhen = page_answer(app_holder, KERRY_SYRIA, 5)
    narrowed = page_answer(app_holder, KERRY_SYRIA, 5, since=peak.start, until=peak.end)
    dated = {a.id for a in seed_index.articles if a.date and a.date.startswith(peak.label)}
    before = set(re.findall(r'class="dq-card" data-source="([^"]*)"', everywhen.results))
    after = set(re.findall(r'class="dq-card" data-source="([^"]*)"', narrowed.results))
    assert after and after <= dated and before - dated  # undated cards went
    assert f"({peak.start} – {peak.end})" in narrowed.results  # the filters described
    assert "× alle Daten / all dates" in narrowed.overview
    assert f"since={peak.start}&amp;until={peak.end}" in narrowed.overview


def test_the_page_answer_without_an_overview_or_with_bad_input(app_holder, tmp_path):
    assert page_answer(app_holder, KERRY_SYRIA, 3, interval=None).overview == ""
    for fields, reason in [
        ({"since": "gestern"}, "since must be a date like 2016"),
        ({"interval": "decade"}, "interval must be one of"),
    ]:
        shown = page_answer(app_holder, KERRY_SYRIA, 3, **fields)
        assert shown.query is None and shown.overview == "" and reason in shown.results
        assert_no_traceback(shown.results)
    empty = page_answer(IndexHolder(tmp_path / "none"), KERRY_SYRIA)
    assert empty.query is None and 'data-state="no-index"' in empty.results
