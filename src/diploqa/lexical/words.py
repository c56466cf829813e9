"""The keyword index's words: split, lower-cased, stopwords dropped, German-stemmed.

The stopwords are bm25s's German and English lists, shipped as data files
(``data/stopwords.de.txt``, ``data/stopwords.en.txt``) rather than read from bm25s: importing
the bm25s package imports scipy, half a second of a server's start, for two lists; reading its
source would tie the tokenisation to whichever bm25s is installed, and the stopwords are part of
the keyword files' format (:data:`~diploqa.lexical.files.KEYWORDS_VERSION`). A plain word list
runs no code and changes only with diploqa; a test checks it against bm25s's lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import Stemmer

_DATA = Path(__file__).parent.parent / "data"


def _word_list(name: str) -> tuple[str, ...]:
    """The words of a data file, one a line, its ``#`` comment lines left out."""
    text = (_DATA / name).read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line and not line.startswith("#"))


STOPWORDS_GERMAN = _word_list("stopwords.de.txt")
STOPWORDS_EN = _word_list("stopwords.en.txt")
#: The words no passage or question is searched by (question words bm25s's list lacks added).
STOPWORDS = frozenset(STOPWORDS_GERMAN) | frozenset(STOPWORDS_EN) | {"wer", "wann", "warum"}
WORD = re.compile(r"\w+", re.UNICODE)


def words_of(text: str) -> list[str]:
    """The lower-cased words of ``text``, stopwords included."""
    return WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    """The lower-cased words of ``text`` that are no stopwords."""
    return [w for w in words_of(text) if w not in STOPWORDS]


class Words:
    """A German Snowball stemmer with a cache of the words it stemmed: a corpus repeats its
    words, so each is stemmed once, and the shared strings keep the token lists small."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("german")
        self._stems: dict[str, str] = {}

    def tokenize(self, text: str) -> list[str]:
        """Lower-cased, stemmed content words of ``text``, in order."""
        stems, out = self._stems, []
        for word in words_of(text):
            if word not in STOPWORDS:
                stem = stems.get(word)
                if stem is None:
                    stem = stems[word] = self._stemmer.stemWord(word)
                out.append(stem)
        return out

    def stem(self, word: str) -> str:
        """The stem of one (lower-cased) word."""
        return self._stemmer.stemWord(word)

    def stem_all(self, words: Iterable[str]) -> list[str]:
        """The stems of (lower-cased) ``words``, in order."""
        return self._stemmer.stemWords(list(words))
