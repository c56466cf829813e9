"""The hybrid ranker: dense similarity and BM25 over passages and the sections around them.

A :class:`Ranker` belongs to one stored index and one :class:`~diploqa.config.RankingConfig`;
:class:`~diploqa.index.Index` gives it the question's vector and keyword scores and gets back
the rows of the best passages. Why each step: docs/quality.md.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .chunking import PASSAGE, Chunk
from .config import RankingConfig
from .encoders import Encoder
from .filters import SearchFilter
from .lexical import LANGUAGES, Bm25Index, LexicalScores
from .store import StoredIndex

#: Rows per language group averaged for its mean vector (``RankingConfig.language_centering``).
CENTROID_SAMPLE = 5000

#: A ranked passage: its chunk row and its score.
Ranked = tuple[int, float]


@dataclass(frozen=True)
class ArticleScores:
    """A question's candidate articles (:meth:`Ranker.article_scores`).

    Attributes:
        positions: the articles, as their positions in the stored index's articles (sorted
            by id, the order of :class:`~diploqa.filters.ArticleColumns`), best first.
        scores: the best score of each one's candidate chunks.
        floor: the lowest score by meaning among a full list of candidates (``-inf`` where
            the list held every chunk the filters allow): chunks beyond scored at most this.
        background: the question's score by meaning against unrelated text: what an
            article about something else scores, higher for some questions and languages
            than for others.
    """

    positions: np.ndarray
    scores: np.ndarray
    floor: float
    background: float


def link_sections(chunks: list[Chunk]) -> tuple[list[int], dict[int, list[int]]]:
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


def title_only_rows(stored: StoredIndex) -> set[int]:
    """Rows of passages that hold nothing but their article's title, in articles that have
    other passages (each of which is embedded with the title in front): a title line above a
    long first paragraph becomes a passage of its own, and where many articles share the title
    (a live blog, the sections of one Wikipedia article) those identical passages would all
    match a question about the topic equally well."""
    out, others = set(), Counter()
    for i, chunk in enumerate(stored.chunks):
        if chunk.kind == PASSAGE:
            title = stored.articles[chunk.article_id].title.strip()
            if title and chunk.text.strip() == title:
                out.add(i)
            else:
                others[chunk.article_id] += 1
    return {i for i in out if others[stored.chunks[i].article_id]}


class Ranker:
    """Hybrid, two-granularity ranking of the passages of one stored index.

    Every candidate chunk (passage or section) scores its dense similarity plus a BM25 bonus
    of at most ``ranking.hybrid_weight``, weighted by the question's word coverage, so it
    reorders close calls and never buries a clear dense hit. The encoder's partner model
    (USE) is weighted by ``ranking.use_weight`` for a question none of whose words occur in
    the corpus, less as more do (German questions lean on e5 and BM25). Candidates are the
    union of both rankings' top chunks and the chunks linked to them; a section's score goes
    to its best passage when higher than that passage's own.
    """

    def __init__(self, stored: StoredIndex, encoder: Encoder, ranking: RankingConfig) -> None:
        self.stored = stored
        self.encoder = encoder
        self.ranking = ranking
        self.passages, self._links = link_sections(stored.chunks)
        if not ranking.sections:
            self._links = {}
        #: Article id → the ids of every article telling its story (itself included).
        self.story_of = stored.stories.group_of()
        self._title_only = title_only_rows(stored) if ranking.skip_title_passages else set()
        self._centroids: dict[int, np.ndarray] | None = None
        self._articles_of_rows: tuple[np.ndarray, np.ndarray] | None = None
        self._kinds: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._smallest_group: int | None = None

    def share_language_groups(self, other: Ranker) -> None:
        """Use ``other``'s per-language-group values (they depend on the keyword index and the
        vectors only, which ``other`` shares with this ranker)."""
        self._centroids, self._smallest_group = other._centroids, other._smallest_group

    def weighs_partner(self, keywords: Bm25Index, lexical: LexicalScores) -> bool:
        """Whether any score of this question weights the partner model (USE) above zero:
        its weight falls to zero as the question's words are all found, overall and, where
        the archive is ranked by language group, in each group (:meth:`candidate_scores`,
        :meth:`_group_scores`)."""
        if self.ranking.use_weight <= 0:
            return False
        coverages = [lexical.coverage]
        groups = lexical.by_language if self.ranking.language_groups else None
        if groups and self._group_articles(keywords) >= self.ranking.language_group_articles:
            coverages += [coverage for coverage, _ in groups.values()]
        return min(coverages) < 1.0

    def rank(
        self,
        keywords: Bm25Index,
        lexical: LexicalScores,
        raw: np.ndarray,
        k: int,
        rows: np.ndarray | None = None,
        per_article: int | None = None,
        where: SearchFilter | None = None,
    ) -> list[Ranked]:
        """The top ``k`` passages for a question: ``lexical`` its keyword scores in
        ``keywords``, ``raw`` its encoded form.

        With ``rows`` only those chunks are ranked (a filter, ``where``; the vector store
        applies it inside its search, Milvus as an expression). With ``per_article`` at most
        that many passages of one article.
        """
        n_rows = len(self.stored.chunks) if rows is None else len(rows)
        n_candidates = min(n_rows, max(self.ranking.candidates, 4 * k))
        scores, _ = self.candidate_scores(keywords, lexical, raw, n_candidates, rows, where)
        return self._finish(scores, k, per_article)

    def article_scores(
        self,
        keywords: Bm25Index,
        lexical: LexicalScores,
        raw: np.ndarray,
        n_candidates: int,
        reference: np.ndarray,
        rows: np.ndarray | None = None,
        where: SearchFilter | None = None,
    ) -> ArticleScores:
        """The best score of each article among a question's ``n_candidates`` best chunks by
        meaning and by keywords (scored as :meth:`rank` scores them), with the question's
        background (its score against ``reference``, a stored-like vector of unrelated
        text) and the candidates' floor: what :mod:`diploqa.matching` selects from. Linked
        chunks are not added (an article is already represented by its best chunk), so the
        cost grows with ``n_candidates``, not with the archive."""
        n_rows = len(self.stored.chunks) if rows is None else len(rows)
        scores, floor = self.candidate_scores(
            keywords, lexical, raw, min(n_rows, n_candidates), rows, where, linked=False
        )
        found = np.fromiter(scores.keys(), np.int64, len(scores))
        values = np.fromiter(scores.values(), np.float64, len(scores))
        article_of, title_only = self._article_rows()
        keep = ~title_only[found]
        articles, values = article_of[found[keep]], values[keep]
        order = np.lexsort((articles, -values))  # best first; equal scores by article
        articles, values = articles[order], values[order]
        _, first = np.unique(articles, return_index=True)  # each article's best chunk
        first.sort()
        vector = self.encoder.query_vector(raw, self.ranking.use_weight * (1.0 - lexical.coverage))
        background = float(vector[0] @ reference)
        return ArticleScores(articles[first], values[first], floor, background)

    def _article_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Per chunk row: its article's position among the stored articles, and whether it
        is a title-only passage (made once)."""
        if self._articles_of_rows is None:
            position = {aid: i for i, aid in enumerate(self.stored.articles)}
            chunks = self.stored.chunks
            article_of = np.fromiter(
                (position[c.article_id] for c in chunks), np.int64, len(chunks)
            )
            self._articles_of_rows = (article_of, self._row_kinds()[1])
        return self._articles_of_rows

    def candidate_scores(
        self,
        keywords: Bm25Index,
        lexical: LexicalScores,
        raw: np.ndarray,
        n_candidates: int,
        rows: np.ndarray | None = None,
        where: SearchFilter | None = None,
        linked: bool = True,
    ) -> tuple[dict[int, float], float]:
        """Row → fused score of every candidate chunk (passage or section) of a question:
        the ``n_candidates`` best by meaning and by keywords, and with ``linked`` the chunks
        linked to them; and the lowest score by meaning among a full list of the former
        (``-inf`` where the list holds every allowed chunk)."""
        ranking, vectors = self.ranking, self.stored.vectors
        vector = self.encoder.query_vector(raw, ranking.use_weight * (1.0 - lexical.coverage))
        dense, found = vectors.search(vector, n_candidates, rows=rows, where=where)
        candidates = {int(r) for r in found[0] if r >= 0}
        scores = {int(r): float(s) for s, r in zip(dense[0], found[0], strict=True) if r >= 0}
        n_rows = len(self.stored.chunks) if rows is None else len(rows)
        full = n_candidates < n_rows and len(scores) == n_candidates
        floor = min(scores.values()) if full else -np.inf
        keyword, allowed = lexical.scores, None
        if rows is not None:  # keyword hits outside the filter are not candidates either
            keyword = np.zeros_like(keyword)
            keyword[rows] = lexical.scores[rows]
            allowed = np.zeros(len(keyword), bool)
            allowed[rows] = True
        groups = lexical.by_language if ranking.language_groups else None
        if groups and self._group_articles(keywords) >= ranking.language_group_articles:
            found_scores = self._group_scores(
                keywords, lexical, raw, keyword, candidates, n_candidates, linked, allowed
            )
            return found_scores, floor
        best = float(keyword.max(initial=0.0))
        if best > 0:
            top = _top_rows(keyword, n_candidates)
            candidates.update(top[keyword[top] > 0].tolist())
        if linked:
            self._add_linked(candidates, allowed)
        missing = sorted(candidates - scores.keys())
        if missing:
            found = vectors.reconstruct(np.asarray(missing, np.int64))
            scores.update(zip(missing, (found @ vector[0]).tolist(), strict=True))
        if best > 0:
            weight = ranking.hybrid_weight * lexical.bm25_coverage / best
            keyed = np.fromiter(scores, np.int64, len(scores))  # as Python floats would:
            bonus = keyword[keyed].astype(np.float64) * weight  # float64 throughout
            values = np.fromiter(scores.values(), np.float64, len(scores)) + bonus
            scores = dict(zip(keyed.tolist(), values.tolist(), strict=True))
        return scores, floor

    def _group_scores(
        self,
        keywords: Bm25Index,
        lexical: LexicalScores,
        raw: np.ndarray,
        keyword: np.ndarray,
        candidates: set[int],
        n_candidates: int,
        linked: bool,
        allowed: np.ndarray | None = None,
    ) -> dict[int, float]:
        """:meth:`candidate_scores` for an index of German and English passages: each language group
        gets the USE weight and the BM25 weight of its own coverage, BM25 is normalised by the
        group's best score (a smaller group's by the archive's, ``minority_bm25_scale``), and
        (``language_centering``) the dense scores are centred per group, so each group ranks as
        if it were an archive of its own and neither is preferred for its language."""
        ranking, languages = self.ranking, keywords.languages
        by_group = {LANGUAGES.index(lang): values for lang, values in lexical.by_language.items()}
        normalised = np.zeros_like(keyword)
        majority = LANGUAGES.index(keywords.majority)
        overall = ranking.minority_bm25_scale and keywords.query.dictionary is not None
        for group, (_, bm25_coverage) in by_group.items():
            in_group = languages == group
            best = float(keyword[in_group].max(initial=0.0))
            if overall and group != majority:  # the archive's scale (minority_bm25_scale)
                best = float(keyword.max(initial=0.0))
            if best > 0:
                normalised[in_group] = keyword[in_group] * (bm25_coverage / best)
        if normalised.max(initial=0.0) > 0:
            top = _top_rows(normalised, n_candidates)
            candidates.update(int(r) for r in top if normalised[r] > 0)
        if linked:
            self._add_linked(candidates, allowed)
        vectors = {
            g: self.encoder.query_vector(raw, ranking.use_weight * (1.0 - coverage))
            for g, (coverage, _) in by_group.items()
        }
        shift = dict.fromkeys(vectors, 0.0)
        if ranking.language_centering:
            centre = self._centroid_scores(keywords, vectors)
            reference = centre[LANGUAGES.index(keywords.majority)]
            shift = {g: c - reference for g, c in centre.items()}
        order = np.asarray(sorted(candidates), np.int64)
        stored = self.stored.vectors.reconstruct(order)
        scores: dict[int, float] = {}
        for i, row in enumerate(order.tolist()):
            group = int(languages[row])
            scores[row] = (
                float(stored[i] @ vectors[group][0])
                - shift[group]
                + ranking.hybrid_weight * float(normalised[row])
            )
        return scores

    def _add_linked(self, candidates: set[int], allowed: np.ndarray | None = None) -> None:
        """Add to ``candidates`` the chunks linked to them, twice over: a passage brings its
        sections, and a section all of its passages; with ``allowed`` (a mask of rows) only
        those (a filter allows whole articles, an evaluation may leave out one passage)."""
        for _ in range(2):
            for row in list(candidates):
                linked = self._links.get(row, ())
                candidates.update(linked if allowed is None else (r for r in linked if allowed[r]))

    def _finish(self, scores: dict[int, float], k: int, per_article: int | None) -> list[Ranked]:
        """Sections lift their best passage; the top ``k`` passages, at most ``per_article``
        of one article and one printing of a story (``scores``: every candidate's)."""
        ranking, chunks = self.ranking, self.stored.chunks
        rows = np.fromiter(scores.keys(), np.int64, len(scores))
        own = np.fromiter(scores.values(), np.float64, len(scores))
        passage, _, shown = self._row_kinds()
        keep = shown[rows]
        final = dict(zip(rows[keep].tolist(), own[keep].tolist(), strict=True))
        for row in rows[~passage[rows]].tolist():  # a section lifts only its best passage, so
            linked = [p for p in self._links.get(row, ()) if p in scores and shown[p]]
            if linked:  # one strong section cannot flood the top
                best_passage = max(linked, key=scores.__getitem__)
                final[best_passage] = max(final[best_passage], scores[row])
        kept_rows = np.fromiter(final.keys(), np.int64, len(final))
        values = np.fromiter(final.values(), np.float64, len(final))
        before = np.fromiter((scores[r] for r in final), np.float64, len(final))
        # best first; then the higher own score (a passage, not the section that lifted it);
        # then the lower row
        order = np.lexsort((kept_rows, -before, -values))
        ranked = ((int(kept_rows[i]), float(values[i])) for i in order.tolist())
        grouping = ranking.group_duplicates and bool(self.story_of)
        if per_article is None and not grouping:
            return list(itertools.islice(ranked, k))
        kept, shown_of, told_by = [], Counter(), {}
        for row, score in ranked:
            article = chunks[row].article_id
            if grouping:  # one story, one article: the best-ranked printing of it
                story = self.story_of.get(article, (article,))[0]
                if told_by.setdefault(story, article) != article:
                    continue
            if per_article is None or shown_of[article] < per_article:
                shown_of[article] += 1
                kept.append((row, score))
                if len(kept) == k:
                    break
        return kept

    @property
    def is_passage(self) -> np.ndarray:
        """Per chunk row: whether it is a passage (not a section)."""
        return self._row_kinds()[0]

    def _row_kinds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per chunk row: whether it is a passage, whether it is a title-only passage, and
        whether it can be shown (a passage that is not title-only); made once."""
        if self._kinds is None:
            chunks = self.stored.chunks
            passage = np.fromiter((c.kind == PASSAGE for c in chunks), bool, len(chunks))
            title_only = np.zeros(len(chunks), dtype=bool)
            title_only[list(self._title_only)] = True
            self._kinds = (passage, title_only, passage & ~title_only)
        return self._kinds

    def _group_articles(self, keywords: Bm25Index) -> int:
        """Articles in the smallest language group of passages."""
        if self._smallest_group is None:
            articles: dict[int, set[str]] = {}
            for chunk, group in zip(self.stored.chunks, keywords.languages, strict=True):
                articles.setdefault(int(group), set()).add(chunk.article_id)
            self._smallest_group = min(len(a) for a in articles.values()) if articles else 0
        return self._smallest_group

    def _centroid_scores(
        self, keywords: Bm25Index, vectors: dict[int, np.ndarray]
    ) -> dict[int, float]:
        """Per language group, the question's score against the group's mean vector (from up
        to :data:`CENTROID_SAMPLE` evenly spaced rows), given its search vector per group."""
        if self._centroids is None:
            languages = keywords.languages
            centroids = {}
            for group in np.unique(languages):
                rows = np.flatnonzero(languages == group)
                step = max(1, len(rows) // CENTROID_SAMPLE)
                sample = self.stored.vectors.reconstruct(rows[::step].astype(np.int64))
                centroids[int(group)] = sample.mean(axis=0)
            self._centroids = centroids
        return {g: float(self._centroids[g] @ v[0]) for g, v in vectors.items()}


def _top_rows(values: np.ndarray, n: int) -> np.ndarray:
    """The rows of the ``n`` largest values, in no order: a partition, not a full sort of
    every passage's keyword score (0.33 s per million passages sorted, 0.03 s partitioned)."""
    if n >= len(values):
        return np.arange(len(values))
    return np.argpartition(-values, n - 1)[:n]
