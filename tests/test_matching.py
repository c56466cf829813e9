"""Which articles match a question (diploqa.matching) and how the index counts them: its
timeline and outlet facets on the real model, over the seeds (US–Russian diplomacy) and a
flood story three papers covered in June 2013. The subject's month is the highest bar, a
question about diplomacy leaves it dark, the filters apply, and a question is read once."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

import diploqa
from diploqa.errors import QueryError
from diploqa.matching import Matches, select_matches
from diploqa.ranking import ArticleScores

FLOOD = {
    "passau-1.txt": (
        "title: Hochwasser: Passau steht unter Wasser\ndate: 2013-06-03\n"
        "source: Passauer Bote\nurl: https://example.org/passau-1\n\n"
        "Die Donau hat in Passau den höchsten Pegelstand seit 500 Jahren erreicht. Die "
        "Altstadt steht meterhoch unter Wasser, Tausende Bewohner mussten ihre Häuser "
        "verlassen. Feuerwehr und Bundeswehr füllen Sandsäcke, Schulen bleiben geschlossen.\n"
    ),
    "passau-2.txt": (
        "title: Nach der Flut: Aufräumen in Passau\ndate: 2013-06-07\n"
        "source: Passauer Bote\n\n"
        "Das Wasser der Donau und des Inn geht langsam zurück. In der Passauer Altstadt "
        "beginnen die Aufräumarbeiten: Schlamm muss aus Kellern und Geschäften geschaufelt "
        "werden. Die Schäden des Hochwassers gehen in die Millionen.\n"
    ),
    "deggendorf.txt": (
        "title: Deichbruch bei Deggendorf\ndate: 2013-06-05\nsource: Donaukurier Test\n\n"
        "Bei Deggendorf ist ein Deich an der Donau gebrochen. Das Hochwasser überflutete "
        "ganze Ortschaften, Bewohner wurden mit Hubschraubern von den Dächern gerettet. Die "
        "Autobahn A3 ist gesperrt.\n"
    ),
    "flut-rueckblick.txt": (
        "title: Die Flut an der Donau: ein Rückblick\nsource: Donaukurier Test\n\n"
        "Das Hochwasser an Donau und Inn hat Passau und Deggendorf schwer getroffen. Viele "
        "Bewohner haben ihre Häuser noch immer nicht wieder beziehen können, die Hilfe für "
        "die Flutopfer läuft weiter.\n"
    ),
    "wien-schach.txt": (
        "title: Schachturnier in Wien eröffnet\ndate: 2014-03-10\nsource: Wiener Blatt\n\n"
        "Im Wiener Rathaus hat ein internationales Schachturnier begonnen. Zwölf "
        "Großmeister spielen neun Runden, der Sieger erhält ein Preisgeld von 20.000 Euro.\n"
    ),
}
FLOOD_QUESTION = "Hochwasser der Donau in Passau"
DIPLOMACY_QUESTION = "Gespräche von Kerry und Lawrow über Syrien"


@pytest.fixture(scope="module")
def archive(tmp_path_factory, seed_copy, seed_index, embedder) -> diploqa.Index:
    folder = shutil.copytree(seed_copy, tmp_path_factory.mktemp("archive") / "articles")
    for name, text in FLOOD.items():
        (folder / name).write_text(text, encoding="utf-8")
    # the session's seed index, updated: only the flood articles are embedded
    index = shutil.copytree(seed_index.path, tmp_path_factory.mktemp("archive-index") / "index")
    return diploqa.build_index(folder, index)


def test_the_subjects_month_is_the_highest_bar(archive):
    timeline = archive.timeline(FLOOD_QUESTION)
    assert isinstance(timeline, diploqa.Timeline) and isinstance(timeline[0], diploqa.Period)
    assert {"Timeline", "Period", "Answer"} <= set(diploqa.__all__)
    assert timeline.interval == "month"
    assert timeline.peak().label == "2013-06" and timeline.peak().articles == 3
    assert [p.label for p in timeline if p.articles] == ["2013-06"]  # not Vienna, no seed
    assert timeline.undated == 1  # the review without a date
    assert timeline.articles == 4 and not timeline.capped
    matched = archive.matches(FLOOD_QUESTION)
    assert set(matched.articles) == set(FLOOD) - {"wien-schach.txt"}
    assert list(matched.scores) == sorted(matched.scores, reverse=True)
    assert min(matched.scores) >= matched.threshold


def test_another_subject_leaves_that_month_dark(archive):
    timeline = archive.timeline(DIPLOMACY_QUESTION, "year")
    assert not any(p.label == "2013" and p.articles for p in timeline)
    found = set(archive.matches(DIPLOMACY_QUESTION).articles)
    assert found and found <= {a.id for a in archive.articles if a.id not in FLOOD}
    assert archive.timeline("Rezept für einen Apfelstrudel").articles == 0


def test_days_weeks_and_auto(archive):
    by_day = archive.timeline(FLOOD_QUESTION, "day")
    assert [(p.label, p.articles) for p in by_day if p.articles] == [
        ("2013-06-03", 1), ("2013-06-05", 1), ("2013-06-07", 1),
    ]  # fmt: skip
    assert len(by_day) == 5  # the empty days between are bars too
    assert archive.timeline(FLOOD_QUESTION, "auto").interval == "day"
    weeks = archive.timeline(FLOOD_QUESTION, "week")
    assert [(p.label, p.start, p.articles) for p in weeks] == [("2013-W23", "2013-06-03", 3)]


def test_facets_count_the_same_articles_by_outlet(archive):
    assert archive.facets(FLOOD_QUESTION) == {"Donaukurier Test": 2, "Passauer Bote": 2}
    assert archive.facets(FLOOD_QUESTION, since="2013-06-04") == {
        "Donaukurier Test": 1, "Passauer Bote": 1,
    }  # fmt: skip


def test_the_filters_of_a_search_apply(archive):
    assert archive.timeline(FLOOD_QUESTION, since="2013-06-04").articles == 2  # undated: out
    only = archive.timeline(FLOOD_QUESTION, outlet="Passauer Bote", until="2013-06-05")
    assert [(p.label, p.articles) for p in only] == [("2013-06", 1)] and only.undated == 0
    assert archive.timeline(FLOOD_QUESTION, source="passau-*").articles == 2
    assert archive.timeline(FLOOD_QUESTION, outlet="Niemand").articles == 0
    query = diploqa.Query(FLOOD_QUESTION, outlet=["Donaukurier Test"])
    assert archive.timeline(query).articles == archive.facets(query)["Donaukurier Test"] == 2


def test_ask_reads_the_question_once_for_hits_and_counts(archive, monkeypatch):
    encoded = []
    real = archive.encoder.encode_queries
    monkeypatch.setattr(
        archive.encoder, "encode_queries", lambda q, **kw: encoded.append(q) or real(q, **kw)
    )
    answer = archive.ask(FLOOD_QUESTION, 3, timeline="month", facets=True)
    assert isinstance(answer, diploqa.Answer) and len(encoded) == 1
    assert [h.source for h in answer.hits] == [h.source for h in archive.search(FLOOD_QUESTION, 3)]
    assert answer.timeline == archive.timeline(FLOOD_QUESTION)
    assert answer.facets == archive.facets(FLOOD_QUESTION)
    assert set(answer.matches.articles) == set(archive.matches(FLOOD_QUESTION).articles)
    plain = archive.ask(FLOOD_QUESTION, 3)
    assert plain.timeline is None and plain.facets is None and plain.matches is None


def test_bad_input_is_a_query_error_before_any_work(archive, monkeypatch):
    monkeypatch.setattr(archive.encoder, "encode_queries", lambda q, **kw: pytest.fail("encoded"))
    with pytest.raises(QueryError, match="interval must be one of"):
        archive.timeline(FLOOD_QUESTION, "fortnight")
    with pytest.raises(QueryError, match="since must be a date"):
        archive.facets(FLOOD_QUESTION, since="gestern")
    with pytest.raises(QueryError, match="the question is empty"):
        archive.timeline("   ")


def test_too_few_candidates_say_the_count_is_a_lower_bound(archive):
    narrow = archive.with_ranking(replace(archive.ranking, match_candidates=2))
    assert len(narrow.matches(FLOOD_QUESTION)) <= 4  # 2 chunks by meaning, 2 by keywords
    assert narrow.timeline(FLOOD_QUESTION).capped  # the 2nd candidate by meaning matched
    assert not archive.timeline(FLOOD_QUESTION).capped


def test_select_matches_at_the_margin_above_the_background():
    found = ArticleScores(
        positions=np.array([3, 0, 1, 2]),
        scores=np.array([0.95, 0.9, 0.81, 0.8]),
        floor=0.6,
        background=0.7,
    )
    matches = select_matches(found, 0.105, ["a", "b", "c", "d"])
    assert matches.articles == ("d", "a", "b") and matches.scores == (0.95, 0.9, 0.81)
    assert list(matches.positions) == [3, 0, 1] and not matches.capped
    assert matches.threshold == pytest.approx(0.805)
    assert select_matches(replace(found, floor=0.81), 0.105, "abcd").capped
    assert len(Matches()) == 0 and not Matches().capped


def test_an_article_counts_once_at_its_best_chunk(archive):
    found = archive.ranker.article_scores(
        archive.lexical, archive.lexical.score(FLOOD_QUESTION),
        archive.encoder.encode_queries([FLOOD_QUESTION])[0], 1000,
        np.zeros(archive.stored.vectors.dimension, dtype=np.float32),
    )  # fmt: skip
    assert len(set(found.positions.tolist())) == len(found.positions) == len(archive.articles)
    assert list(found.scores) == sorted(found.scores, reverse=True)
    assert found.background == 0.0 and found.floor == -np.inf  # every chunk was a candidate
    ids = [archive.articles[p].id for p in found.positions[:3]]
    assert set(ids) <= set(FLOOD)
