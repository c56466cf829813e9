"""Which new articles answer which standing questions.

A new article answers a question when it would be among the question's first
:data:`MATCH_RANK` results (by default: the first) if the question were asked now, counting
only articles that were there before (new ones do not push each other out); its best passage
scores at least :data:`MATCH_FLOOR`; and it leads the best older article below it by at least
:data:`MATCH_LEAD`. The rank is what a search shows (one ranking over the whole archive, with
the question's filters, one passage per article and one printing per story); the floor and the
lead keep a question the archive has no good answer to from alerting on whatever comes first.
A score alone does not work: German questions score high against most German text
(docs/quality.md, "Standing questions"). With rank 1 a question is told each time the archive
gets a clearly better answer than it had, which a copy or an unrelated article rarely is.

A full ranking per question and check costs a few milliseconds, so a cheap bound goes first:
the dense similarity of every question with every chunk of the new articles in one matrix
product, at both ends of the weight the ranking may give the encoder's partner model (a convex
mix lies between them), plus :data:`PREFILTER_MARGIN` for the keyword bonus and the
per-language centring. A question none of whose new articles comes within reach of the floor
is not ranked at all. Every number here is measured (``benchmarks/alerts.py``).

A matcher of a server yields to its searches: :attr:`Matcher.pause` is called before each
step (an encoding call, a slice of bounds, a question's ranking; :mod:`diploqa.app.activity`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..filters import SearchFilter
from ..highlight import highlights
from ..hits import Hit, make_hit
from ..index import Index
from ..query import Query
from .state import QuestionState

#: A new article alerts when fewer than this many older articles rank above it for the
#: question (1: it is the best answer the archive now has) ...
MATCH_RANK = 1
#: ... its best passage scores at least this ...
MATCH_FLOOR = 0.74
#: ... and at least this much more than the best older article below it (the rank-th): a
#: clearly better answer, not the best of a crowd of equally weak ones (docs/quality.md,
#: "Standing questions").
MATCH_LEAD = 0.01
#: How far below the floor a pair's dense bound may be and still be ranked.
PREFILTER_MARGIN = 0.10
#: New articles bounded at once (bounds the memory of their chunks' vectors).
ARTICLES_PER_SLICE = 256
#: Questions encoded per model call: the encoders are shared with searches and hold a lock
#: per call, so a search waits for at most this many questions, not a thousand.
QUESTIONS_PER_CALL = 16


@dataclass(frozen=True)
class Match:
    """A new article that answers a question: its best passage as a search shows it (its
    ``rank``: the place it would take among the question's results)."""

    article_id: str
    score: float
    hit: Hit


class Matcher:
    """Matches standing questions against new articles; keeps each question's encoding
    (per model and runtime), so a question is encoded once per process, not per check."""

    def __init__(
        self,
        rank: int = MATCH_RANK,
        floor: float = MATCH_FLOOR,
        lead: float = MATCH_LEAD,
        margin: float = PREFILTER_MARGIN,
        pause: Callable[[], object] | None = None,
    ) -> None:
        self.rank, self.floor, self.lead, self.margin = rank, floor, lead, margin
        #: Called before each step of a check (None: never): where a server's check waits
        #: while a search is answered (:meth:`~diploqa.app.activity.SearchActivity.pause`).
        self.pause = pause
        self._encoded: dict[tuple[str, str, str], np.ndarray] = {}
        self._index: Index | None = None  # the index the row maps below belong to
        self._chunk_article: np.ndarray | None = None
        self._allowed: dict[SearchFilter, np.ndarray] = {}
        #: Per question, what its last ranking found: the rank-th best score and the first
        #: ``rank`` articles (id, content hash). While those are unchanged in the archive,
        #: the rank-th best can only have risen, so a new article must come within reach of
        #: it plus the lead, not only of the floor, to be worth ranking.
        self._bars: dict[tuple[str, Query], tuple[float, tuple[tuple[str, str], ...]]] = {}
        #: Questions ranked by the last :meth:`match` (the others the bound ruled out).
        self.ranked_questions = 0

    def step(self) -> None:
        """Between two steps of a check: :attr:`pause`, if any."""
        if self.pause is not None:
            self.pause()

    def encode(self, index: Index, questions: Sequence[str]) -> np.ndarray:
        """The raw encodings of ``questions`` (rows), new ones encoded
        :data:`QUESTIONS_PER_CALL` at a time."""
        encoder = index.encoder
        keys = [(encoder.model_id, encoder.backend, q) for q in questions]
        missing = list(dict.fromkeys(k for k in keys if k not in self._encoded))
        for start in range(0, len(missing), QUESTIONS_PER_CALL):
            part = missing[start : start + QUESTIONS_PER_CALL]
            self.step()
            raw = encoder.encode_queries([k[2] for k in part])
            self._encoded.update(zip(part, raw, strict=True))
        return np.stack([self._encoded[k] for k in keys])

    def state(self, index: Index, query: Query) -> QuestionState | None:
        """What this matcher knows of ``query`` on ``index``'s model (to keep, :mod:`.state`):
        None before it was encoded."""
        encoder = index.encoder
        vector = self._encoded.get((encoder.model_id, encoder.backend, query.question))
        if vector is None:
            return None
        bar, top = self._bars.get((encoder.model_id, query), (None, ()))
        if bar is None or not np.isfinite(bar):  # no ranking yet, or it found nothing
            return QuestionState(vector)
        return QuestionState(vector, bar, top)

    def restore(self, index: Index, query: Query, state: QuestionState) -> bool:
        """Take what was kept of ``query`` (written for ``index``'s model and ranking) where
        this matcher knows nothing of it yet; False if its encoding does not fit the model."""
        encoder = index.encoder
        if state.vector.shape != (encoder.dim,):
            return False
        self._encoded.setdefault((encoder.model_id, encoder.backend, query.question), state.vector)
        if state.bar is not None:
            self._bars.setdefault((encoder.model_id, query), (state.bar, state.top))
        return True

    def match(
        self, index: Index, queries: Sequence[Query], article_ids: Sequence[str]
    ) -> list[list[Match]]:
        """For each query, the articles among ``article_ids`` (new in ``index``) that answer
        it, best first."""
        found: list[list[Match]] = [[] for _ in queries]
        self.ranked_questions = 0
        if not queries or not article_ids:
            return found
        raw = self.encode(index, [q.question for q in queries])
        rows = _rows_by_article(index, article_ids)
        near = np.zeros(len(queries), dtype=np.int64)  # new articles within reach, per query
        reach = np.array([self._reach(index, q) for q in queries])[:, None]
        order = list(rows)
        for start in range(0, len(order), ARTICLES_PER_SLICE):
            part = {a: rows[a] for a in order[start : start + ARTICLES_PER_SLICE]}
            self.step()
            near += (self.bounds(index, raw, part) >= reach).sum(axis=1)
        new = set(rows)
        for q in np.flatnonzero(near).tolist():
            self.step()
            self.ranked_questions += 1
            # an answer has fewer than `rank` older articles and at most the other articles
            # within reach above it: the first rank + near[q] results hold every answer
            found[q] = self._matches(index, queries[q], raw[q], new, self.rank + int(near[q]))
        return found

    def ranked(
        self, index: Index, query: Query, raw: np.ndarray, k: int
    ) -> tuple[list[tuple[int, float]], object]:
        """The question's top ``k`` articles over the whole index as a search ranks them
        (their best passage's row and score), and its keyword scores."""
        lexical = index.lexical.score(query.question)
        rows = self._allowed_rows(index, query.filter)
        if rows is not None and len(rows) == 0:
            return [], lexical
        ranked = index.ranker.rank(index.lexical, lexical, raw, k, rows, 1, query.filter)
        return ranked, lexical

    def _reach(self, index: Index, query: Query) -> float:
        """The dense bound from which a new article may answer ``query``: the floor, or the
        question's last rank-th best score plus the lead where its first articles are still
        the same, each less the margin."""
        found = self._bars.get((index.encoder.model_id, query))
        if found is not None:
            bar, top = found
            articles = index.manifest.articles
            if all(articles.get(aid) == content for aid, content in top):
                return max(self.floor, bar + self.lead) - self.margin
        return self.floor - self.margin

    def _matches(
        self, index: Index, query: Query, raw: np.ndarray, new: set[str], k: int
    ) -> list[Match]:
        """The answers among ``new``: a new article counts as older where its story was
        there before (another printing of it is older): a copy is no new answer."""
        chunks, story_of = index.stored.chunks, index.ranker.story_of

        def fresh(row: int) -> bool:
            aid = chunks[row].article_id
            return aid in new and all(a in new for a in story_of.get(aid, ()))

        ranked, lexical = self.ranked(index, query, raw, k)
        older = [score for row, score in ranked if not fresh(row)]
        if len(older) < self.rank and len(ranked) == k:  # new ones filled the list: more
            ranked, lexical = self.ranked(index, query, raw, self.rank + len(new))
            older = [score for row, score in ranked if not fresh(row)]
        self._remember(index, query, ranked)
        bar = older[self.rank - 1] if 0 < self.rank <= len(older) else -np.inf
        out, above = [], 0
        for position, (row, score) in enumerate(ranked, start=1):
            if above >= self.rank:
                break
            if not fresh(row):
                above += 1
            elif score >= self.floor and score - bar >= self.lead:
                out.append(_match(index, lexical, raw, row, score, position))
        return out

    def _remember(self, index: Index, query: Query, ranked: list[tuple[int, float]]) -> None:
        """Keep the rank-th best score of this ranking and its first articles (all of them
        older at the next check) for :meth:`_reach`."""
        if self.rank < 1:
            return
        articles = index.manifest.articles
        first = [index.stored.chunks[row].article_id for row, _ in ranked[: self.rank]]
        top = tuple((aid, articles.get(aid, "")) for aid in first)
        bar = ranked[self.rank - 1][1] if len(ranked) >= self.rank else -np.inf
        self._bars[(index.encoder.model_id, query)] = (float(bar), top)

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

    def _allowed_rows(self, index: Index, wanted: SearchFilter | None) -> np.ndarray | None:
        """The chunk rows of the articles that pass ``wanted`` (None: all), per index."""
        if wanted is None:
            return None
        if index is not self._index:
            articles = {aid: i for i, aid in enumerate(index.columns.ids)}
            self._chunk_article = np.fromiter(
                (articles[c.article_id] for c in index.stored.chunks), np.int64
            )
            self._index, self._allowed = index, {}
        if wanted not in self._allowed:
            keep = index.columns.mask(wanted)
            self._allowed[wanted] = np.flatnonzero(keep[self._chunk_article])
        return self._allowed[wanted]


def _rows_by_article(index: Index, article_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Chunk rows (passages and sections) of each of ``article_ids`` that has any."""
    wanted = set(article_ids)
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(index.stored.chunks):
        if chunk.article_id in wanted:
            rows.setdefault(chunk.article_id, []).append(row)
    return {a: np.asarray(rows[a], np.int64) for a in article_ids if a in rows}


def _match(index: Index, lexical, raw: np.ndarray, row: int, score: float, rank: int) -> Match:
    chunk = index.stored.chunks[row]
    span = highlights([chunk.text], lexical, raw, index.lexical, index.encoder, index.ranking)[0]
    article = index.article(chunk.article_id)
    hit = make_hit(chunk, article, score, rank, span, index.copies(article.id))
    return Match(article.id, float(score), hit)
