"""The web UI's search handlers, without a browser, on a real index of the seeds: cards for a
question, readable errors, escaping, and the JSON records of the API."""

from __future__ import annotations

import json
import re

import pytest
from conftest import assert_no_traceback, first_source

from diploqa import app
from diploqa.errors import DiploqaError


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
    page = app.answer_html(app_holder, question, 5)
    assert first_source(page) == source
    assert page.count('class="dq-card"') == 5
    assert "<mark>" in page and "dq-bar-fill" in page
    assert "Im Artikel zeigen / Show in article" in page
    assert "dq-warning" not in page  # on-topic: no low-score warning


def test_card_shows_title_outlet_score_and_context(app_holder):
    page = app.answer_html(app_holder, "Who did Kerry meet in Sochi?", 1)
    assert "Kerry in Moskau:USA und Russland suchen nach Gemeinsamkeiten" in page
    assert "Süddeutsche Zeitung" in page
    assert re.search(r'style="width:\d{1,3}%"></span></span><span class="dq-pct">\d+ %', page)
    assert "dq-context-passage" in page


def test_k_controls_the_number_of_cards(app_holder):
    assert app.answer_html(app_holder, "Kerry Lawrow", 1).count('class="dq-card"') == 1
    assert app.answer_html(app_holder, "Kerry Lawrow", 20.0).count('class="dq-card"') == 20


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_shows_message_not_traceback(app_holder, question):
    page = app.answer_html(app_holder, question, 5)
    assert app.EMPTY_QUESTION_TEXT in page and "dq-error" in page
    assert "dq-card" not in page
    assert_no_traceback(page)


@pytest.mark.parametrize("k", [0, -3, 2.5])
def test_invalid_k_shows_message(app_holder, k):
    page = app.answer_html(app_holder, "Kerry", k)
    assert "dq-error" in page and "k must be" in page
    assert_no_traceback(page)


@pytest.mark.parametrize("question", ["Wie backe ich Brot?", "How tall is the Eiffel tower?"])
def test_off_topic_question_warns_but_shows_results(app_holder, question):
    page = app.answer_html(app_holder, question, 3)
    assert app.LOW_SCORE_TEXT.split(":")[0] in page and "dq-warning" in page
    assert page.index("dq-warning") < page.index("dq-card")
    assert page.count('class="dq-card"') == 3


def test_question_is_escaped(app_holder):
    question = '<img src=x onerror=alert(1)> "Kerry"'
    page = app.answer_html(app_holder, question, 1)
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_search_records_are_json_ready(app_holder):
    records = app.search_records(app_holder, "Who did Kerry meet in Sochi?", 3)
    assert [r["rank"] for r in records] == [1, 2, 3]
    assert records[0]["source"] == "001_50e04ee83bc37b66.txt"
    assert set(records[0]) >= {"rank", "score", "title", "source", "date", "outlet", "text"}
    assert records[0]["answer_sentence"] in records[0]["text"]
    json.dumps(records)


def test_search_records_raise_readable_errors(app_holder):
    with pytest.raises(DiploqaError, match="empty"):
        app.search_records(app_holder, " ", 3)
