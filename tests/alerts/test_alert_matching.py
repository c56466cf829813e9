"""The match rule with the real model: a new article alerts when it would be among the
question's first results and scores at least the floor; filters apply; the prefilter's bound
rules out nothing the full ranking would match."""

from __future__ import annotations

import shutil

import pytest
from conftest import GENEVA_QUESTION, NEW_ARTICLE

import diploqa
from diploqa.alerts import Matcher
from diploqa.query import Query

FOOTBALL = """title: Pokalsieg in Musterstadt
date: 2022-01-22
source: Sportblatt

Der FC Musterstadt hat das Pokalfinale mit 3:1 gegen den SV Beispielhausen gewonnen. Zwei
Tore fielen in der Nachspielzeit; der Trainer lobte die Geduld seiner jungen Mannschaft.
"""
NEW = ["genf.txt", "pokal.txt"]


@pytest.fixture(scope="module")
def grown(tmp_path_factory, seed_copy, seed_index) -> diploqa.Index:
    """The seeds' index with two new articles."""
    root = tmp_path_factory.mktemp("grown")
    articles = shutil.copytree(seed_copy, root / "articles")
    index = shutil.copytree(seed_index.path, root / "index")
    (articles / "genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (articles / "pokal.txt").write_text(FOOTBALL, encoding="utf-8")
    return diploqa.build_index(articles, index)


def test_each_question_gets_the_new_article_that_answers_it_and_no_other(grown):
    queries = [Query(GENEVA_QUESTION), Query("Wer gewann das Pokalfinale in Musterstadt?"),
               Query("Worüber telefonierten Obama und Putin?")]  # fmt: skip
    geneva, football, old = Matcher().match(grown, queries, NEW)
    assert [m.article_id for m in geneva] == ["genf.txt"]
    assert "Genf" in geneva[0].hit.highlighted_sentence and geneva[0].hit.rank == 1
    assert geneva[0].score >= Matcher().floor
    assert [m.article_id for m in football] == ["pokal.txt"]
    assert old == []  # answered by a seed article that was there before


def test_filters_apply_and_the_floor_rank_and_lead_decide(grown):
    only = Query(GENEVA_QUESTION, outlet="Sportblatt")
    since = Query(GENEVA_QUESTION, since="2023")
    assert Matcher().match(grown, [only, since], NEW) == [[], []]
    [[found]] = Matcher().match(grown, [Query(GENEVA_QUESTION)], NEW)
    assert Matcher(floor=found.score + 0.001).match(grown, [Query(GENEVA_QUESTION)], NEW) == [[]]
    # ranked below every older article (rank 0 allows none above): no alert
    assert Matcher(rank=0).match(grown, [Query(GENEVA_QUESTION)], NEW) == [[]]
    # not far enough ahead of the best older article: no alert
    best_older = Matcher(lead=0.0).ranked(
        grown, Query(GENEVA_QUESTION), Matcher().encode(grown, [GENEVA_QUESTION])[0], 2
    )[0][1][1]
    lead = found.score - best_older
    assert lead >= Matcher().lead
    assert Matcher(lead=lead + 0.001).match(grown, [Query(GENEVA_QUESTION)], NEW) == [[]]
    assert Matcher(lead=lead - 0.001).match(grown, [Query(GENEVA_QUESTION)], NEW) == [[found]]


def test_the_bound_rules_out_nothing_the_ranking_would_match(grown):
    queries = [Query(GENEVA_QUESTION), Query("Who met in Geneva in January 2022?"),
               Query("Wer gewann das Pokalfinale?"), Query("What did Tillerson say?"),
               Query("Wer schätzte die Chance auf eine Waffenruhe auf 49 Prozent?")]  # fmt: skip
    low = Matcher(floor=0.5)
    unbounded = Matcher(floor=0.5, margin=10.0)  # every question ranked
    assert low.match(grown, queries, NEW) == unbounded.match(grown, queries, NEW)
    assert unbounded.ranked_questions == len(queries)
    from diploqa.alerts.matching import _rows_by_article

    raw = low.encode(grown, [q.question for q in queries])
    bound = low.bounds(grown, raw, _rows_by_article(grown, NEW))
    for q, query in enumerate(queries):  # the whole ranking: every article's best score
        ranked, _ = low.ranked(grown, query, raw[q], 10)
        for row, score in ranked:
            aid = grown.stored.chunks[row].article_id
            if aid in NEW:
                assert score <= bound[q, NEW.index(aid)] + low.margin, (query, aid)


def test_a_question_whose_best_answer_stands_is_not_ranked_again_for_weaker_news(grown):
    """After a ranking, a question is ranked again only for a new article whose bound comes
    within reach of its best score plus the lead; a matcher that has not ranked it yet (a
    restarted server) ranks it for anything within reach of the floor."""
    query = Query(GENEVA_QUESTION)
    seen = Matcher()
    [[found]] = seen.match(grown, [query], ["genf.txt"])  # genf.txt is now its best answer
    assert seen.ranked_questions == 1
    assert seen.match(grown, [query], ["pokal.txt"]) == [[]] and seen.ranked_questions == 0
    fresh = Matcher()
    assert fresh.match(grown, [query], ["pokal.txt"]) == [[]] and fresh.ranked_questions == 1
    assert seen.match(grown, [query], ["genf.txt"]) == [[found]]  # a better one still counts


def test_a_matcher_given_what_another_kept_ranks_no_more_than_it(grown, monkeypatch):
    """A restarted server's matcher, given the question's kept state (:mod:`~diploqa.alerts
    .state`), spares the ranking and the encoding as the matcher that ran before would."""
    query = Query(GENEVA_QUESTION)
    seen = Matcher()
    assert len(seen.match(grown, [query], ["genf.txt"])[0]) == 1
    restarted = Matcher()
    assert restarted.restore(grown, query, seen.state(grown, query))
    monkeypatch.setattr(grown.encoder, "encode_queries", None)  # it must not encode again
    assert restarted.match(grown, [query], ["pokal.txt"]) == [[]]
    assert restarted.ranked_questions == 0


def test_questions_are_encoded_in_small_calls_and_once():
    """The encoder is shared with searches (one lock per call): a thousand new questions go
    in calls of at most QUESTIONS_PER_CALL, each question once, in order."""
    from types import SimpleNamespace

    import numpy as np

    from diploqa.alerts.matching import QUESTIONS_PER_CALL

    calls: list[list[str]] = []

    def encode_queries(texts):
        calls.append(list(texts))
        return np.array([[float(t.split()[1])] for t in texts])

    encoder = SimpleNamespace(model_id="m", backend="b", encode_queries=encode_queries)
    index = SimpleNamespace(encoder=encoder)
    questions = [f"Frage {i}" for i in range(40)]
    matcher = Matcher()
    raw = matcher.encode(index, questions + questions[:3])
    assert raw[:, 0].tolist() == [*range(40), 0, 1, 2]
    assert max(len(c) for c in calls) == QUESTIONS_PER_CALL and len(calls) == 3
    assert [q for c in calls for q in c] == questions
    matcher.encode(index, questions[5:9])
    assert len(calls) == 3  # kept: not encoded again
