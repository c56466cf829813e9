"""The keyword index's words: stopwords and stemming."""

from __future__ import annotations

from diploqa.lexical import STOPWORDS_EN, STOPWORDS_GERMAN
from diploqa.lexical.words import Words, content_words


def test_the_stopwords_are_bm25s_lists():
    from bm25s import stopwords

    assert tuple(stopwords.STOPWORDS_GERMAN) == STOPWORDS_GERMAN
    assert tuple(stopwords.STOPWORDS_EN) == STOPWORDS_EN


def test_content_words_are_stemmed_and_stopwords_dropped():
    words = Words()
    assert words.tokenize("Die Waffenruhe und die Waffenruhen") == ["waffenruh", "waffenruh"]
    assert words.tokenize("und der die the and of wer wann warum") == []
    assert words.stem_all(["sanktionen", "gespräche"]) == ["sanktion", words.stem("gespräch")]
    assert content_words("Die Sanktionen") == ["sanktionen"]


def test_the_word_lists_leave_out_their_comment_header():
    assert len(STOPWORDS_GERMAN) == len(set(STOPWORDS_GERMAN)) > 200
    assert not any(w.startswith("#") or w != w.strip() or not w for w in STOPWORDS_GERMAN)
    assert STOPWORDS_EN[:3] == ("a", "an", "and")
