"""A searchable index: questions (:class:`~diploqa.query.Query`) → ranked passages
(:class:`~diploqa.hits.Hit`) with their sources and the sentence that answers.

:class:`Index` joins a verified on-disk index (:mod:`diploqa.store`), the encoder
(:mod:`diploqa.encoders`) and a :class:`~diploqa.config.RankingConfig`. It is immutable and
thread-safe: an update builds a new ``Index`` and callers swap the reference, so a query always
sees one consistent index. One load path: :func:`load_index` reads the manifest once, picks the
encoder it names and checks them against each other (reporting a mismatch before anything else).

The read path only: building an index is :func:`diploqa.build.build_index`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .articles import Article
from .config import DictionarySettings, RankingConfig, Settings
from .encoders import Encoder, get_encoder
from .filters import ArticleColumns, SearchFilter
from .highlight import compares_by_meaning, highlights
from .hits import Answer, Copy, Hit, copy_of, make_hit, newest_first
from .lexical import Bm25Index, LexicalScores
from .matching import Matches, reference_vector, select_matches
from .query import DEFAULT_K, Query
from .ranking import Ranker
from .store import Location, StoreAddress, StoredIndex, location_of
from .timeline import Timeline, check_interval, count_outlets, count_periods

if TYPE_CHECKING:
    from .build import BuildReport


class Index:
    """A searchable index: the stored vectors and metadata, the encoder, and how to rank.

    Create it with :func:`~diploqa.build.build_index` or :func:`load_index`;
    :meth:`with_ranking` gives the same index ranked another way (benchmarks compare variants
    on one loaded index). ``dictionary``: the dictionary keyword ranking translates English
    question words with, where the ranking asks for one (default: the system's).
    """

    def __init__(
        self,
        stored: StoredIndex,
        encoder: Encoder,
        ranking: RankingConfig | None = None,
        dictionary: DictionarySettings | None = None,
    ) -> None:
        self.stored = stored
        self.encoder = encoder
        self.ranking = ranking or RankingConfig()
        self.dictionary = dictionary or DictionarySettings()
        self.path = stored.path
        #: What the build that made this index did (set by ``build_index``), else None.
        self.build_report: BuildReport | None = None
        #: The hybrid ranker of this index and ranking.
        self.ranker = Ranker(stored, encoder, self.ranking)
        self._lexical: Bm25Index | None = None
        self._lexical_lock = threading.Lock()
        self._columns: ArticleColumns | None = None
        self._chunk_article: np.ndarray | None = None

    @property
    def manifest(self):
        """What the index holds and how it was made (:class:`~diploqa.store.Manifest`)."""
        return self.stored.manifest

    @property
    def columns(self) -> ArticleColumns:
        """Per-article values the filters test (built on the first filtered question)."""
        if self._columns is None:
            order = {aid: i for i, aid in enumerate(self.stored.articles)}
            self._chunk_article = np.fromiter(
                (order[c.article_id] for c in self.stored.chunks), np.int64, len(self.stored.chunks)
            )
            self._columns = ArticleColumns(list(self.stored.articles.values()))
        return self._columns

    def outlets(self) -> list[str]:
        """Every outlet in the index, sorted (the choices of an outlet filter)."""
        return self.columns.outlet_names()

    def _allowed_rows(self, wanted: SearchFilter | None) -> np.ndarray | None:
        """The chunk rows of articles that pass ``wanted`` (None: every row)."""
        if wanted is None:
            return None
        keep = self.columns.mask(wanted)
        return np.flatnonzero(keep[self._chunk_article])

    def with_ranking(self, ranking: RankingConfig) -> Index:
        """This index ranked by ``ranking``; vectors, metadata and, where the keyword
        settings are the same, the keyword index are shared, not copied."""
        other = Index(self.stored, self.encoder, ranking, self.dictionary)
        keywords = ("dictionary", "translated_word_weight", "german_to_english", "shared_titles")
        if all(getattr(ranking, f) == getattr(self.ranking, f) for f in keywords):
            other._lexical = self._lexical
            other.ranker.share_language_groups(self.ranker)
        other._columns, other._chunk_article = self._columns, self._chunk_article
        return other

    @property
    def lexical(self) -> Bm25Index:
        """The keyword index: the generation's (the build's, saved with it, or made from the
        one of the generation served before, see :func:`load_index`) where the ranking leaves
        shared titles out (the default), else built from the stored passages on first use
        (2.5 s for 10,000 passages, docs/benchmarks.md). A process that only builds never
        needs it; :meth:`warm` reads or builds it ahead of the first search."""
        if self._lexical is None:
            with self._lexical_lock:
                if self._lexical is None:
                    dictionary = self.dictionary if self.ranking.dictionary else None
                    weight = self.ranking.translated_word_weight
                    if not self.ranking.shared_titles:  # a benchmark's variant: not kept
                        base = Bm25Index.build(self.stored.passages(), None)
                    else:  # kept on the generation: the next update starts from it
                        base = self.stored.keyword_index()
                    both_ways = self.ranking.german_to_english
                    self._lexical = base.with_query_settings(dictionary, weight, both_ways)
        return self._lexical

    def warm(self) -> Index:
        """Build what the first search would otherwise build (the web app calls this before
        it swaps a new index in, so no question waits for it). Returns the index."""
        _ = self.lexical
        self.stored.vectors.warm()
        return self

    @property
    def articles(self) -> list[Article]:
        """The indexed articles, sorted by id."""
        return list(self.stored.articles.values())

    def __len__(self) -> int:
        """Number of passages in the index (sections are not counted: they are never shown)."""
        return len(self.ranker.passages)

    def copies(self, source: str) -> tuple[Copy, ...]:
        """The other articles telling the same story as article ``source``."""
        if not self.ranking.group_duplicates:
            return ()
        others = (a for a in self.ranker.story_of.get(source, ()) if a != source)
        return tuple(copy_of(self.stored.articles[i]) for i in others)

    def article(self, source: str) -> Article:
        """The indexed article with this id (``Hit.source``)."""
        return self.stored.articles[source]

    def search(self, query: Query | str, k: int = DEFAULT_K, **fields: Any) -> list[Hit]:
        """The passages that best answer ``query``: best first, or newest first with
        ``sort="date"``.

        Called with a :class:`~diploqa.query.Query`, or with the question and the Query's
        other fields as arguments, which make one: ``k`` (how many passages), ``outlet``,
        ``since``, ``until``, ``source``, ``per_article`` and ``sort`` (see
        :class:`~diploqa.query.Query` for each).

        The filters are applied inside the ranking: ``k`` hits come back whenever ``k``
        matching passages exist. See :mod:`diploqa.filters`.

        Raises:
            QueryError: the question is empty or not text, ``k`` or ``per_article`` is not a
                whole number ≥ 1, or a filter value or the sort is invalid (e.g. not a date).
        """
        return self.ask(query, k, **fields).hits

    def ask(
        self,
        query: Query | str,
        k: int = DEFAULT_K,
        *,
        timeline: str | None = None,
        facets: bool = False,
        hits: bool = True,
        **fields: Any,
    ) -> Answer:
        """:meth:`search`'s hits and, where asked for, the :meth:`timeline` (``timeline``: its
        interval) and the :meth:`facets` of the question, from one reading of it (the
        question is encoded and keyword-scored once). ``hits=False``: the counts only.

        Raises:
            QueryError: as :meth:`search`, or ``timeline`` is not an interval.
        """
        query = Query.of(query, k, **fields)
        interval = check_interval(timeline) if timeline is not None else None
        read = self._read(query)
        found = self._hits(query, read) if hits and read is not None else []
        if not (interval or facets):
            return Answer(hits=found)
        matches = self._matches(query, read) if read is not None else Matches()
        columns, positions = self.columns, matches.positions
        return Answer(
            hits=found,
            timeline=count_periods(columns, positions, interval, matches.capped)
            if interval
            else None,
            facets=count_outlets(columns, positions) if facets else None,
            matches=matches,
        )

    def timeline(self, query: Query | str, interval: str = "month", **fields: Any) -> Timeline:
        """How many articles match ``query`` per period (:class:`~diploqa.timeline.Timeline`,
        a sequence of :class:`~diploqa.timeline.Period`, with the undated counted apart).

        ``interval``: ``day``, ``week`` (ISO, from Monday), ``month``, ``year``, or ``auto``
        (chosen from the span of the matching articles' dates). ``fields``: the filters, as
        :meth:`search` takes them. What "match" means: :mod:`diploqa.matching`.

        Raises:
            QueryError: as :meth:`search`, or ``interval`` is none of these.
        """
        fields.pop("k", None)
        answer = self.ask(query, timeline=interval, hits=False, **fields)
        assert answer.timeline is not None
        return answer.timeline

    def facets(self, query: Query | str, **fields: Any) -> dict[str, int]:
        """How many articles matching ``query`` each outlet has, most first (articles without
        an outlet are not counted). ``fields``: the filters, as :meth:`search` takes them.

        Raises:
            QueryError: as :meth:`search`.
        """
        fields.pop("k", None)
        answer = self.ask(query, facets=True, hits=False, **fields)
        assert answer.facets is not None
        return answer.facets

    def matches(self, query: Query | str, **fields: Any) -> Matches:
        """The articles matching ``query`` (what :meth:`timeline` and :meth:`facets` count),
        best first, with their scores."""
        fields.pop("k", None)
        query = Query.of(query, **fields)
        read = self._read(query)
        return self._matches(query, read) if read is not None else Matches()

    def search_without(self, query: Query, left_out: Collection[int]) -> list[Hit]:
        """:meth:`search` with the chunk rows ``left_out`` out of reach: neither returned nor
        ranked by (their sections do not lift other passages). An evaluation asks a question
        made from a passage this way, so the passage cannot answer itself
        (:mod:`diploqa.evaluation`).

        Raises:
            ValueError: ``query`` has filters (the allowed rows are the only filter here, as
                Milvus applies a filter's expression instead of the rows).
        """
        if query.filter is not None:
            raise ValueError("search_without takes a query without filters")
        read = self._read(query, left_out)
        return self._hits(query, read) if read is not None else []

    def _read(self, query: Query, left_out: Collection[int] = ()) -> _Read | None:
        """The question's keyword scores and encoding, and the rows its filters allow (less
        ``left_out``); None when no passage passes them (nothing is encoded then)."""
        rows = self._allowed_rows(query.filter)
        if left_out:
            every = np.arange(len(self.stored.chunks)) if rows is None else rows
            rows = np.setdiff1d(every, np.fromiter(left_out, np.int64, len(left_out)))
        available = len(self) if rows is None else int(self.ranker.is_passage[rows].sum())
        if available == 0:
            return None
        lexical = self.lexical.score(query.question)
        # USE costs a question's time only where a score or a highlight uses it
        partner = self.ranker.weighs_partner(self.lexical, lexical) or compares_by_meaning(
            lexical, self.ranking
        )
        raw = self.encoder.encode_queries([query.question], partner=partner)[0]
        return _Read(lexical, raw, rows, available)

    def _hits(self, query: Query, read: _Read) -> list[Hit]:
        k, lexical, raw = min(query.k, read.available), read.lexical, read.raw
        ranked = self.ranker.rank(
            self.lexical, lexical, raw, k, read.rows, query.per_article, query.filter
        )
        chunks = [self.stored.chunks[row] for row, _ in ranked]
        spans = highlights(
            [c.text for c in chunks], lexical, raw, self.lexical, self.encoder, self.ranking
        )
        hits = [
            make_hit(chunk, self.stored.articles[chunk.article_id], score, rank, span, copies)
            for rank, (chunk, (_, score), span) in enumerate(
                zip(chunks, ranked, spans, strict=True), start=1
            )
            for copies in [self.copies(chunk.article_id)]
        ]
        return newest_first(hits) if query.sort == "date" else hits

    def _matches(self, query: Query, read: _Read) -> Matches:
        ranking = self.ranking
        found = self.ranker.article_scores(
            self.lexical, read.lexical, read.raw, ranking.match_candidates,
            reference_vector(self.encoder), read.rows, query.filter,
        )  # fmt: skip
        return select_matches(found, ranking.match_margin, self.columns.ids)


@dataclass(frozen=True)
class _Read:
    """A question as the index read it: keyword scores, encoding, the rows its filters allow
    (None: all) and how many passages those hold."""

    lexical: LexicalScores
    raw: np.ndarray
    rows: np.ndarray | None
    available: int


def load_index(
    index_dir: str | Path | None = None,
    model: str | None = None,
    ranking: RankingConfig | None = None,
    store: str | StoreAddress | Location | None = None,
    previous: StoredIndex | None = None,
    settings: Settings | None = None,
) -> Index:
    """Load a built index (and its model, once per process).

    Args:
        index_dir: the index folder (default ``./index`` or ``DIPLOQA_INDEX``).
        model: expected model; by default the one the index was built with.
        ranking: how to rank (default :class:`RankingConfig`).
        store: where the index lives: ``faiss`` (the folder ``index_dir``),
            ``milvus://HOST:PORT[/NAME]`` or ``milvus-lite:PATH`` (default ``DIPLOQA_STORE``),
            or a :class:`~diploqa.store.Location` the caller holds (and closes).
        previous: the generation the caller served until now (a server reloading): its
            keyword index is taken where it is this generation, else the new one's is made
            from it should its saved files be missing or damaged (only what changed is split).
        settings: the settings the defaults come from (and the runtime, vector index and
            dictionary settings); default :meth:`Settings.from_env() <Settings.from_env>`.

    Raises:
        IndexCorruptError: files missing or damaged (rebuild with ``diploqa index --rebuild``).
        IndexMismatchError: the index was built with another model or format.
        StoreUnavailableError: the Milvus store cannot be reached.
        SettingsError: a setting (``store``, a ``DIPLOQA_*`` variable) has a value it
            cannot take.
    """
    settings = settings or Settings.from_env()
    location = location_of(settings, index_dir, store)
    manifest = location.read_manifest()  # read once; names the model to load
    # The vectors and metadata are read while the model loads (a server's start waits for the
    # slower of the two, not their sum); a model that cannot search the index is reported
    # before anything the read found.
    with ThreadPoolExecutor(1, thread_name_prefix="diploqa-load") as pool:
        reading = pool.submit(location.load, manifest)
        try:
            # the model asked for, else exactly the one the manifest names
            exact = not model
            encoder = get_encoder(model or manifest.model, exact, settings=settings.encoder)
            manifest.check_compatible(encoder, location.path)
        except BaseException:
            reading.cancel()
            raise
        stored = reading.result()
    if previous is not None:
        stored.inherit_keywords(previous)
    return Index(stored, encoder, ranking, settings.dictionary)
