"""Keyword ranking (BM25 with German stemming) to back up the dense model.

Dense retrieval finds paraphrases across languages but misses a share of questions that repeat an
article's rare words verbatim (a name, a place, a number); BM25 finds those almost always. The
fusion in :mod:`diploqa.search` weights BM25 by how many of the question's words occur in the
corpus at all, so an English question over German articles, whose words mostly do not occur,
is left to the dense model.

English question words are also looked up in an English→German dictionary
(:mod:`diploqa.dictionary`, when installed): each word then scores, per passage, the best of its
own stem and its German translations, and a word found only through translation counts
``translated_word_weight`` in the share that weights BM25 (``bm25_coverage``).

A FAISS index folder keeps the keyword index of each generation beside its vectors
(:meth:`Bm25Index.save`, written by the build): splitting, stemming and tagging the language of
10,000 passages took 2.5 s of a server's start, reading them back takes a tenth of that. An index
without those files (older, or on Milvus) has its keyword index built from the stored passages
when it is loaded, as before; nothing has to be rebuilt.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

from .config import RankingConfig
from .dictionary import Dictionary, default_dictionary
from .files import fsync_path, sha256_file, write_synced

if TYPE_CHECKING:
    from .articles import Article
    from .chunking import Chunk

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_GERMAN) | frozenset(STOPWORDS_EN) | {"wer", "wann", "warum"}

#: Function words of one language that are not words of the other ("the", "and", "which";
#: "der", "und", "welche"): a text's language is the one whose words it uses more.
_ENGLISH_ONLY = frozenset(STOPWORDS_EN) - frozenset(STOPWORDS_GERMAN) - {"a", "i", "so", "man"}
_GERMAN_ONLY = (frozenset(STOPWORDS_GERMAN) | {"wer", "wann", "warum", "wie", "wo"}) - frozenset(
    STOPWORDS_EN
)

#: Language groups of passages: German (and anything not recognisably English), English.
LANGUAGES = ("de", "en")


def language_of(text: str) -> str | None:
    """``"en"`` or ``"de"`` by function words (English words inside German text, such as
    names, "Super Bowl" or a quote, do not make it English); None when it has none (a short
    question of names)."""
    words = _WORD.findall(text.lower())
    english = sum(w in _ENGLISH_ONLY for w in words)
    german = sum(w in _GERMAN_ONLY for w in words)
    if english == german == 0:
        return None
    return "en" if english > german else "de"


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


#: The saved keyword index's own file (terms, languages) beside bm25s's files. Its name carries
#: the format: bump :data:`KEYWORDS_VERSION` when the files, :meth:`Bm25Index.tokenize`,
#: :func:`language_of` or the stopwords change; an index whose manifest does not name the
#: current file builds its keyword index at load, and its next build writes the current files.
KEYWORDS_VERSION = 2
KEYWORDS_FILE = f"keywords.v{KEYWORDS_VERSION}.json"
#: Each passage's tokens as term numbers (flat) and where each passage's tokens start: an update
#: reuses them rather than splitting and stemming every passage again.
_TOKEN_FILES = ("keywords.tokens.npy", "keywords.offsets.npy")
_BM25S_FILES = {
    "data_name": "keywords.data.npy",
    "indices_name": "keywords.indices.npy",
    "indptr_name": "keywords.indptr.npy",
    "vocab_name": "keywords.vocab.json",
    "params_name": "keywords.params.json",
}


def shared_titles(articles: Mapping[str, Article], chunks: Sequence[Chunk]) -> list[str]:
    """Per chunk, its article's title where other articles have the same title, else ""."""
    count = Counter(a.title for a in articles.values() if a.title)
    return [
        title if count[title] > 1 else ""
        for title in (articles[c.article_id].title for c in chunks)
    ]


def _state_problem(state: dict, body: dict, bm25: bm25s.BM25, passages: int) -> str | None:
    """What is wrong with a saved keyword index whose checksums matched, else None: types and
    ranges are checked here, so that a crafted file fails at load, not at a question."""
    terms, df = state["terms"], state["document_frequency"]
    if not (type(terms) is list and type(df) is list and len(terms) == len(df)):
        return "terms and document frequencies do not match"
    if not all(type(t) is str for t in terms) or len(set(terms)) != len(terms):
        return "terms are not distinct strings"
    if not all(type(v) is int and 0 < v <= passages for v in df):
        return "document frequencies are not counts of terms"
    if not all(type(t) is str for terms in body.values() for t in terms):
        return "body terms are not strings"
    scores = getattr(bm25, "scores", None)
    if scores is None:
        return None
    ids, bound = bm25.vocab_dict.values(), len(scores["indptr"])  # bm25s's own "" term last
    if scores["num_docs"] != passages or not all(type(i) is int and 0 <= i < bound for i in ids):
        return "the BM25 matrix does not fit the passages and terms"
    if (
        len(scores["indices"])
        and not 0 <= int(scores["indices"].min()) <= int(scores["indices"].max()) < passages
    ):
        return "the BM25 matrix names passages that do not exist"
    return None


def _saved_state(
    folder: Path, checksums: Mapping[str, str], passages: int, matrix: bool
) -> dict | None:
    """The saved keyword state of ``folder`` where its file, and bm25s's files with
    ``matrix`` or else the token files, match ``checksums`` and it is of this version and
    passage count; None (logged) where it is not. Raises where a file cannot be read."""
    if KEYWORDS_FILE not in checksums:
        return None
    state = json.loads((folder / KEYWORDS_FILE).read_bytes())
    if matrix:
        names = [KEYWORDS_FILE, *(_BM25S_FILES.values() if state["bm25s"] else ())]
    else:
        names = [KEYWORDS_FILE, *_TOKEN_FILES]
    bad = [n for n in names if sha256_file(folder / n) != checksums.get(n)]
    if bad:
        log.warning("%s: %s damaged or missing; not read", folder, bad[0])
        return None
    if state["version"] != KEYWORDS_VERSION or state["groups"] != list(LANGUAGES):
        log.info("%s: keyword index of another version; not read", folder)
        return None
    if state["passages"] != passages:
        log.warning("%s: keyword index for another passage count; not read", folder)
        return None
    return state


def saved_tokens(
    folder: Path, checksums: Mapping[str, str], passages: int
) -> list[list[str]] | None:
    """Each passage's tokens as :meth:`Bm25Index.save` wrote them into ``folder`` (checked
    against ``checksums``, without reading the BM25 matrix); None where they are missing,
    damaged or of another format (then a build tokenizes the passages)."""
    folder = Path(folder)
    try:
        state = _saved_state(folder, checksums, passages, matrix=False)
        if state is None:
            return None
        terms = state["terms"]
        tokens, offsets = (np.load(folder / n, allow_pickle=False) for n in _TOKEN_FILES)
        fits = len(offsets) == passages + 1 and offsets[0] == 0 and offsets[-1] == len(tokens)
        if (
            not fits
            or np.any(np.diff(offsets) < 0)
            or not np.all((tokens >= 0) & (tokens < len(terms)))
        ):
            raise ValueError("token offsets do not fit")
        words = np.array(terms, dtype=object)[tokens].tolist()
    except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
        log.info("%s: saved tokens not used (%s)", folder, err)
        return None
    return [words[a:b] for a, b in itertools.pairwise(offsets.tolist())]


#: Passage → its tokens, for the last :class:`Bm25Index` built in this process.
_previous_tokens: dict[str, list[str]] = {}


def has_previous_tokens() -> bool:
    """Whether a keyword index was built in this process (its tokens are at hand)."""
    return bool(_previous_tokens)


def remember_tokens(passages: Sequence[str], corpus: Sequence[list[str]]) -> None:
    """Let the next :class:`Bm25Index` built in this process take these passages' tokens
    (an older generation's, :func:`saved_tokens`) instead of tokenizing them, where it
    has none of its own: the first update after a start from disk."""
    global _previous_tokens
    if not _previous_tokens:
        _previous_tokens = dict(zip(passages, corpus, strict=True))


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


class Bm25Index:
    """BM25 over the passages of one index (German Snowball stemmer, German+English stopwords).

    Args:
        passages: the texts to score.
        dictionary: English→German translations for question words; by default the one
            configured (``DIPLOQA_DICTIONARY``), ``None`` for none.
        translated_word_weight: how much a question word found only through its translation
            counts in ``bm25_coverage`` (see :class:`~diploqa.config.RankingConfig`).
        shared_titles: per passage, the title line it starts with where several articles
            share that title ("" elsewhere): its words neither count in the coverage nor
            score in BM25 for that passage (they would lift every article of the series alike).
    """

    def __init__(
        self,
        passages: Sequence[str],
        dictionary: Dictionary | Literal["configured"] | None = "configured",
        translated_word_weight: float = RankingConfig.translated_word_weight,
        shared_titles: Sequence[str] | None = None,
    ) -> None:
        self._query_settings(dictionary, translated_word_weight)
        # An update rebuilds this index with mostly the same passages: their words are taken
        # from the previous index built in this process instead of being split and stemmed
        # again (0.8 → 0.4 s at 10,000 passages).
        global _previous_tokens
        previous = _previous_tokens
        corpus = [previous.get(p) or self.tokenize(p) for p in passages]
        _previous_tokens = dict(zip(passages, corpus, strict=True))
        languages = np.array(
            [LANGUAGES.index(language_of(p) or "de") for p in passages], dtype=np.int8
        )
        # The words of a title line that several articles share (a live blog, a series, the
        # sections of one Wikipedia article) are left out of the coverage and of BM25: they
        # must not make a question look covered, nor lift every article of the series alike.
        # Each language group of passages has its own vocabulary.
        body_vocabulary: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
        keyword_corpus = []
        for i, doc in enumerate(corpus):
            title = shared_titles[i] if shared_titles is not None else ""
            skip = len(self.tokenize(title)) if title and passages[i].startswith(title) else 0
            body_vocabulary[LANGUAGES[languages[i]]].update(doc[skip:])
            keyword_corpus.append(doc[skip:])  # a shared title is no keyword evidence
        bm25 = bm25s.BM25()
        if any(keyword_corpus):
            bm25.index(keyword_corpus, show_progress=False)
        df = Counter(w for doc in corpus for w in set(doc))
        self._set_corpus(len(corpus), df, languages, body_vocabulary, bm25)
        self._corpus: list[list[str]] | None = corpus

    def _query_settings(
        self,
        dictionary: Dictionary | Literal["configured"] | None,
        translated_word_weight: float,
    ) -> None:
        """What a question is scored with, beyond the passages: the dictionary and weight."""
        self.translated_word_weight = translated_word_weight
        self._stemmer = Stemmer.Stemmer("german")
        self._stems: dict[str, str] = {}
        self._dictionary = default_dictionary() if dictionary == "configured" else dictionary

    def _set_corpus(
        self,
        size: int,
        df: dict[str, int],
        languages: np.ndarray,
        body_vocabulary: dict[str, set[str]],
        bm25: bm25s.BM25,
    ) -> None:
        """What the passages alone determine (computed, or read by :meth:`load`)."""
        self._size = size
        self._df = df
        self._vocabulary = df.keys()
        self.languages = languages
        counts = np.bincount(languages, minlength=len(LANGUAGES))
        self.present = tuple(LANGUAGES[i] for i in np.flatnonzero(counts))
        self.majority = LANGUAGES[int(np.argmax(counts))] if size else "de"
        self._body_vocabulary = {lang: body_vocabulary[lang] for lang in self.present}
        self._bm25 = bm25
        self._corpus = None  # the passages' tokens, kept by a built index until it is saved

    def with_query_settings(
        self,
        dictionary: Dictionary | Literal["configured"] | None = "configured",
        translated_word_weight: float = RankingConfig.translated_word_weight,
    ) -> Bm25Index:
        """The same passages scored with another dictionary or weight (shares the corpus)."""
        other = copy.copy(self)
        other._query_settings(dictionary, translated_word_weight)
        return other

    def save(self, folder: Path) -> dict[str, str]:
        """Write this keyword index into a generation folder, synced; returns file name →
        SHA-256 (for the manifest). Read back by :meth:`load`."""
        folder = Path(folder)
        names = [KEYWORDS_FILE]
        indexed = bool(getattr(self._bm25, "scores", None))
        if indexed:
            self._bm25.save(folder, **_BM25S_FILES, show_progress=False)
            names += _BM25S_FILES.values()
        terms = list(self._df)
        if self._corpus is not None:
            number = {term: i for i, term in enumerate(terms)}
            tokens = np.fromiter((number[w] for doc in self._corpus for w in doc), np.int32)
            offsets = np.cumsum([0, *map(len, self._corpus)], dtype=np.int64)
            for name, array in zip(_TOKEN_FILES, (tokens, offsets), strict=True):
                np.save(folder / name, array, allow_pickle=False)
            names += _TOKEN_FILES
        state = {
            "version": KEYWORDS_VERSION,
            "passages": self._size,
            "bm25s": indexed,
            # one digit per passage: its language group, an index into "groups"
            "groups": list(LANGUAGES),
            "languages": "".join(map(str, self.languages.tolist())),
            "terms": terms,
            "document_frequency": [self._df[t] for t in terms],
            "body_terms": {lang: sorted(terms) for lang, terms in self._body_vocabulary.items()},
        }
        write_synced(folder / KEYWORDS_FILE, json.dumps(state, ensure_ascii=False).encode())
        for name in names[1:]:
            fsync_path(folder / name)
        return {name: sha256_file(folder / name) for name in names}

    @classmethod
    def load(
        cls,
        folder: Path,
        checksums: Mapping[str, str],
        passages: int,
        dictionary: Dictionary | Literal["configured"] | None = "configured",
        translated_word_weight: float = RankingConfig.translated_word_weight,
    ) -> Bm25Index | None:
        """The keyword index :meth:`save` wrote into ``folder``, checked against
        ``checksums`` (the manifest's) and the number of ``passages``; None where there is
        none, or it is of another format or damaged (then the caller builds it from the
        passages: it is derived data, so a bad file costs time, never answers)."""
        folder = Path(folder)
        try:
            state = _saved_state(folder, checksums, passages, matrix=True)
            if state is None:
                return None
            languages = np.frombuffer(state["languages"].encode("ascii"), np.uint8) - ord("0")
            if len(languages) != passages or (passages and int(languages.max()) >= len(LANGUAGES)):
                raise ValueError("the passages' languages do not fit")
            bm25 = bm25s.BM25()
            if state["bm25s"]:
                bm25 = bm25s.BM25.load(folder, **_BM25S_FILES, show_progress=False)
            body = {lang: set(state["body_terms"].get(lang, ())) for lang in LANGUAGES}
            problem = _state_problem(state, body, bm25, passages)
            if problem:  # a file written to match its checksum, but wrong
                raise ValueError(problem)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            log.warning("%s: keyword index unreadable (%s); building it", folder, err)
            return None
        index = cls.__new__(cls)
        index._query_settings(dictionary, translated_word_weight)
        df = dict(zip(state["terms"], state["document_frequency"], strict=True))
        index._set_corpus(passages, df, languages.astype(np.int8), body, bm25)
        return index

    def tokenize(self, text: str) -> list[str]:
        """Lower-cased, stemmed content words (each word stemmed once: a corpus repeats its
        words, and the shared strings keep the token lists small)."""
        stems, out = self._stems, []
        for word in _WORD.findall(text.lower()):
            if word not in _STOPWORDS:
                stem = stems.get(word)
                if stem is None:
                    stem = stems[word] = self._stemmer.stemWord(word)
                out.append(stem)
        return out

    def _query_words(self, question: str) -> list[tuple[str, str]]:
        """(word as asked, stemmed term) for each content word, English name spellings
        mapped to German ones."""
        pairs = []
        for word in _WORD.findall(question.lower()):
            for mapped in _WORD.findall(NAME_SPELLINGS.get(word, word)):
                if mapped not in _STOPWORDS:
                    pairs.append((word, self._stemmer.stemWord(mapped)))
        return pairs

    def query_terms(self, question: str) -> list[str]:
        """Stemmed question words, with English name spellings mapped to German ones."""
        return [term for _, term in self._query_words(question)]

    def translations(self, words: Iterable[str]) -> dict[str, set[str]]:
        """Corpus terms that the dictionary gives for each word (words without any left out).

        A German translation counts if it is a single content word (after stopwords, so "die
        Sanktionen" counts as "sanktion") that occurs in the corpus.
        """
        if self._dictionary is None:
            return {}
        found = {}
        for word, german in self._dictionary.translations(words).items():
            single = []
            for term in german:
                content = [w for w in _WORD.findall(term.lower()) if w not in _STOPWORDS]
                if len(content) == 1:
                    single.append(content[0])
            terms = set(self._stemmer.stemWords(single)) & self._vocabulary
            if terms:
                found[word] = terms
        return found

    def overlap(
        self, question_terms: Iterable[str | frozenset[str]], texts: Sequence[str]
    ) -> np.ndarray:
        """IDF-weighted overlap of the question's words with each text (for highlighting).

        A word is a term or a group of alternatives (its stem and its translations, see
        :attr:`LexicalScores.groups`), which counts once, with its rarest match.
        """
        groups = {frozenset({t}) if isinstance(t, str) else t for t in question_terms}
        idf = {t: math.log(1 + self._size / (1 + self._df.get(t, 0))) for g in groups for t in g}
        scores = []
        for text in texts:
            tokens = set(self.tokenize(text))
            scores.append(sum(max((idf[t] for t in g & tokens), default=0.0) for g in groups))
        return np.array(scores, dtype=np.float32)

    def score(self, question: str) -> LexicalScores:
        """BM25 score of every passage for ``question``.

        Each content word contributes the best BM25 score, per passage, among its own stem
        and its dictionary translations; without translations that is plain BM25.
        """
        pairs = self._query_words(question)
        terms = tuple(term for _, term in pairs)
        known = [t for t in terms if t in self._vocabulary]
        translated = self.translations(word for word, _ in pairs)
        by_language = {
            lang: self._coverage(terms, pairs, translated, lang) for lang in self.present
        }
        coverage, bm25_coverage = by_language.get(self.majority, (0.0, 0.0))
        if len(by_language) < 2:
            by_language = None
        candidates = [
            ({term} & self._vocabulary) | translated.get(word, set()) for word, term in pairs
        ]
        if all(c <= {term} for c, (_, term) in zip(candidates, pairs, strict=True)):
            if not known:  # no translation adds anything: plain BM25
                empty = np.zeros(self._size, dtype=np.float32)
                return LexicalScores(empty, coverage, terms, bm25_coverage, (), by_language)
            scores = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
            return LexicalScores(scores, coverage, terms, bm25_coverage, (), by_language)
        single = [next(iter(c)) for c in candidates if len(c) == 1]  # BM25 adds these up
        scores = np.zeros(self._size, dtype=np.float32)
        if single:
            scores += self._bm25.get_scores(single)
        by_term: dict[str, np.ndarray] = {}
        for options in candidates:
            if len(options) > 1:
                for term in options - by_term.keys():
                    by_term[term] = self._bm25.get_scores([term])
                scores += np.max([by_term[t] for t in options], axis=0)
        groups = tuple(frozenset(c | {t}) for c, t in zip(candidates, terms, strict=True))
        return LexicalScores(scores, coverage, terms, bm25_coverage, groups, by_language)

    def _coverage(
        self,
        terms: tuple[str, ...],
        pairs: list[tuple[str, str]],
        translated: dict[str, set[str]],
        language: str,
    ) -> tuple[float, float]:
        """(coverage, bm25_coverage) of the question against the passage bodies of one
        language group; a word found only through its (German) translation counts
        ``translated_word_weight`` in the second, in German passages only."""
        if not terms:
            return 0.0, 0.0
        vocabulary = self._body_vocabulary[language]
        known = sum(t in vocabulary for t in terms)
        coverage = known / len(terms)
        if language != "de":
            return coverage, coverage
        translated_only = sum(
            1
            for word, term in pairs
            if term not in vocabulary and translated.get(word, set()) & vocabulary
        )
        return coverage, coverage + self.translated_word_weight * translated_only / len(terms)
