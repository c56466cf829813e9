"""Updating a keyword index: an update must give what a build from nothing gives."""

from __future__ import annotations

import numpy as np
import pytest
from keyword_samples import same_scores

from diploqa.lexical import Bm25Index, Corpus, passage_digests
from diploqa.lexical.postings import Segment


def test_an_updated_index_scores_like_one_built_from_nothing():
    """An update keeps the old passages' counts (by row), adds the new ones' and drops the
    removed ones'; what it gives must be exactly what a build of the new passages gives."""
    passages = [
        "Lawrow und Kerry verhandelten in Genf über eine Waffenruhe in Syrien.",
        "Die Sanktionen gegen Russland wurden verlängert.",
        "Das Wetter in Hamburg bleibt mild.",
        "The ministers met in Geneva.",
    ]
    old = Bm25Index.build(passages, dictionary=None)
    new = [passages[3], "Kerry traf Lawrow in Sotschi; die Waffenruhe hielt.", passages[0]]
    tokenized = []
    original = Bm25Index.tokenize
    Bm25Index.tokenize = lambda self, text: tokenized.append(text) or original(self, text)
    try:
        updated = old.updated(new, np.array([3, -1, 0]))
    finally:
        Bm25Index.tokenize = original
    assert tokenized == [new[1]]  # only the new passage is split and stemmed
    fresh = Bm25Index.build(new, dictionary=None)
    for question in ("Waffenruhe Syrien", "Wo traf Kerry Lawrow?", "Sanktionen", "Geneva"):
        a, b = updated.score(question), fresh.score(question)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)
        assert (a.coverage, a.by_language) == (b.coverage, b.by_language)
    assert updated.languages.tolist() == fresh.languages.tolist()
    assert updated.score("Sanktionen").coverage == 0  # the removed passage's words are gone


def test_an_update_splits_again_the_passages_whose_title_became_shared():
    """A new article with the same title makes the old one's title shared: its passages'
    title words stop scoring, as in a build from nothing (and the reverse on removal)."""
    passages = ["Liveblog Ukraine\nKerry traf Lawrow.", "Tillerson kritisierte Assad."]
    old = Bm25Index.build(passages, dictionary=None, shared_titles=["", ""])
    new = [*passages, "Liveblog Ukraine\nDie Waffenruhe hielt."]
    titles = ["Liveblog Ukraine", "", "Liveblog Ukraine"]
    updated = old.updated(new, np.array([0, 1, -1]), titles)
    fresh = Bm25Index.build(new, dictionary=None, shared_titles=titles)
    same_scores(updated, fresh, new)
    assert updated.score("Liveblog").coverage == 0
    back = updated.updated(passages, np.array([0, 1]), ["", ""])
    same_scores(back, Bm25Index.build(passages, dictionary=None, shared_titles=["", ""]), passages)
    assert back.score("Liveblog").coverage > 0


def test_an_old_row_taken_twice_is_split_again_for_the_second():
    old = Bm25Index.build(["Kerry traf Lawrow.", "Assad"], dictionary=None)
    new = ["Kerry traf Lawrow.", "Kerry traf Lawrow."]  # two renamed copies of one article
    updated = old.updated(new, np.array([0, 0]))
    same_scores(updated, Bm25Index.build(new, dictionary=None), new)


def test_matching_reuses_the_rows_whose_text_it_holds():
    """A server that loads a generation another process wrote splits only the passages its
    previous keyword index does not hold (by text), with the result of a build."""
    old = Bm25Index.build(["Kerry traf Lawrow.", "Assad regiert.", "Die Waffenruhe hielt."], None)
    new = ["Die Waffenruhe hielt.", "Neue Sanktionen gegen Moskau.", "Kerry traf Lawrow."]
    tokenized = []
    original = Bm25Index.tokenize
    Bm25Index.tokenize = lambda self, text: tokenized.append(text) or original(self, text)
    try:
        matched = old.matching(new)
    finally:
        Bm25Index.tokenize = original
    assert tokenized == [new[1]]
    same_scores(matched, Bm25Index.build(new, dictionary=None), new)
    np.testing.assert_array_equal(matched.digests, passage_digests(new))
    unrelated = Bm25Index.build(["Das Wetter bleibt mild."], None).matching(new)
    same_scores(unrelated, Bm25Index.build(new, dictionary=None), new)
    empty = Bm25Index.build([], None).matching(new)
    same_scores(empty, Bm25Index.build(new, dictionary=None), new)


def test_an_origin_that_does_not_fit_is_refused():
    old = Bm25Index.build(["Kerry traf Lawrow."], dictionary=None)
    with pytest.raises(ValueError, match="origin"):
        old.updated(["a", "b"], np.array([0]))
    with pytest.raises(ValueError, match="origin"):
        old.updated(["a"], np.array([5]))


def test_a_corpus_refuses_parts_that_do_not_fit():
    good = Bm25Index.build(["Kerry traf Lawrow.", "The talks went on."], None).corpus
    parts = (good.body, good.titles, good.languages, good.digests)
    assert Corpus(*parts).size == 2
    for bad, message in [
        (
            (good.body, good.body.updated(np.array([0]), Segment.from_tokens([])), *parts[2:]),
            "postings",
        ),
        ((*parts[:2], good.languages[:1], good.digests), "languages"),
        ((*parts[:2], good.languages.astype(np.int64), good.digests), "languages"),
        ((*parts[:2], np.array([0, 2], np.int8), good.digests), "languages"),
        ((*parts[:3], good.digests[:1]), "digests"),
        ((*parts[:3], good.digests.astype(np.int64)), "digests"),
    ]:
        with pytest.raises(ValueError, match=message):
            Corpus(*bad)
    with pytest.raises(ValueError, match="settings"):
        Corpus(*parts, k1=-1.0)
    with pytest.raises(ValueError, match="settings"):
        Corpus(*parts, b=1.5)
