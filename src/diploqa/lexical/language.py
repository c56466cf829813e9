"""Which language a text is in, English or German, by its function words.

The keyword index groups its passages by language (:data:`LANGUAGES`): the fusion in
:mod:`diploqa.ranking` weights BM25 by the question's coverage within each group, so an English
question is not judged by how few of its words German passages hold.
"""

from __future__ import annotations

from .words import STOPWORDS_EN, STOPWORDS_GERMAN, words_of

#: Language groups of passages: German (and anything not recognisably English), English.
LANGUAGES = ("de", "en")

#: Function words of one language that are not words of the other ("the", "and", "which";
#: "der", "und", "welche"): a text's language is the one whose words it uses more.
_ENGLISH_ONLY = frozenset(STOPWORDS_EN) - frozenset(STOPWORDS_GERMAN) - {"a", "i", "so", "man"}
_GERMAN_ONLY = (frozenset(STOPWORDS_GERMAN) | {"wer", "wann", "warum", "wie", "wo"}) - frozenset(
    STOPWORDS_EN
)


def language_of(text: str) -> str | None:
    """``"en"`` or ``"de"`` by function words (English words inside German text, such as
    names, "Super Bowl" or a quote, do not make it English); None when it has none (a short
    question of names)."""
    words = words_of(text)
    english = sum(w in _ENGLISH_ONLY for w in words)
    german = sum(w in _GERMAN_ONLY for w in words)
    if english == german == 0:
        return None
    return "en" if english > german else "de"


def language_group(text: str) -> int:
    """The index into :data:`LANGUAGES` of ``text``'s group (German where it has none)."""
    return LANGUAGES.index(language_of(text) or "de")
