"""What the passages alone determine of a keyword index, and how an update changes it.

A :class:`Corpus` holds each passage's word counts (:mod:`~diploqa.lexical.postings`), its
language group and its text digest, with BM25's two settings. It is made from the passages
(:meth:`Corpus.build`), from the previous generation's corpus and what changed
(:meth:`Corpus.updated`, which splits and stems only the new passages), or read from the
keyword files (:mod:`~diploqa.lexical.files`); question-time settings live elsewhere
(:class:`~diploqa.lexical.scoring.QuerySettings`), so one corpus serves several rankings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from hashlib import blake2b
from typing import TYPE_CHECKING

import numpy as np

from .language import LANGUAGES, language_group
from .postings import Postings, Segment, SegmentBuilder

if TYPE_CHECKING:
    from ...articles import Article
    from ...chunking import Chunk

#: Splits a text into its stemmed content words (:meth:`~diploqa.lexical.Bm25Index.tokenize`).
Tokenize = Callable[[str], list[str]]


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


@dataclass(frozen=True, eq=False)
class Corpus:
    """The counts BM25 scores questions with, and what each passage is.

    Attributes:
        body: the postings of each passage's words after any shared title (they score).
        titles: the postings of each passage's shared title line (its words count only as
            words of the corpus: they would lift every article of a series alike).
        languages: each passage's language group, an index into :data:`LANGUAGES` (int8).
        digests: each passage's text digest (:func:`passage_digests`, uint64).
        k1, b: BM25's term-frequency saturation and length normalisation.

    Raises ValueError where the parts do not fit together (a crafted file fails here, not at
    a question).
    """

    body: Postings
    titles: Postings
    languages: np.ndarray
    digests: np.ndarray
    k1: float = 1.5
    b: float = 0.75

    def __post_init__(self) -> None:
        n = self.body.size
        if self.titles.size != n:
            raise ValueError("the postings do not fit the passages")
        languages = self.languages
        if languages.dtype != np.int8 or languages.shape != (n,):
            raise ValueError("the passages' languages do not fit")
        if n and (int(languages.min()) < 0 or int(languages.max()) >= len(LANGUAGES)):
            raise ValueError("the passages' languages do not fit")
        if self.digests.dtype != np.uint64 or self.digests.shape != (n,):
            raise ValueError("the passages' digests do not fit")
        if not (self.k1 >= 0 and 0 <= self.b <= 1):
            raise ValueError("BM25's settings are out of range")

    @classmethod
    def build(
        cls,
        passages: Sequence[str],
        tokenize: Tokenize,
        shared_titles: Sequence[str] | None = None,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> Corpus:
        """The corpus of ``passages``, each split by ``tokenize``; ``shared_titles``: per
        passage, the title line it starts with where several articles share it ("" else)."""
        body, titles, languages = _split(passages, shared_titles, range(len(passages)), tokenize)
        digests = passage_digests(passages)
        return cls(Postings.build(body), Postings.build(titles), languages, digests, k1, b)

    def updated(
        self,
        passages: Sequence[str],
        origin: np.ndarray,
        tokenize: Tokenize,
        shared_titles: Sequence[str] | None = None,
        digests: np.ndarray | None = None,
    ) -> Corpus:
        """The corpus of the next generation's ``passages``, made from this one (the previous
        generation's): row ``i`` is this corpus's row ``origin[i]`` where that is ≥ 0 (the
        same text), else new. Only the new passages, and those whose title became or stopped
        being shared, are split by ``tokenize``."""
        origin = np.array(origin, np.int64)
        if len(origin) != len(passages) or np.any(origin >= self.size):
            raise ValueError("origin does not fit the passages")
        taken = np.flatnonzero(origin >= 0)
        _, first = np.unique(origin[taken], return_index=True)
        again = np.ones(len(taken), bool)  # one old row gives one new row; copies are new
        again[first] = False
        origin[taken[again]] = -1
        titles = shared_titles if shared_titles is not None else [""] * len(passages)
        had_title = self.titles.lengths() > 0
        shared = np.fromiter(map(bool, titles), bool, len(passages))
        kept = origin >= 0
        prior = np.zeros(len(passages), bool)
        prior[kept] = had_title[origin[kept]]
        check = np.flatnonzero(kept & (shared | prior))
        for i in check.tolist():
            if had_title[origin[i]] != (_title_words(passages[i], titles[i], tokenize) > 0):
                origin[i] = -1  # its title became, or stopped being, shared
        fresh = np.flatnonzero(origin < 0)
        body, title_words, languages = _split(passages, shared_titles, fresh.tolist(), tokenize)
        all_languages = np.zeros(len(passages), np.int8)
        kept = origin >= 0
        all_languages[kept] = self.languages[origin[kept]]
        all_languages[fresh] = languages
        if digests is None:
            digests = np.zeros(len(passages), np.uint64)
            digests[kept] = self.digests[origin[kept]]
            digests[fresh] = passage_digests([passages[i] for i in fresh.tolist()])
        return Corpus(
            self.body.updated(origin, body),
            self.titles.updated(origin, title_words),
            all_languages,
            digests,
            self.k1,
            self.b,
        )

    def origin_of(self, digests: np.ndarray) -> np.ndarray:
        """For each passage digest, the row of this corpus with the same text, else -1."""
        origin = np.full(len(digests), -1, np.int64)
        if self.size:
            order = np.argsort(self.digests, kind="stable")
            known = self.digests[order]
            at = np.minimum(np.searchsorted(known, digests), len(known) - 1)
            found = known[at] == digests
            origin[found] = order[at[found]]
        return origin

    @property
    def size(self) -> int:
        """How many passages it holds."""
        return self.body.size

    @cached_property
    def present(self) -> tuple[str, ...]:
        """The language groups its passages are in, in the order of :data:`LANGUAGES`."""
        return tuple(LANGUAGES[i] for i in np.flatnonzero(self._language_counts))

    @cached_property
    def majority(self) -> str:
        """The language group of most passages ("de" for none)."""
        return LANGUAGES[int(np.argmax(self._language_counts))] if self.size else "de"

    @cached_property
    def _language_counts(self) -> np.ndarray:
        return np.bincount(self.languages, minlength=len(LANGUAGES))

    @cached_property
    def length_norms(self) -> list[np.ndarray]:
        """Per body segment, each passage's ``k1 · (1 − b + b · length / mean length)``
        (float32), BM25's denominator less the count: computed once per corpus, not per
        posting of every question (a third of the keyword scoring's time)."""
        body = self.body
        mean = (body.total_length / body.size if body.size else 0.0) or 1.0
        return [
            (self.k1 * ((1 - self.b) + self.b * s.lengths / mean)).astype(np.float32)
            for s in body.segments
        ]

    def body_hits(self, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, counts, length norms) of the passages whose body holds ``term``."""
        return self.body.hits(term, self.length_norms)

    def title_rows(self, term: str) -> np.ndarray:
        """The rows of the passages whose shared title holds ``term``."""
        return self.titles.hits(term)[0]


def _title_words(passage: str, title: str, tokenize: Tokenize) -> int:
    """How many of ``passage``'s first words are its shared ``title``'s (0: none)."""
    return len(tokenize(title)) if title and passage.startswith(title) else 0


def _split(
    passages: Sequence[str],
    titles: Sequence[str] | None,
    rows: Iterable[int],
    tokenize: Tokenize,
) -> tuple[Segment, Segment, np.ndarray]:
    """For ``rows`` of ``passages``: the segments of the words after any shared title and
    of the title's words, and each passage's language group. Each passage's words go into
    the segments as they are split, so a build never holds every passage's words."""
    body, title_words, languages = SegmentBuilder(), SegmentBuilder(), []
    for i in rows:
        words = tokenize(passages[i])
        skip = _title_words(passages[i], titles[i], tokenize) if titles is not None else 0
        body.add(words[skip:])  # a shared title is no keyword evidence
        title_words.add(words[:skip])
        languages.append(language_group(passages[i]))
    return body.finish(), title_words.finish(), np.array(languages, dtype=np.int8)
