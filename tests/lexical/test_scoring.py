"""BM25 with German stemming: scores, coverage and highlighting weights."""

from __future__ import annotations

import numpy as np
from keyword_samples import PASSAGES

from diploqa.lexical import Bm25Index


def test_german_question_finds_its_passage_with_full_coverage():
    bm25 = Bm25Index.build(PASSAGES)
    result = bm25.score("Wen traf Kerry in Sotschi?")
    assert int(result.scores.argmax()) == 0
    assert result.coverage > 0.6


def test_english_question_has_low_coverage():
    bm25 = Bm25Index.build(PASSAGES)
    english = bm25.score("What did the foreign ministers discuss about the war?")
    german = bm25.score("Worüber sprachen die Außenminister in München?")
    assert english.coverage < german.coverage


def test_stemming_matches_inflections():
    bm25 = Bm25Index.build(PASSAGES)
    assert int(bm25.score("Herrschaften der Familien").scores.argmax()) == 2


def test_no_known_word_scores_zero():
    bm25 = Bm25Index.build(PASSAGES)
    result = bm25.score("xyzzy quux")
    assert result.coverage == 0 and not result.scores.any()


def test_overlap_weights_rare_words_higher():
    bm25 = Bm25Index.build(PASSAGES * 3 + ["Syrien Syrien Syrien"])
    weights = bm25.overlap(bm25.query_terms("Sotschi Syrien"), ["Sotschi", "Syrien"])
    assert weights[0] > weights[1] > 0


def test_scores_are_those_of_bm25s_lucene_variant():
    """The keyword index computes BM25 from counts at question time; bm25s (the reference,
    which stores the scores) must give the same scores for the same words."""
    import bm25s

    passages = PASSAGES * 2 + [
        "Lawrow und Kerry verhandelten in Genf über eine Waffenruhe in Syrien.",
        "Die Sanktionen gegen Russland wurden verlängert; Sanktionen, Sanktionen.",
        "",
        "Das Wetter in Hamburg bleibt mild.",
    ]
    index = Bm25Index.build(passages, dictionary=None)
    reference = bm25s.BM25()
    reference.index([index.tokenize(p) for p in passages], show_progress=False)
    for question in ("Waffenruhe Syrien Syrien", "Wo traf Kerry Lawrow?", "Sanktionen", "xyz"):
        terms = [t for t in index.query_terms(question) if t in reference.vocab_dict]
        expected = reference.get_scores(terms) if terms else np.zeros(len(passages))
        np.testing.assert_allclose(index.score(question).scores, expected, rtol=1e-6)
        assert question == "xyz" or expected.max() > 0
