"""Which new articles answer which standing questions.

An article answers a question when its best passage, ranked for the question among that
article's passages alone by the same hybrid ranking a search uses (:class:`~diploqa.ranking.
Ranker`, the question's filters applied), scores at least :data:`MATCH_THRESHOLD`. Asked of
each article alone, the score of an article does not depend on what else arrived with it.

Ranking every question against every new article would cost a ranking call per pair (100,000
for 1,000 questions and 100 articles). So a cheap bound goes first: the dense similarity of
each question with every chunk of the new articles, in one matrix product, at the two ends
of the weight the ranking may give the encoder's partner model (a convex mix lies between
them), plus :data:`PREFILTER_MARGIN` for the keyword bonus (at most ``hybrid_weight``) and the
per-language centring. Only pairs within reach of the threshold are ranked. Both numbers are
measured, not guessed (docs/quality.md, "Standing questions"; ``benchmarks/alerts.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..filters import ArticleColumns
from ..highlight import highlights
from ..hits import Hit, make_hit
from ..index import Index
from ..query import Query

#: The score from which an article answers a standing question (measured: docs/quality.md,
#: "Standing questions").
MATCH_THRESHOLD = 0.80
#: How far below the threshold a pair's dense bound may be and still be ranked.
PREFILTER_MARGIN = 0.10
#: New articles compared at once (bounds the memory of the bound: their chunks' vectors).
ARTICLES_PER_SLICE = 256


@dataclass(frozen=True)
class Match:
    """A new article that answers a question: its best passage as a search shows it."""

    article_id: str
    score: float
    hit: Hit


class Matcher:
    """Matches standing questions against new articles; keeps each question's encoding
    (per model and runtime), so a question is encoded once per process, not per check."""

    def __init__(
        self, threshold: float = MATCH_THRESHOLD, margin: float = PREFILTER_MARGIN
    ) -> None:
        self.threshold = threshold
        self.margin = margin
        self._encoded: dict[tuple[str, str, str], np.ndarray] = {}
        #: Pairs ranked exactly by the last :meth:`match` (the rest the bound ruled out).
        self.ranked_pairs = 0

    def encode(self, index: Index, questions: Sequence[str]) -> np.ndarray:
        """The raw encodings of ``questions`` (rows), new ones encoded in one batch."""
        encoder = index.encoder
        keys = [(encoder.model_id, encoder.backend, q) for q in questions]
        missing = list(dict.fromkeys(k for k in keys if k not in self._encoded))
        if missing:
            raw = encoder.encode_queries([k[2] for k in missing])
            self._encoded.update(zip(missing, raw, strict=True))
        return np.stack([self._encoded[k] for k in keys])

    def match(
        self, index: Index, queries: Sequence[Query], article_ids: Sequence[str]
    ) -> list[list[Match]]:
        """For each query, the articles among ``article_ids`` (all in ``index``) that answer
        it and pass its filters, best first."""
        found: list[list[Match]] = [[] for _ in queries]
        self.ranked_pairs = 0
        if not queries or not article_ids:
            return found
        raw = self.encode(index, [q.question for q in queries])
        rows = _rows_by_article(index, article_ids)
        order = list(rows)
        for start in range(0, len(order), ARTICLES_PER_SLICE):
            part = {a: rows[a] for a in order[start : start + ARTICLES_PER_SLICE]}
            for q, matches in enumerate(self._match_slice(index, queries, raw, part)):
                found[q].extend(matches)
        for matches in found:
            matches.sort(key=lambda m: (-m.score, m.article_id))
        return found

    def bounds(self, index: Index, raw: np.ndarray, rows: dict[str, np.ndarray]) -> np.ndarray:
        """Per question (rows of ``raw``) and article (``rows``' order), an upper bound of
        the dense part of the article's best score."""
        order = list(rows)
        flat = np.concatenate([rows[a] for a in order])
        vectors = index.stored.vectors.reconstruct(flat)
        weight = index.ranking.use_weight
        encoder = index.encoder
        low = np.vstack([encoder.query_vector(r, 0.0) for r in raw])
        high = np.vstack([encoder.query_vector(r, weight) for r in raw])
        dense = np.maximum(low @ vectors.T, high @ vectors.T)
        starts = np.cumsum([0] + [len(rows[a]) for a in order[:-1]])
        return np.maximum.reduceat(dense, starts, axis=1)

    def _match_slice(
        self, index: Index, queries: Sequence[Query], raw: np.ndarray, rows: dict[str, np.ndarray]
    ) -> list[list[Match]]:
        out: list[list[Match]] = [[] for _ in queries]
        order = list(rows)
        bound = self.bounds(index, raw, rows)
        columns = ArticleColumns([index.article(a) for a in order])
        passes: dict[object, np.ndarray] = {}
        for q, query in enumerate(queries):
            near = bound[q] >= self.threshold - self.margin
            if query.filter is not None and near.any():
                if query.filter not in passes:
                    passes[query.filter] = columns.mask(query.filter)
                near &= passes[query.filter]
            candidates = np.flatnonzero(near)
            if len(candidates) == 0:
                continue
            lexical = index.lexical.score(query.question)
            for a in candidates.tolist():
                self.ranked_pairs += 1
                aid = order[a]
                ranked = index.ranker.rank(index.lexical, lexical, raw[q], 1, rows=rows[aid])
                if ranked and ranked[0][1] >= self.threshold:
                    out[q].append(_match(index, lexical, raw[q], *ranked[0]))
        return out

    def scores(
        self, index: Index, queries: Sequence[Query], article_ids: Sequence[str]
    ) -> np.ndarray:
        """Every pair's exact score (questions × articles; no bound, no threshold, filters
        ignored): what the benchmark measures the threshold and the bound with."""
        raw = self.encode(index, [q.question for q in queries])
        rows = _rows_by_article(index, article_ids)
        out = np.full((len(queries), len(article_ids)), -np.inf, dtype=np.float32)
        for q, query in enumerate(queries):
            lexical = index.lexical.score(query.question)
            for a, aid in enumerate(article_ids):
                if aid in rows:
                    ranked = index.ranker.rank(index.lexical, lexical, raw[q], 1, rows=rows[aid])
                    out[q, a] = ranked[0][1] if ranked else -np.inf
        return out


def _rows_by_article(index: Index, article_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Chunk rows (passages and sections) of each of ``article_ids`` that has any."""
    wanted = set(article_ids)
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(index.stored.chunks):
        if chunk.article_id in wanted:
            rows.setdefault(chunk.article_id, []).append(row)
    return {a: np.asarray(rows[a], np.int64) for a in article_ids if a in rows}


def _match(index: Index, lexical, raw: np.ndarray, row: int, score: float) -> Match:
    chunk = index.stored.chunks[row]
    span = highlights([chunk.text], lexical, raw, index.lexical, index.encoder, index.ranking)[0]
    article = index.article(chunk.article_id)
    hit = make_hit(chunk, article, score, 1, span, index.copies(article.id))
    return Match(article.id, float(score), hit)
