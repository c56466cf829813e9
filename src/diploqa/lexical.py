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

Each generation keeps its keyword index beside its vectors (:meth:`Bm25Index.save`, written by
the build; in the folder, or in the Milvus engine): splitting, stemming and tagging the
language of 10,000 passages took 2.5 s of a server's start, reading them back takes a tenth of
that. The counts live in :mod:`diploqa.postings`, so an update changes the keyword index
(:meth:`Bm25Index.updated`) rather than rebuilding it. An index without readable keyword files
(older, or damaged) has its keyword index built from the stored passages when it is loaded;
nothing has to be rebuilt.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from hashlib import blake2b
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import Stemmer

from .config import RankingConfig
from .dictionary import Dictionary, default_dictionary
from .files import fsync_path, sha256_file, write_synced
from .postings import Postings

if TYPE_CHECKING:
    from .articles import Article
    from .chunking import Chunk

log = logging.getLogger(__name__)


def _stopword_lists() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """bm25s's German and English stopwords, read from its word-list module alone: importing
    the bm25s package imports scipy, half a second of a server's start, for two lists."""
    package = importlib.util.find_spec("bm25s")  # finds it without importing it
    if package is None or package.origin is None:
        raise ImportError("bm25s, a dependency of diploqa, is not installed: pip install diploqa")
    path = Path(package.origin).with_name("stopwords.py")
    spec = importlib.util.spec_from_file_location("diploqa._bm25s_stopwords", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.STOPWORDS_GERMAN), tuple(module.STOPWORDS_EN)


STOPWORDS_GERMAN, STOPWORDS_EN = _stopword_lists()
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


#: The saved keyword index's own file (settings, languages, segment lists) beside the
#: postings' files (:mod:`diploqa.postings`). Its name carries the format: bump
#: :data:`KEYWORDS_VERSION` when the files, :meth:`Bm25Index.tokenize`, :func:`language_of` or
#: the stopwords change; an index whose manifest does not name the current file builds its
#: keyword index at load, and its next build writes the current files.
KEYWORDS_VERSION = 3
KEYWORDS_FILE = f"keywords.v{KEYWORDS_VERSION}.json"
#: The two postings of a keyword index: the passages' words after any shared title (scored),
#: and the words of the shared title lines (they count only as words of the corpus).
_ROLES = ("body", "titles")
#: Each passage's text digest (:func:`passage_digests`).
_DIGESTS_FILE = "keywords.digests.npy"


def shared_titles(articles: Mapping[str, Article], chunks: Sequence[Chunk]) -> list[str]:
    """Per chunk, its article's title where other articles have the same title, else ""."""
    count = Counter(a.title for a in articles.values() if a.title)
    return [
        title if count[title] > 1 else ""
        for title in (articles[c.article_id].title for c in chunks)
    ]


def passage_digests(passages: Sequence[str]) -> np.ndarray:
    """An 8-byte BLAKE2b digest of each passage: which rows of two generations hold the same
    text (a collision among a million passages has odds of about 1 in 30 million)."""
    joined = b"".join(blake2b(p.encode("utf-8"), digest_size=8).digest() for p in passages)
    return np.frombuffer(joined, np.uint64).copy()


#: (index identity, keyword index) of the last generation this process built or loaded: the
#: next update starts from it, without reading it back from its folder or the Milvus engine;
#: a server reloading a generation with no readable keyword files makes it from this one.
_latest: tuple[object, Bm25Index] | None = None


def remember(key: object, index: Bm25Index) -> None:
    """Keep ``index`` as the keyword index of the generation ``key`` (one is kept)."""
    global _latest
    _latest = (key, index)


def remembered(key: object | None = None) -> Bm25Index | None:
    """The keyword index :func:`remember` kept for ``key`` (None: whichever it kept)."""
    latest = _latest
    if latest is None or (key is not None and latest[0] != key):
        return None
    return latest[1]


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

    Scores are bm25s's "lucene" BM25, computed at question time from the counts in
    :class:`~diploqa.postings.Postings`, so that :meth:`updated` costs what an update changed.

    Args:
        passages: the texts to score.
        dictionary: English→German translations for question words; by default the one
            configured (``DIPLOQA_DICTIONARY``), ``None`` for none.
        translated_word_weight: how much a question word found only through its translation
            counts in ``bm25_coverage`` (see :class:`~diploqa.config.RankingConfig`).
        shared_titles: per passage, the title line it starts with where several articles
            share that title ("" elsewhere): its words neither count in the coverage nor
            score in BM25 for that passage (they would lift every article of the series alike).
        k1, b: BM25's term-frequency saturation and length normalisation (saved with it).
    """

    def __init__(
        self,
        passages: Sequence[str],
        dictionary: Dictionary | Literal["configured"] | None = "configured",
        translated_word_weight: float = RankingConfig.translated_word_weight,
        shared_titles: Sequence[str] | None = None,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> None:
        self._query_settings(dictionary, translated_word_weight)
        body, titles, languages = self._split(passages, shared_titles, range(len(passages)))
        postings = Postings.build(body), Postings.build(titles)
        self._set_corpus(*postings, languages, passage_digests(passages), k1, b)

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
        or stopped being shared, are split and stemmed."""
        origin = np.array(origin, np.int64)
        if len(origin) != len(passages) or np.any(origin >= self._size):
            raise ValueError("origin does not fit the passages")
        taken = np.flatnonzero(origin >= 0)
        _, first = np.unique(origin[taken], return_index=True)
        again = np.ones(len(taken), bool)  # one old row gives one new row; copies are new
        again[first] = False
        origin[taken[again]] = -1
        titles = shared_titles if shared_titles is not None else [""] * len(passages)
        had_title = self._titles.lengths() > 0
        shared = np.fromiter(map(bool, titles), bool, len(passages))
        kept = origin >= 0
        prior = np.zeros(len(passages), bool)
        prior[kept] = had_title[origin[kept]]
        check = np.flatnonzero(kept & (shared | prior))
        for i in check.tolist():
            if had_title[origin[i]] != (self._title_words(passages[i], titles[i]) > 0):
                origin[i] = -1  # its title became, or stopped being, shared
        fresh = np.flatnonzero(origin < 0)
        body, title_words, languages = self._split(passages, shared_titles, fresh.tolist())
        all_languages = np.zeros(len(passages), np.int8)
        kept = origin >= 0
        all_languages[kept] = self.languages[origin[kept]]
        all_languages[fresh] = languages
        if digests is None:
            digests = np.zeros(len(passages), np.uint64)
            digests[kept] = self.digests[origin[kept]]
            digests[fresh] = passage_digests([passages[i] for i in fresh.tolist()])
        other = copy.copy(self)
        other._set_corpus(
            self._body.updated(origin, body),
            self._titles.updated(origin, title_words),
            all_languages,
            digests,
            self.k1,
            self.b,
        )
        return other

    def matching(
        self, passages: Sequence[str], shared_titles: Sequence[str] | None = None
    ) -> Bm25Index:
        """The keyword index of ``passages`` made from this one, whatever generation it was:
        rows whose text this index holds keep their counts (:meth:`updated`), the others are
        split and stemmed. A server that loads a generation without readable keyword files
        (written by an older diploqa, or damaged) so splits only what changed since the one
        it served."""
        digests = passage_digests(passages)
        origin = np.full(len(passages), -1, np.int64)
        if self._size:
            order = np.argsort(self.digests, kind="stable")
            known = self.digests[order]
            at = np.minimum(np.searchsorted(known, digests), len(known) - 1)
            found = known[at] == digests
            origin[found] = order[at[found]]
        return self.updated(passages, origin, shared_titles, digests)

    def _title_words(self, passage: str, title: str) -> int:
        """How many of ``passage``'s first words are its shared ``title``'s (0: none)."""
        return len(self.tokenize(title)) if title and passage.startswith(title) else 0

    def _split(
        self, passages: Sequence[str], titles: Sequence[str] | None, rows: Iterable[int]
    ) -> tuple[list[list[str]], list[list[str]], np.ndarray]:
        """For ``rows`` of ``passages``: the words after any shared title, the title's words,
        and each passage's language group."""
        body, title_words, languages = [], [], []
        for i in rows:
            words = self.tokenize(passages[i])
            skip = self._title_words(passages[i], titles[i]) if titles is not None else 0
            body.append(words[skip:])  # a shared title is no keyword evidence
            title_words.append(words[:skip])
            languages.append(LANGUAGES.index(language_of(passages[i]) or "de"))
        return body, title_words, np.array(languages, dtype=np.int8)

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
        body: Postings,
        titles: Postings,
        languages: np.ndarray,
        digests: np.ndarray,
        k1: float,
        b: float,
    ) -> None:
        """What the passages alone determine (computed, updated or read by :meth:`load`)."""
        self._body, self._titles = body, titles
        self.digests = digests  # of each passage's text (see :meth:`matching`)
        self._size = body.size
        self.k1, self.b = k1, b
        self._mean_length = body.total_length / body.size if body.size else 0.0
        self._norms: list[np.ndarray] | None = None
        self.languages = languages
        counts = np.bincount(languages, minlength=len(LANGUAGES))
        self.present = tuple(LANGUAGES[i] for i in np.flatnonzero(counts))
        self.majority = LANGUAGES[int(np.argmax(counts))] if self._size else "de"

    def length_norms(self) -> list[np.ndarray]:
        """Per body segment, each passage's ``k1 · (1 − b + b · length / mean length)``
        (float32), BM25's denominator less the count: computed once per generation, not per
        posting of every question (a third of the keyword scoring's time)."""
        norms = self._norms
        if norms is None:
            mean = self._mean_length or 1.0
            norms = self._norms = [
                (self.k1 * ((1 - self.b) + self.b * s.lengths / mean)).astype(np.float32)
                for s in self._body.segments
            ]
        return norms

    def with_query_settings(
        self,
        dictionary: Dictionary | Literal["configured"] | None = "configured",
        translated_word_weight: float = RankingConfig.translated_word_weight,
    ) -> Bm25Index:
        """The same passages scored with another dictionary or weight (shares the corpus)."""
        other = copy.copy(self)
        other._query_settings(dictionary, translated_word_weight)
        return other

    def save(self, folder: Path, skip: Set[str] = frozenset()) -> dict[str, str]:
        """Write this keyword index into a generation folder, synced; returns file name →
        SHA-256 (for the manifest). Segments an earlier generation saved are hard-linked
        from its folder, not written again; segment files named in ``skip`` (a receiver
        that has them: the Milvus engine) are not written at all. Read back by :meth:`load`."""
        folder = Path(folder)
        state: dict = {
            "version": KEYWORDS_VERSION,
            "passages": self._size,
            "k1": self.k1,
            "b": self.b,
            # one digit per passage: its language group, an index into "groups"
            "groups": list(LANGUAGES),
            "languages": "".join(map(str, self.languages.tolist())),
        }
        np.save(folder / _DIGESTS_FILE, self.digests, allow_pickle=False)
        fsync_path(folder / _DIGESTS_FILE)
        files = {_DIGESTS_FILE: sha256_file(folder / _DIGESTS_FILE)}
        for role, postings in zip(_ROLES, (self._body, self._titles), strict=True):
            state[role], written = postings.save(folder, role, skip)
            files.update(written)
        write_synced(folder / KEYWORDS_FILE, json.dumps(state, ensure_ascii=False).encode())
        files[KEYWORDS_FILE] = sha256_file(folder / KEYWORDS_FILE)
        return files

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
        if KEYWORDS_FILE not in checksums:
            return None
        try:
            state = json.loads((folder / KEYWORDS_FILE).read_bytes())
            if state.get("version") != KEYWORDS_VERSION or state.get("groups") != list(LANGUAGES):
                log.info("%s: keyword index of another version; not read", folder)
                return None
            names = [KEYWORDS_FILE, _DIGESTS_FILE]
            for role in _ROLES:
                names += Postings.saved_files(role, state[role])
            bad = [n for n in names if sha256_file(folder / n) != checksums.get(n)]
            if bad:
                log.warning("%s: %s damaged or missing; not read", folder, bad[0])
                return None
            if state["passages"] != passages:
                log.warning("%s: keyword index for another passage count; not read", folder)
                return None
            languages = np.frombuffer(state["languages"].encode("ascii"), np.uint8) - ord("0")
            if len(languages) != passages or (passages and int(languages.max()) >= len(LANGUAGES)):
                raise ValueError("the passages' languages do not fit")
            body, titles = (Postings.load(folder, r, state[r], checksums) for r in _ROLES)
            digests = np.load(folder / _DIGESTS_FILE, allow_pickle=False)
            if digests.dtype != np.uint64 or digests.shape != (passages,):
                raise ValueError("the passages' digests do not fit")
            k1, b = state["k1"], state["b"]
            if body.size != passages or titles.size != passages:
                raise ValueError("the postings do not fit the passages")
            if not (type(k1) is float and k1 >= 0 and type(b) is float and 0 <= b <= 1):
                raise ValueError("BM25's settings are out of range")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            log.warning("%s: keyword index unreadable (%s); building it", folder, err)
            return None
        index = cls.__new__(cls)
        index._query_settings(dictionary, translated_word_weight)
        index._set_corpus(body, titles, languages.astype(np.int8), digests, k1, b)
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

    def translations(
        self, words: Iterable[str], lookup: _Lookup | None = None
    ) -> dict[str, set[str]]:
        """Corpus terms that the dictionary gives for each word (words without any left out).

        A German translation counts if it is a single content word (after stopwords, so "die
        Sanktionen" counts as "sanktion") that occurs in the corpus.
        """
        if self._dictionary is None:
            return {}
        lookup = lookup or _Lookup(self)
        found = {}
        for word, german in self._dictionary.translations(words).items():
            single = []
            for term in german:
                content = [w for w in _WORD.findall(term.lower()) if w not in _STOPWORDS]
                if len(content) == 1:
                    single.append(content[0])
            terms = {t for t in self._stemmer.stemWords(single) if lookup.known(t)}
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
        lookup = _Lookup(self)
        idf = {t: math.log(1 + self._size / (1 + lookup.frequency(t))) for g in groups for t in g}
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
        lookup = _Lookup(self)
        known = [t for t in terms if lookup.known(t)]
        translated = self.translations((word for word, _ in pairs), lookup)
        by_language = {
            lang: self._coverage(terms, pairs, translated, lang, lookup) for lang in self.present
        }
        coverage, bm25_coverage = by_language.get(self.majority, (0.0, 0.0))
        if len(by_language) < 2:
            by_language = None
        candidates = [
            ({term} if lookup.known(term) else set()) | translated.get(word, set())
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

    def _coverage(
        self,
        terms: tuple[str, ...],
        pairs: list[tuple[str, str]],
        translated: dict[str, set[str]],
        language: str,
        lookup: _Lookup,
    ) -> tuple[float, float]:
        """(coverage, bm25_coverage) of the question against the passage bodies of one
        language group; a word found only through its (German) translation counts
        ``translated_word_weight`` in the second, in German passages only."""
        if not terms:
            return 0.0, 0.0
        group = LANGUAGES.index(language)
        known = sum(lookup.in_bodies(t, group) for t in terms)
        coverage = known / len(terms)
        if language != "de":
            return coverage, coverage
        translated_only = sum(
            1
            for word, term in pairs
            if not lookup.in_bodies(term, group)
            and any(lookup.in_bodies(t, group) for t in translated.get(word, ()))
        )
        return coverage, coverage + self.translated_word_weight * translated_only / len(terms)


class _Lookup:
    """What one question needs to know of its words' postings, each looked up once."""

    def __init__(self, index: Bm25Index) -> None:
        self._index = index
        self._hits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._scores: dict[str, np.ndarray] = {}

    def hits(self, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, counts, length norms) of the passage bodies ``term`` occurs in."""
        found = self._hits.get(term)
        if found is None:
            index = self._index
            found = self._hits[term] = index._body.hits(term, index.length_norms())
        return found

    def frequency(self, term: str) -> int:
        """How many passages hold ``term``, in their body or their shared title."""
        rows = self.hits(term)[0]
        title_rows = self._index._titles.hits(term)[0]
        if not len(title_rows):
            return len(rows)
        return len(np.union1d(rows, title_rows))

    def known(self, term: str) -> bool:
        """Whether any passage holds ``term`` (a title's words count)."""
        return bool(len(self.hits(term)[0])) or bool(len(self._index._titles.hits(term)[0]))

    def in_bodies(self, term: str, group: int) -> bool:
        """Whether a passage of language ``group`` holds ``term`` after any shared title."""
        rows = self.hits(term)[0]
        return bool(len(rows)) and bool(np.any(self._index.languages[rows] == group))

    def bm25(self, terms: Sequence[str]) -> np.ndarray:
        """Every passage's BM25 score for ``terms`` (a repeated term counts again), as
        bm25s's "lucene" variant computes it."""
        scores = np.zeros(self._index._size, dtype=np.float32)
        for term in terms:
            rows = self.hits(term)[0]
            if len(rows):
                scores[rows] += self._term_scores(term)
        return scores

    def _term_scores(self, term: str) -> np.ndarray:
        found = self._scores.get(term)
        if found is None:
            rows, counts, norms = self.hits(term)
            n, df = self._index._size, len(rows)
            idf = np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))
            tf = counts.astype(np.float32)
            found = self._scores[term] = idf * (tf / (norms + tf))
        return found
