"""Which sentence a hit highlights (diploqa.highlight): when sentences are also compared by
meaning, and how meaning and word overlap are weighed."""

import numpy as np

from diploqa.config import RankingConfig
from diploqa.highlight import best_sentence, compares_by_meaning
from diploqa.lexical import LexicalScores

NONE = np.zeros(3)


def _question(coverage: float, bm25_coverage: float | None = None) -> LexicalScores:
    return LexicalScores(NONE, coverage, ("kerry",), bm25_coverage)


def test_meaning_is_compared_only_where_words_cannot_carry_the_highlight():
    """USE costs time per sentence, so only questions whose words are mostly absent from the
    archive as they are pay it; an English question over German articles does, also where the
    dictionary found some of its words (their translations alone pick the answer less often)."""
    ranking = RankingConfig()
    assert not compares_by_meaning(_question(1.0), ranking)
    assert not compares_by_meaning(_question(0.6, 0.9), ranking)
    assert compares_by_meaning(_question(0.2), ranking)
    assert compares_by_meaning(_question(0.25, 0.5), ranking)  # words found by translation
    assert not compares_by_meaning(_question(0.2), RankingConfig(semantic_highlights=0))


def test_the_answer_sentence_weighs_meaning_and_words_by_the_question_coverage():
    spans = [(0, 10), (11, 20), (21, 30)]
    words = np.array([4.0, 1.0, 0.0], dtype=np.float32)
    meaning = np.array([0.30, 0.55, 0.20], dtype=np.float32)
    assert best_sentence(spans, words, None, 1.0) == (0, 10)  # words alone
    # words count in proportion to the share of the question's words the archive holds
    assert best_sentence(spans, words, meaning, 0.1) == (11, 20)
    assert best_sentence(spans, words, meaning, 1.0) == (0, 10)
    # ties go to the earlier sentence: news put the fact first
    assert best_sentence(spans, np.array([1.0, 1.0, 0.0]), None, 1.0) == (0, 10)
