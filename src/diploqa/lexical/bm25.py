"""The keyword index of one generation: its corpus and the settings it scores questions with.

A :class:`Bm25Index` is a :class:`~diploqa.lexical.corpus.Corpus` (what the passages
determine: built, updated, or read from the generation's files) and
:class:`~diploqa.lexical.scoring.QuerySettings` (the dictionary and weight of the ranking); every
way of making one ends in its constructor, and every one shares the corpus it was made from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from pathlib import Path

import numpy as np

from ..config import DictionarySettings, RankingConfig
from ..dictionary import Dictionary
from . import scoring
from .corpus import Corpus, passage_digests
from .files import load_corpus, save_corpus
from .scoring import DEFAULT_DICTIONARY, LexicalScores, Lookup, QuerySettings
from .words import Words


class Bm25Index:
    """BM25 over the passages of one index (German Snowball stemmer, German+English stopwords).

    Scores are bm25s's "lucene" BM25, computed at question time from the counts in
    :class:`~diploqa.lexical.postings.Postings`, so that :meth:`updated` costs what an update
    changed. Made by :meth:`build`, :meth:`updated`, :meth:`matching`, :meth:`load` or
    :meth:`with_query_settings`.

    Args:
        corpus: the passages' counts, languages and digests, with BM25's settings.
        query: the dictionary and weight questions are scored with (default: none, and the
            ranking's default weight).

    Attributes:
        corpus, query: as given (read-only by convention: an index is never changed, only
            made anew).
        words: this index's stemmer and its cache of stems.
    """

    def __init__(self, corpus: Corpus, query: QuerySettings | None = None) -> None:
        self.corpus = corpus
        self.query = query if query is not None else QuerySettings()
        self.words = Words()

    @classmethod
    def build(
        cls,
        passages: Sequence[str],
        dictionary: Dictionary | DictionarySettings | None = DEFAULT_DICTIONARY,
        translated_word_weight: float = RankingConfig.translated_word_weight,
        shared_titles: Sequence[str] | None = None,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> Bm25Index:
        """The keyword index of ``passages``, each split and stemmed.

        Args:
            passages: the texts to score.
            dictionary: English→German translations for question words, or the settings
                naming them (``DIPLOQA_DICTIONARY``; by default the system's), ``None`` for
                none.
            translated_word_weight: how much a question word found only through its
                translation counts in ``bm25_coverage`` (see
                :class:`~diploqa.config.RankingConfig`).
            shared_titles: per passage, the title line it starts with where several articles
                share that title ("" elsewhere): its words neither count in the coverage nor
                score in BM25 for that passage (they would lift every article of the series
                alike).
            k1, b: BM25's term-frequency saturation and length normalisation (saved with it).
        """
        corpus = Corpus.build(passages, Words().tokenize, shared_titles, k1, b)
        return cls(corpus, QuerySettings.of(dictionary, translated_word_weight))

    def updated(
        self,
        passages: Sequence[str],
        origin: np.ndarray,
        shared_titles: Sequence[str] | None = None,
        digests: np.ndarray | None = None,
    ) -> Bm25Index:
        """The keyword index of the next generation's ``passages``, made from this one (the
        previous generation's): row ``i`` is this index's row ``origin[i]`` where that is
        ≥ 0 (the same text), else new. Only the new passages, and those whose title became
        or stopped being shared, are split and stemmed (:meth:`tokenize`)."""
        corpus = self.corpus.updated(passages, origin, self.tokenize, shared_titles, digests)
        return type(self)(corpus, self.query)

    def matching(
        self, passages: Sequence[str], shared_titles: Sequence[str] | None = None
    ) -> Bm25Index:
        """The keyword index of ``passages`` made from this one, whatever generation it was:
        rows whose text this index holds keep their counts (:meth:`updated`), the others are
        split and stemmed. A server that loads a generation without readable keyword files
        (written by an older diploqa, or damaged) so splits only what changed since the one
        it served."""
        digests = passage_digests(passages)
        return self.updated(passages, self.corpus.origin_of(digests), shared_titles, digests)

    def with_query_settings(
        self,
        dictionary: Dictionary | DictionarySettings | None = DEFAULT_DICTIONARY,
        translated_word_weight: float = RankingConfig.translated_word_weight,
        german_to_english: bool = RankingConfig.german_to_english,
    ) -> Bm25Index:
        """The same passages scored with another dictionary or weight (shares the corpus)."""
        settings = QuerySettings.of(dictionary, translated_word_weight, german_to_english)
        return type(self)(self.corpus, settings)

    def save(self, folder: Path, skip: Set[str] = frozenset()) -> dict[str, str]:
        """Write the corpus into a generation folder, synced; returns file name → SHA-256
        (for the manifest); see :func:`~diploqa.lexical.files.save_corpus`."""
        return save_corpus(self.corpus, folder, skip)

    @classmethod
    def load(
        cls,
        folder: Path,
        checksums: Mapping[str, str],
        passages: int,
        dictionary: Dictionary | DictionarySettings | None = DEFAULT_DICTIONARY,
        translated_word_weight: float = RankingConfig.translated_word_weight,
    ) -> Bm25Index | None:
        """The keyword index :meth:`save` wrote into ``folder``, checked against
        ``checksums`` (the manifest's) and the number of ``passages``; None where there is
        none, or it is of another format or damaged (then the caller builds it from the
        passages: it is derived data, so a bad file costs time, never answers)."""
        corpus = load_corpus(folder, checksums, passages)
        if corpus is None:
            return None
        return cls(corpus, QuerySettings.of(dictionary, translated_word_weight))

    # --- what the passages are -------------------------------------------------------------

    @property
    def size(self) -> int:
        """How many passages it holds."""
        return self.corpus.size

    @property
    def languages(self) -> np.ndarray:
        """Each passage's language group, an index into :data:`~diploqa.lexical.LANGUAGES`."""
        return self.corpus.languages

    @property
    def present(self) -> tuple[str, ...]:
        """The language groups its passages are in."""
        return self.corpus.present

    @property
    def majority(self) -> str:
        """The language group of most passages."""
        return self.corpus.majority

    @property
    def digests(self) -> np.ndarray:
        """Each passage's text digest (see :meth:`matching`)."""
        return self.corpus.digests

    # --- questions ---------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[str]:
        """Lower-cased, stemmed content words (each word stemmed once: a corpus repeats its
        words, and the shared strings keep the token lists small)."""
        return self.words.tokenize(text)

    def query_terms(self, question: str) -> list[str]:
        """Stemmed question words, with English name spellings mapped to German ones."""
        return [term for _, term in scoring.query_words(self.words, question)]

    def translations(
        self, words: Iterable[str], lookup: Lookup | None = None
    ) -> dict[str, set[str]]:
        """Corpus terms that the dictionary gives for each word (words without any left
        out); see :func:`~diploqa.lexical.scoring.translations`."""
        return scoring.translations(self, words, lookup)

    def overlap(
        self, question_terms: Iterable[str | frozenset[str]], texts: Sequence[str]
    ) -> np.ndarray:
        """IDF-weighted overlap of the question's words with each text (for highlighting);
        see :func:`~diploqa.lexical.scoring.overlap`."""
        return scoring.overlap(self, question_terms, texts)

    def score(self, question: str) -> LexicalScores:
        """BM25 score of every passage for ``question``; see
        :func:`~diploqa.lexical.scoring.score`."""
        return scoring.score(self, question)
