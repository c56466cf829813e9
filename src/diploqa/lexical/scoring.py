"""A question's BM25 scores, coverage and translations against a keyword index.

Scores are bm25s's "lucene" BM25, computed at question time from the corpus's counts (so an
update changes counts, never stored scores). English question words are also looked up in an
English→German dictionary (:mod:`diploqa.dictionary`, when installed): each word then scores,
per passage, the best of its own stem and its German translations, and a word found only
through translation counts ``translated_word_weight`` in the share that weights BM25
(:attr:`LexicalScores.bm25_coverage`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..config import DictionarySettings, RankingConfig
from ..dictionary import Dictionary, shared_dictionary
from .language import LANGUAGES
from .spellings import german_spelling
from .words import STOPWORDS, WORD, content_words, words_of

if TYPE_CHECKING:
    from .bm25 import Bm25Index
    from .corpus import Corpus
    from .words import Words


#: The dictionary a keyword index translates with unless told otherwise: the system's
#: (:data:`~diploqa.config.DEFAULT_DICTIONARY`), its table in the default cache folder.
DEFAULT_DICTIONARY = DictionarySettings()


@dataclass(frozen=True)
class QuerySettings:
    """What a question is scored with beyond the passages.

    Attributes:
        dictionary: English→German translations for question words (None: none).
        translated_word_weight: how much a question word found only through its translation
            counts in ``bm25_coverage`` (see :class:`~diploqa.config.RankingConfig`).
        german_to_english: also translate German question words into English for the English
            passages of a mixed archive (``RankingConfig.german_to_english``).
    """

    dictionary: Dictionary | None = None
    translated_word_weight: float = RankingConfig.translated_word_weight
    german_to_english: bool = RankingConfig.german_to_english

    @classmethod
    def of(
        cls,
        dictionary: Dictionary | DictionarySettings | None = DEFAULT_DICTIONARY,
        translated_word_weight: float = RankingConfig.translated_word_weight,
        german_to_english: bool = RankingConfig.german_to_english,
    ) -> QuerySettings:
        """The settings with a dictionary given by its settings opened (once per process;
        None where there is none, see :func:`~diploqa.dictionary.shared_dictionary`)."""
        if isinstance(dictionary, DictionarySettings):
            dictionary = shared_dictionary(dictionary)
        return cls(dictionary, translated_word_weight, german_to_english)


@dataclass(frozen=True)
class LexicalScores:
    """BM25 scores of every passage for one question.

    Attributes:
        scores: one BM25 score per passage (0 where no query word occurs).
        coverage: share of the question's content words found in the corpus (0..1); the
            fusion trusts BM25 in proportion to it.
        terms: the question's stemmed content words (for highlighting).
        bm25_coverage: ``coverage`` plus the translated-word weight for each word
            found in the corpus only through its dictionary translation, as a share (0..1):
            the weight of ``scores`` in the hybrid ranking. Defaults to ``coverage``.
        by_language: ``(coverage, bm25_coverage)`` measured against the passages of each
            language group (:data:`LANGUAGES`) alone, for an index that holds more than one;
            None otherwise. ``coverage`` and ``bm25_coverage`` are those of the largest group.
        groups: for each question word, its stem and its translations in the corpus (for
            highlighting: a sentence matches the word through any of them). Defaults to the
            terms alone.
    """

    scores: np.ndarray
    coverage: float
    terms: tuple[str, ...] = ()
    bm25_coverage: float | None = None
    groups: tuple[frozenset[str], ...] = ()
    by_language: dict[str, tuple[float, float]] | None = None

    def __post_init__(self) -> None:
        if self.bm25_coverage is None:
            object.__setattr__(self, "bm25_coverage", self.coverage)
        if not self.groups:
            object.__setattr__(self, "groups", tuple(frozenset({t}) for t in self.terms))


def query_words(words: Words, question: str) -> list[tuple[str, str]]:
    """(word as asked, stemmed term) for each content word of ``question``, English name
    spellings mapped to German ones."""
    pairs = []
    for word in words_of(question):
        for mapped in WORD.findall(german_spelling(word)):
            if mapped not in STOPWORDS:
                pairs.append((word, words.stem(mapped)))
    return pairs


def translations(
    index: Bm25Index, words: Iterable[str], lookup: Lookup | None = None
) -> dict[str, set[str]]:
    """Corpus terms that the dictionary gives for each word (words without any left out).

    A German translation counts if it is a single content word (after stopwords, so "die
    Sanktionen" counts as "sanktion") that occurs in the corpus.
    """
    dictionary = index.query.dictionary
    if dictionary is None:
        return {}
    lookup = lookup or Lookup(index.corpus)
    found = {}
    for word, german in dictionary.translations(words).items():
        single = []
        for term in german:
            content = content_words(term)
            if len(content) == 1:
                single.append(content[0])
        terms = {t for t in index.words.stem_all(single) if lookup.known(t)}
        if terms:
            found[word] = terms
    return found


def overlap(
    index: Bm25Index, question_terms: Iterable[str | frozenset[str]], texts: Sequence[str]
) -> np.ndarray:
    """IDF-weighted overlap of the question's words with each text (for highlighting).

    A word is a term or a group of alternatives (its stem and its translations, see
    :attr:`LexicalScores.groups`), which counts once, with its rarest match.
    """
    groups = {frozenset({t}) if isinstance(t, str) else t for t in question_terms}
    lookup = Lookup(index.corpus)
    size = index.corpus.size
    idf = {t: math.log(1 + size / (1 + lookup.frequency(t))) for g in groups for t in g}
    scores = []
    for text in texts:
        tokens = set(index.tokenize(text))
        scores.append(sum(max((idf[t] for t in g & tokens), default=0.0) for g in groups))
    return np.array(scores, dtype=np.float32)


def score(index: Bm25Index, question: str) -> LexicalScores:
    """BM25 score of every passage for ``question``.

    Each content word contributes the best BM25 score, per passage, among its own stem
    and its dictionary translations; without translations that is plain BM25.
    """
    pairs = query_words(index.words, question)
    terms = tuple(term for _, term in pairs)
    corpus = index.corpus
    lookup = Lookup(corpus)
    known = [t for t in terms if lookup.known(t)]
    translated = translations(index, (word for word, _ in pairs), lookup)
    english = english_translations(index, pairs, lookup)
    weight = index.query.translated_word_weight
    found_by = {"de": translated, "en": english}
    by_language = {
        lang: _coverage(terms, pairs, found_by[lang], lang, lookup, weight)
        for lang in corpus.present
    }
    coverage, bm25_coverage = by_language.get(corpus.majority, (0.0, 0.0))
    if len(by_language) < 2:
        by_language = None
    candidates = [
        ({term} if lookup.known(term) else set())
        | translated.get(word, set())
        | english.get(word, set())
        for word, term in pairs
    ]
    if all(c <= {term} for c, (_, term) in zip(candidates, pairs, strict=True)):
        # no translation adds anything: plain BM25
        scores = lookup.bm25(known)
        return LexicalScores(scores, coverage, terms, bm25_coverage, (), by_language)
    single = [next(iter(c)) for c in candidates if len(c) == 1]  # BM25 adds these up
    scores = lookup.bm25(single)
    for options in candidates:
        if len(options) > 1:
            scores += np.max([lookup.bm25([t]) for t in options], axis=0)
    groups = tuple(frozenset(c | {t}) for c, t in zip(candidates, terms, strict=True))
    return LexicalScores(scores, coverage, terms, bm25_coverage, groups, by_language)


def english_translations(
    index: Bm25Index, pairs: Sequence[tuple[str, str]], lookup: Lookup
) -> dict[str, set[str]]:
    """English corpus terms the dictionary gives for each German word of a question (by its
    stem), in an index that holds English passages beside German ones: only terms that occur
    in English passages and in no German one, so the German passages score as without them."""
    dictionary = index.query.dictionary
    corpus = index.corpus
    if dictionary is None or not index.query.german_to_english or len(corpus.present) < 2:
        return {}
    english, german = LANGUAGES.index("en"), LANGUAGES.index("de")
    by_stem = dictionary.english(term for _, term in pairs)
    found: dict[str, set[str]] = {}
    for word, term in pairs:
        if term not in by_stem or lookup.in_bodies(term, english):
            continue  # no entry, or the word occurs in English passages as it is
        stems = index.tokenize(" ".join(by_stem[term]))  # content words: no "has", "would"
        terms = {
            t for t in stems if lookup.in_bodies(t, english) and not lookup.in_bodies(t, german)
        }
        if terms:
            found.setdefault(word, set()).update(terms)
    return found


def _coverage(
    terms: tuple[str, ...],
    pairs: list[tuple[str, str]],
    translated: dict[str, set[str]],
    language: str,
    lookup: Lookup,
    translated_word_weight: float,
) -> tuple[float, float]:
    """(coverage, bm25_coverage) of the question against the passage bodies of one
    language group; a word found only through its translation into the group's language
    (``translated``: German terms for the German group, English ones for the English group)
    counts ``translated_word_weight`` in the second."""
    if not terms:
        return 0.0, 0.0
    group = LANGUAGES.index(language)
    known = sum(lookup.in_bodies(t, group) for t in terms)
    coverage = known / len(terms)
    if not translated:
        return coverage, coverage
    translated_only = sum(
        1
        for word, term in pairs
        if not lookup.in_bodies(term, group)
        and any(lookup.in_bodies(t, group) for t in translated.get(word, ()))
    )
    return coverage, coverage + translated_word_weight * translated_only / len(terms)


class Lookup:
    """What one question needs to know of its words' postings, each looked up once."""

    def __init__(self, corpus: Corpus) -> None:
        self._corpus = corpus
        self._hits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._scores: dict[str, np.ndarray] = {}
        self._groups: dict[str, frozenset[int]] = {}

    def hits(self, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, counts, length norms) of the passage bodies ``term`` occurs in."""
        found = self._hits.get(term)
        if found is None:
            found = self._hits[term] = self._corpus.body_hits(term)
        return found

    def frequency(self, term: str) -> int:
        """How many passages hold ``term``, in their body or their shared title."""
        rows = self.hits(term)[0]
        title_rows = self._corpus.title_rows(term)
        if not len(title_rows):
            return len(rows)
        return len(np.union1d(rows, title_rows))

    def known(self, term: str) -> bool:
        """Whether any passage holds ``term`` (a title's words count)."""
        return bool(len(self.hits(term)[0])) or bool(len(self._corpus.title_rows(term)))

    def in_bodies(self, term: str, group: int) -> bool:
        """Whether a passage of language ``group`` holds ``term`` after any shared title."""
        groups = self._groups.get(term)
        if groups is None:
            counts = np.bincount(self._corpus.languages[self.hits(term)[0]], minlength=2)
            groups = self._groups[term] = frozenset(np.flatnonzero(counts).tolist())
        return group in groups

    def bm25(self, terms: Sequence[str]) -> np.ndarray:
        """Every passage's BM25 score for ``terms`` (a repeated term counts again), as
        bm25s's "lucene" variant computes it."""
        scores = np.zeros(self._corpus.size, dtype=np.float32)
        for term in terms:
            rows = self.hits(term)[0]
            if len(rows):
                scores[rows] += self._term_scores(term)
        return scores

    def _term_scores(self, term: str) -> np.ndarray:
        found = self._scores.get(term)
        if found is None:
            rows, counts, norms = self.hits(term)
            n, df = self._corpus.size, len(rows)
            idf = np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))
            tf = counts.astype(np.float32)
            found = self._scores[term] = idf * (tf / (norms + tf))
        return found
