"""End to end: a folder with a saved web page, a JSON Lines and a CSV export is indexed and each
is found by a question, with its metadata."""

from __future__ import annotations

import shutil
from pathlib import Path

import diploqa

ARTICLES = Path(__file__).parent / "articles"


def test_html_jsonl_and_csv_are_indexed_and_found(tmp_path, embedder):
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(ARTICLES / "pages" / "rundschau_lausanne.html", folder)
    shutil.copy(ARTICLES / "records" / "news.jsonl", folder)
    shutil.copy(ARTICLES / "records" / "news.csv", folder)
    index = diploqa.build_index(folder, tmp_path / "index")
    assert not index.build_report.skipped
    assert len(index.articles) == 1 + 4 + 3

    cases = [
        (
            "Mit wie vielen Außenministern verhandelten Kerry und Lawrow in Lausanne?",
            "rundschau_lausanne.html",
            ("Syrien-Gespräche in Lausanne: Kerry und Lawrow ohne Durchbruch", "2016-10-15"),
        ),
        (
            "Where did Tillerson and Lavrov meet for the first time?",
            "news.jsonl#g20-bonn-2017",
            ("Tillerson und Lawrow treffen sich erstmals in Bonn", "2017-02-16"),
        ),
        (
            "Um wie viele Mitarbeiter muss die US-Botschaft in Russland ihr Personal verringern?",
            "news.csv#botschaften-2017",
            ("Moskau weist US-Diplomaten aus", "2017-07-31"),
        ),
    ]
    for question, source, (title, date) in cases:
        hit = index.search(question, k=1)[0]
        assert hit.source == source, question
        assert (hit.title, hit.date) == (title, date)
    assert index.article("rundschau_lausanne.html").outlet == "Rheinische Rundschau"
    assert index.article("news.csv#botschaften-2017").date_text == "31. Juli 2017"

    # The same index loads from disk with every field (date_text included).
    loaded = diploqa.load_index(tmp_path / "index")
    assert loaded.stored.articles == index.stored.articles
