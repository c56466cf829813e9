"""Questions → ranked passages (:class:`Hit`) with their sources and the sentence that answers.

:class:`Index` joins a verified on-disk index (:mod:`diploqa.store`) with the embedding model
(:mod:`diploqa.encoders`). It is immutable and thread-safe: an update builds a new ``Index``
and callers swap the reference, so a query always sees one consistent index.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import config
from .articles import Article
from .chunking import PASSAGE, Chunk
from .encoders import Encoder, get_encoder
from .errors import QueryError
from .lexical import Bm25Index, LexicalScores
from .store import (
    BuildReport,
    Progress,
    StoredIndex,
    build,
    check_compatible,
    load_stored,
    read_manifest,
)

#: Questions longer than this are cut; the model reads at most 512 tokens anyway.
MAX_QUERY_CHARS = 2000

_SENTENCE_END = re.compile(r"(?<=[.!?…])(?<!\d\.)[\"“”»«')]*\s+|\n+")


@dataclass(frozen=True)
class Hit:
    """One ranked passage.

    Attributes:
        text: the passage.
        score: relevance, higher is better: the weighted cosine similarity of question and
            passage (e5, plus USE for the default model), plus a keyword bonus of at most 0.05.
            Comparable across questions: the web UI warns below ``app.LOW_SCORE_THRESHOLD``.
        source: the article's path relative to its articles folder.
        title: the article's title.
        date: the article's date as written in its header, or None.
        start: offset of the passage in the cleaned article text.
        end: offset after the passage's last character.
        outlet: the publishing outlet where known, else None.
        rank: 1 for the best hit.
        highlight: ``(start, end)`` of the sentence inside ``text`` that best answers the
            question.
    """

    text: str
    score: float
    source: str
    title: str
    date: str | None
    start: int
    end: int
    outlet: str | None = None
    rank: int = 0
    highlight: tuple[int, int] = (0, 0)

    @property
    def highlighted_sentence(self) -> str:
        return self.text[self.highlight[0] : self.highlight[1]]


def clean_query(query: object) -> str:
    """Validate and normalise a question; raise :class:`QueryError` with a readable reason."""
    if not isinstance(query, str):
        raise QueryError(f"the question must be text, not {type(query).__name__}")
    # Controls, format characters, line/paragraph separators and lone surrogates (which no
    # encoder can take: the tokenizer raised TypeError on them) become spaces.
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch for ch in query
    )
    text = " ".join(text.split())[:MAX_QUERY_CHARS]
    if not text:
        raise QueryError("the question is empty: type a question")
    return text


def check_k(k: object) -> int:
    """``k`` must be a whole number ≥ 1 (very large values are capped by the index size)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        if isinstance(k, float) and k.is_integer():
            k = int(k)
        else:
            raise QueryError(f"k must be a whole number ≥ 1, not {k!r}")
    if k < 1:
        raise QueryError(f"k must be a whole number ≥ 1, not {k}")
    return int(k)


def sentence_spans(passage: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each non-empty sentence of a passage."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(passage):
        spans.append((start, match.start() + len(match.group(0).rstrip())))
        start = match.end()
    spans.append((start, len(passage)))
    return [(a, b) for a, b in spans if passage[a:b].strip()] or [(0, len(passage))]


def best_sentence(
    spans: list[tuple[int, int]], lexical: np.ndarray, semantic: np.ndarray | None, coverage: float
) -> tuple[int, int]:
    """The sentence that best answers: semantic similarity (when available) plus the
    IDF-weighted word overlap, the latter weighted by the question's word coverage as in the
    ranking (an English question's words rarely occur in German text). Ties go to the earlier
    sentence: news put the fact first."""
    top = float(lexical.max(initial=0.0))
    lexical = lexical / top if top > 0 else lexical
    if semantic is None:
        scores = lexical
    else:
        scores = semantic + config.HIGHLIGHT_LEXICAL_WEIGHT * coverage * lexical
    return spans[int(np.argmax(scores))]


def _link_sections(chunks: list[Chunk]) -> tuple[list[int], dict[int, list[int]]]:
    """Passage rows, and links between each passage and the sections that overlap it (both
    ways), so a strong section pulls up its passages and a passage brings its section along."""
    passages = [i for i, c in enumerate(chunks) if c.kind == PASSAGE]
    sections: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        if c.kind != PASSAGE:
            sections.setdefault(c.article_id, []).append(i)
    links: dict[int, list[int]] = {}
    for p in passages:
        chunk = chunks[p]
        for s in sections.get(chunk.article_id, ()):
            if chunks[s].start < chunk.end and chunk.start < chunks[s].end:
                links.setdefault(p, []).append(s)
                links.setdefault(s, []).append(p)
    return passages, links


class Index:
    """A searchable index: the stored vectors and metadata plus the embedding model.

    Create it with :func:`build_index` or :func:`load_index`.
    """

    def __init__(self, stored: StoredIndex, embedder: Encoder) -> None:
        check_compatible(stored.manifest, stored.path, embedder)
        self.stored = stored
        self.embedder = embedder
        self.path = stored.path
        self.build_report: BuildReport | None = None
        self._lexical: Bm25Index | None = None
        self._lexical_lock = threading.Lock()
        self._passages, self._links = _link_sections(stored.chunks)

    @property
    def lexical(self) -> Bm25Index:
        """The keyword index, built from the stored passages on first use (its cost:
        docs/benchmarks.md): an update is done when its generation is committed, and a process
        that only builds never needs it. :meth:`warm` builds it ahead of the first search."""
        if self._lexical is None:
            with self._lexical_lock:
                if self._lexical is None:
                    self._lexical = Bm25Index(self.stored.passages())
        return self._lexical

    def warm(self) -> Index:
        """Build what the first search would otherwise build (the web app calls this before
        it swaps a new index in, so no question waits for it). Returns the index."""
        _ = self.lexical
        return self

    @property
    def articles(self) -> list[Article]:
        """The indexed articles, sorted by id."""
        return list(self.stored.articles.values())

    def __len__(self) -> int:
        """Number of passages in the index (sections are not counted: they are never shown)."""
        return len(self._passages)

    def _query_vector(self, raw: np.ndarray, coverage: float) -> np.ndarray:
        """The question's search vector; with the USE ensemble its USE half is weighted so that
        one inner product gives ``(e5 + w·USE) / (1 + w)``, ``w`` shrinking as more of the
        question's words occur in the corpus (German questions lean on e5 and BM25)."""
        w = config.USE_WEIGHT * (1.0 - coverage)
        return self.embedder.query_vector(raw, w)

    def _rank(self, lexical: LexicalScores, raw: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Hybrid, two-granularity ranking of passages.

        Every candidate chunk (passage or section) scores its dense similarity plus a BM25
        bonus of at most ``config.HYBRID_WEIGHT``, weighted by the question's word coverage, so
        it reorders close calls and never buries a clear dense hit. Candidates are the union
        of both rankings' top chunks and the chunks linked to them; a section's score goes to
        its best passage when higher than that passage's own.
        """
        n = len(self.stored.chunks)
        n_candidates = min(n, max(config.CANDIDATES, 4 * k))
        vector = self._query_vector(raw, lexical.coverage)
        dense, rows = self.stored.faiss_index.search(vector, n_candidates)
        candidates = {int(r) for r in rows[0] if r >= 0}
        scores = {int(r): float(s) for s, r in zip(dense[0], rows[0], strict=True) if r >= 0}
        best = float(lexical.scores.max(initial=0.0))
        if best > 0:
            top = np.argsort(-lexical.scores)[:n_candidates]
            candidates.update(int(r) for r in top if lexical.scores[r] > 0)
        for _ in range(2):  # passage → its sections → all their passages
            for row in list(candidates):
                candidates.update(self._links.get(row, ()))
        missing = sorted(candidates - scores.keys())
        if missing:
            vectors = self.stored.faiss_index.reconstruct_batch(np.asarray(missing, np.int64))
            scores.update(zip(missing, (vectors @ vector[0]).tolist(), strict=True))
        if best > 0:
            weight = config.HYBRID_WEIGHT * lexical.bm25_coverage / best
            for row in scores:
                scores[row] += weight * float(lexical.scores[row])
        final = {r: scores[r] for r in candidates if self.stored.chunks[r].kind == PASSAGE}
        for row in candidates - final.keys():  # a section lifts only its best passage, so
            linked = [p for p in self._links.get(row, ()) if p in scores]
            if linked:  # one strong section cannot flood the top
                best_passage = max(linked, key=scores.__getitem__)
                final[best_passage] = max(final[best_passage], scores[row])
        ranked = sorted(final.items(), key=lambda item: (-item[1], -scores[item[0]], item[0]))
        return ranked[:k]

    def article(self, source: str) -> Article:
        """The indexed article with this id (``Hit.source``)."""
        return self.stored.articles[source]

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The ``k`` passages that best answer ``query``, best first.

        Raises:
            QueryError: the question is empty or not text, or ``k`` is not a whole number ≥ 1.
        """
        text = clean_query(query)
        k = min(check_k(k), len(self))
        if k == 0:
            return []
        lexical = self.lexical.score(text)
        raw = self.embedder.encode_queries([text])[0]
        ranked = self._rank(lexical, raw, k)
        highlights = self._highlights([self.stored.chunks[row].text for row, _ in ranked],
                                      lexical, raw)  # fmt: skip
        hits = []
        for (row, score), highlight in zip(ranked, highlights, strict=True):
            chunk = self.stored.chunks[row]
            article = self.stored.articles[chunk.article_id]
            hits.append(
                Hit(
                    text=chunk.text,
                    score=float(score),
                    source=article.id,
                    title=article.title,
                    date=article.date,
                    start=chunk.start,
                    end=chunk.end,
                    outlet=article.outlet,
                    rank=len(hits) + 1,
                    highlight=highlight,
                )
            )
        return hits

    def _highlights(
        self, passages: list[str], lexical: LexicalScores, raw: np.ndarray
    ) -> list[tuple[int, int]]:
        """The best sentence of each passage, by words: the question's words and, for an
        English question, their dictionary translations (:attr:`LexicalScores.groups`).

        When the question's words are mostly absent from the corpus and the dictionary found
        none of them either, the first ``config.SEMANTIC_HIGHLIGHTS`` passages (what a reader
        sees first) are also compared by meaning, with USE. Measured on XQuAD English questions
        (docs/quality.md): words alone 0.50 of answers highlighted, with meaning 0.62, with
        translations 0.63 at the cost of words alone (USE's cost: docs/benchmarks.md); German
        questions need neither (0.71 either way)."""
        spans = [sentence_spans(p) for p in passages]
        sentences = [[p[a:b] for a, b in sp] for p, sp in zip(passages, spans, strict=True)]
        semantic: list[np.ndarray | None] = [None] * len(passages)
        if (
            lexical.coverage < config.SEMANTIC_HIGHLIGHT_MAX_COVERAGE
            and lexical.bm25_coverage <= lexical.coverage  # no word found by translation
        ):
            chosen = [i for i in range(min(len(passages), config.SEMANTIC_HIGHLIGHTS))
                      if len(sentences[i]) > 1]  # fmt: skip
            flat = [s for i in chosen for s in sentences[i]]
            similarity = self.embedder.sentence_similarity(raw, flat) if flat else None
            if similarity is not None:  # None: the encoder has no cheap model for meaning
                for i in chosen:
                    n = len(sentences[i])
                    semantic[i], similarity = similarity[:n], similarity[n:]
        return [
            best_sentence(sp, self.lexical.overlap(lexical.groups, group), sem, lexical.coverage)
            for sp, group, sem in zip(spans, sentences, semantic, strict=True)
        ]


def load_index(index_dir: str | Path | None = None, model: str | None = None) -> Index:
    """Load a built index (and its model, once per process).

    Args:
        index_dir: the index folder (default ``./index`` or ``DIPLOQA_INDEX``).
        model: expected model; by default the one the index was built with.

    Raises:
        IndexCorruptError: files missing or damaged (rebuild with ``diploqa index --rebuild``).
        IndexMismatchError: the index was built with another model or format.
    """
    index_dir = Path(index_dir or config.index_dir())
    manifest = read_manifest(index_dir)  # checked before any vector is read
    embedder = get_encoder(model) if model else get_encoder(manifest["model"], exact=True)
    check_compatible(manifest, index_dir, embedder)
    return Index(load_stored(index_dir), embedder)


def build_index(
    articles_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    model: str | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    chunking: config.ChunkingConfig | None = None,
) -> Index:
    """Build or incrementally update an index and return it, ready to search.

    Only new or changed articles are embedded; ``rebuild=True`` re-embeds everything. The
    returned index carries what the build did in ``build_report``.
    """
    index_dir = Path(index_dir or config.index_dir())
    report, stored = build(
        articles_dir or config.articles_dir(), index_dir, model, rebuild, chunking, progress
    )
    index = Index(stored, get_encoder(model))
    index.build_report = report
    return index


_default: Index | None = None
_default_lock = threading.Lock()


def default_index() -> Index:
    """The process-wide default index (``./index`` from ``./seeds``), brought up to date with
    its articles on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = build_index()
        return _default


def search(query: str, k: int = 5) -> list[Hit]:
    """Search the default index; see :meth:`Index.search`."""
    clean_query(query), check_k(k)  # a bad question fails before any model is loaded
    return default_index().search(query, k)
