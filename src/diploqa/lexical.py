"""Keyword ranking (BM25 with German stemming) to back up the dense model.

Dense retrieval finds paraphrases across languages but misses a share of questions that repeat an
article's rare words verbatim (a name, a place, a number); BM25 finds those almost always. The
fusion in :mod:`diploqa.search` weights BM25 by how many of the question's words occur in the
corpus at all, so an English question over German articles, whose words mostly do not occur,
is left to the dense model.

The BM25 index is rebuilt from the stored passages when an index is loaded (a second for tens of
thousands of passages), so nothing extra is written to disk.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_GERMAN) | frozenset(STOPWORDS_EN) | {"wer", "wann", "warum"}

#: English (and other common) spellings of names and places → the German spelling used in
#: German news. Applied to questions only, so "Lavrov in Sochi" also matches "Lawrow in Sotschi".
NAME_SPELLINGS = {
    "lavrov": "lawrow",
    "sochi": "sotschi",
    "munich": "münchen",
    "moscow": "moskau",
    "geneva": "genf",
    "vienna": "wien",
    "cologne": "köln",
    "kyiv": "kiew",
    "kiev": "kiew",
    "crimea": "krim",
    "syria": "syrien",
    "syrian": "syrisch",
    "russia": "russland",
    "russian": "russisch",
    "turkey": "türkei",
    "damascus": "damaskus",
    "tehran": "teheran",
    "medvedev": "medwedew",
    "sergey": "sergej",
    "sergei": "sergej",
    "dmitry": "dmitrij",
    "vladimir": "wladimir",
    "shoigu": "schoigu",
    "peskov": "peskow",
    "zakharova": "sacharowa",
    "khrushchev": "chruschtschow",
    "gorbachev": "gorbatschow",
    "yeltsin": "jelzin",
    "navalny": "nawalny",
    "zelensky": "selenskyj",
    "zelenskyy": "selenskyj",
    "donetsk": "donezk",
    "baltic": "baltikum",
    "ceasefire": "waffenruhe",
    "sanctions": "sanktionen",
    "percent": "prozent",
}


@dataclass(frozen=True)
class LexicalScores:
    """BM25 scores of every passage for one question.

    Attributes:
        scores: one BM25 score per passage (0 where no query word occurs).
        coverage: share of the question's content words found in the corpus (0..1); the
            fusion trusts BM25 in proportion to it.
    """

    scores: np.ndarray
    coverage: float
    terms: tuple[str, ...] = ()


class Bm25Index:
    """BM25 over the passages of one index (German Snowball stemmer, German+English stopwords)."""

    def __init__(self, passages: Sequence[str]) -> None:
        self._stemmer = Stemmer.Stemmer("german")
        corpus = [self.tokenize(p) for p in passages]
        self._size = len(corpus)
        self._df = Counter(w for doc in corpus for w in set(doc))
        self._vocabulary = self._df.keys()
        self._bm25 = bm25s.BM25()
        if any(corpus):
            self._bm25.index(corpus, show_progress=False)

    def tokenize(self, text: str) -> list[str]:
        """Lower-cased, stemmed content words."""
        words = (w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS)
        return [self._stemmer.stemWord(w) for w in words]

    def query_terms(self, question: str) -> list[str]:
        """Stemmed question words, with English name spellings mapped to German ones."""
        words = _WORD.findall(question.lower())
        expanded = " ".join(NAME_SPELLINGS.get(w, w) for w in words)
        return self.tokenize(expanded)

    def overlap(self, question_terms: Iterable[str], texts: Sequence[str]) -> np.ndarray:
        """IDF-weighted overlap of the question's terms with each text (for highlighting)."""
        terms = set(question_terms)
        idf = {t: math.log(1 + self._size / (1 + self._df.get(t, 0))) for t in terms}
        return np.array(
            [sum(idf[t] for t in terms.intersection(self.tokenize(x))) for x in texts],
            dtype=np.float32,
        )

    def score(self, question: str) -> LexicalScores:
        """BM25 score of every passage for ``question``."""
        terms = self.query_terms(question)
        known = [t for t in terms if t in self._vocabulary]
        if not known:
            return LexicalScores(np.zeros(self._size, dtype=np.float32), 0.0, tuple(terms))
        scores = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        return LexicalScores(scores, len(known) / len(terms), tuple(terms))
