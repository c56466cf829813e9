"""Making a keyword index: every way ends in its constructor, sharing what it can."""

from __future__ import annotations

import numpy as np
from keyword_samples import MIXED, QUESTIONS, TITLES, same_scores

from diploqa.lexical import Bm25Index, QuerySettings


def test_other_query_settings_share_the_corpus():
    built = Bm25Index.build(MIXED, dictionary=None, shared_titles=TITLES)
    other = built.with_query_settings(None, 0.25)
    assert other.corpus is built.corpus and other is not built
    assert other.query == QuerySettings(None, 0.25) and built.query == QuerySettings()
    same_scores(built, other)


def test_an_index_made_from_a_corpus_scores_like_the_one_built():
    built = Bm25Index.build(MIXED, dictionary=None, shared_titles=TITLES)
    same_scores(Bm25Index(built.corpus), built)
    assert Bm25Index(built.corpus).size == len(MIXED)


def test_an_update_keeps_the_query_settings():
    index = Bm25Index.build(MIXED, dictionary=None, translated_word_weight=0.25)
    updated = index.updated(MIXED[:2], np.array([0, 1]))
    assert updated.query == index.query and updated.corpus is not index.corpus
    assert updated.size == 2 and index.size == len(MIXED)
    matched = index.matching(MIXED[1:])
    assert matched.query == index.query
    for question in QUESTIONS:  # the one it was made from is unchanged
        np.testing.assert_array_equal(
            index.score(question).scores, Bm25Index.build(MIXED, None).score(question).scores
        )
