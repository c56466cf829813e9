"""BM25 with German stemming and English name spellings."""

from __future__ import annotations

from diploqa.lexical import Bm25Index

PASSAGES = [
    "Kerry traf Lawrow in Sotschi am Schwarzen Meer.",
    "In München sprachen die Außenminister über eine Waffenruhe in Syrien.",
    "Tillerson kritisierte die Herrschaft der Assad-Familie.",
]


def test_german_question_finds_its_passage_with_full_coverage():
    bm25 = Bm25Index(PASSAGES)
    result = bm25.score("Wen traf Kerry in Sotschi?")
    assert int(result.scores.argmax()) == 0
    assert result.coverage > 0.6


def test_english_spellings_are_mapped_to_german_ones():
    bm25 = Bm25Index(PASSAGES)
    result = bm25.score("Lavrov in Sochi")
    assert int(result.scores.argmax()) == 0
    result = bm25.score("ceasefire talks in Munich")
    assert int(result.scores.argmax()) == 1


def test_english_question_has_low_coverage():
    bm25 = Bm25Index(PASSAGES)
    english = bm25.score("What did the foreign ministers discuss about the war?")
    german = bm25.score("Worüber sprachen die Außenminister in München?")
    assert english.coverage < german.coverage


def test_stemming_matches_inflections():
    bm25 = Bm25Index(PASSAGES)
    assert int(bm25.score("Herrschaften der Familien").scores.argmax()) == 2


def test_no_known_word_scores_zero():
    bm25 = Bm25Index(PASSAGES)
    result = bm25.score("xyzzy quux")
    assert result.coverage == 0 and not result.scores.any()


def test_overlap_weights_rare_words_higher():
    bm25 = Bm25Index(PASSAGES * 3 + ["Syrien Syrien Syrien"])
    weights = bm25.overlap(bm25.query_terms("Sotschi Syrien"), ["Sotschi", "Syrien"])
    assert weights[0] > weights[1] > 0
