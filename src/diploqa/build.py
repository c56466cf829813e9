"""The incremental build: articles folder → chunks → vectors → a new committed generation.

Only new or changed articles (by content hash) are chunked and embedded; the vectors of
unchanged ones are copied from the live generation. Everything is re-embedded only on
``rebuild=True``, a first build, or when the manifest says the stored vectors cannot be reused
(:meth:`~diploqa.store.Manifest.reusable_for`), or the old index is unreadable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import duplicates, lexical
from .articles import Article, SkippedFile, check_articles_dir, load_articles
from .articles.csv_columns import (
    CsvColumns,
    columns_to_read_with,
    from_csv_file,
    parse_csv_columns,
)
from .chunking import PASSAGE, Chunk, check_chunking, chunk_articles, passages_for_embedding
from .config import ChunkingConfig, RankingConfig, Settings, check_device
from .encoders import Encoder, get_encoder
from .encoders.base import ensure_finite
from .errors import ArticlesError, DiploqaError, SettingsError, StoreUnavailableError
from .faults import fault_point
from .index import Index
from .store import (
    GenerationContent,
    Location,
    StoreAddress,
    StoredIndex,
    Stories,
    location_of,
    write_generation,
)
from .store.manifest import backends_after_build

log = logging.getLogger(__name__)

#: Called as ``progress(done, total)`` while passages are embedded.
Progress = Callable[[int, int], None]
#: An update copies the vectors of unchanged articles from the old generation this many rows
#: at a time (a Milvus query returns at most 16,384 rows).
COPY_ROWS = 4096


@dataclass
class BuildReport:
    """What a build did, for the CLI summary and for tests."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    chunks: int = 0  # passages and sections in the index
    passages: int = 0
    embedded: int = 0  # passages and sections embedded by this build
    seconds: float = 0.0
    full_rebuild: bool = False
    reason: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.full_rebuild)

    def summary(self) -> str:
        kind = f"full build ({self.reason})" if self.full_rebuild else "incremental update"
        return (
            f"{kind}: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged, "
            f"{len(self.skipped)} skipped; {self.passages} passages "
            f"(+{self.chunks - self.passages} sections) in the index, "
            f"{self.embedded} embedded; {self.seconds:.1f} s"
        )


def _reusable(
    location: Location,
    encoder: Encoder,
    chunking: ChunkingConfig | None,
    report: BuildReport,
    previous: StoredIndex | None = None,
) -> tuple[StoredIndex | None, ChunkingConfig]:
    """The live generation if its vectors can be kept, else None (with ``report.reason``):
    ``previous`` where it is still the live one (nothing is read back), else loaded; and the
    chunking of the build: ``chunking``, or where the caller names none, the live index's own
    (:func:`recorded_chunking`), so that a new default never re-embeds an existing index."""
    if not location.has_index():
        report.reason = "no index yet"
        return None, chunking or ChunkingConfig()
    manifest = None
    try:
        manifest = location.read_manifest()
        if previous is not None and previous.is_generation(location.path, manifest):
            old = previous
        else:
            old = location.load(manifest)
    except StoreUnavailableError:
        raise  # the engine is down: not a reason to re-embed everything
    except DiploqaError as err:
        report.reason = f"old index unusable: {err}"
        log.warning("rebuilding: %s", err)
        kept = recorded_chunking(manifest.chunking) if manifest is not None else ChunkingConfig()
        return None, chunking or kept
    chunking = chunking or recorded_chunking(old.manifest.chunking)
    reason = old.manifest.reusable_for(encoder, chunking)
    if reason:
        report.reason = reason
        return None, chunking
    return old, chunking


def index_chunking(location: Location) -> ChunkingConfig:
    """The chunking of the index at ``location`` (default: none there, or unreadable)."""
    if not location.has_index():
        return ChunkingConfig()
    try:
        return recorded_chunking(location.read_manifest().chunking)
    except StoreUnavailableError:
        raise
    except DiploqaError:  # unreadable: --rebuild is how it is mended
        return ChunkingConfig()


def recorded_chunking(recorded: dict[str, int]) -> ChunkingConfig:
    """The chunking an index was built with (its manifest's record); the default where the
    record is not one this version can build with."""
    try:
        return check_chunking(ChunkingConfig(**recorded))
    except (TypeError, SettingsError):  # a part unknown to this version, missing, or invalid
        return ChunkingConfig()


def build(
    articles_dir: str | Path,
    index_dir: str | Path,
    model: str | None = None,
    rebuild: bool = False,
    chunking: ChunkingConfig | None = None,
    progress: Progress | None = None,
    store: str | StoreAddress | Location | None = None,
    device: str | None = None,
    encoder: Encoder | None = None,
    csv_columns: str | CsvColumns | None = None,
    previous: StoredIndex | None = None,
    settings: Settings | None = None,
) -> tuple[BuildReport, StoredIndex]:
    """Bring the index in ``index_dir`` (or in the Milvus ``store``, see
    :func:`~diploqa.store.open_location`) up to date with the articles in
    ``articles_dir``. ``chunking``: how articles are cut into passages, recorded with the
    index; None: as the existing index was cut (also by ``rebuild``: the chunking is the
    index's own until another is named), :class:`ChunkingConfig`'s default for a new one.
    ``device``: where passages are embedded (``cpu``, or ``cuda``: PyTorch on the GPU; default
    ``DIPLOQA_DEVICE``, else ``cpu``). ``encoder``: embed with this one instead (benchmarks
    and tests build with the GPU path's precision on the CPU).
    ``csv_columns``: which columns of the CSV files are which field, e.g. ``"text=2"``
    (``--csv-columns``, see :class:`~diploqa.articles.CsvColumns`); None: by their header.
    ``previous``: the generation the caller holds (a server: the one it serves); where it is
    still the live one, the update starts from it and its keyword index instead of reading
    the index back. ``settings``: what the rest comes from (the model, runtime, store, read
    limits, vector index); default :meth:`Settings.from_env() <diploqa.config.Settings.from_env>`.

    Returns:
        What the build did, and the live generation, ready to search (as its location would
        load it, without reading back what was just written).

    Raises:
        ArticlesError: the folder is missing, empty, or holds no readable article; or
            ``csv_columns`` is not ``FIELD=COLUMN`` pairs with a text column.
        DiploqaError: the index folder cannot be written.
        StoreUnavailableError: the Milvus store cannot be reached or failed.
        SettingsError: ``store``, ``device``, ``chunking`` or a ``DIPLOQA_*`` variable has
            a value it cannot take.
    """
    started = time.perf_counter()
    settings = settings or Settings.from_env()
    articles_dir, index_dir = Path(articles_dir), Path(index_dir)
    csv_columns = parse_csv_columns(csv_columns)
    if chunking is not None:
        check_chunking(chunking)
    location = location_of(settings, index_dir, store)
    check_articles_dir(articles_dir)  # a wrong folder fails before the index folder is made
    device = check_device(device) if device else settings.encoder.device
    location.prepare()
    encoder = encoder or get_encoder(model, device=device, settings=settings.encoder)
    report = BuildReport()

    with location.lock():
        if rebuild:
            report.reason, old = "--rebuild", None
            chunking = chunking or index_chunking(location)
        else:
            old, chunking = _reusable(location, encoder, chunking, report, previous)
        report.full_rebuild = old is None
        old_hashes = old.manifest.articles if old else {}
        recorded = _recorded_csv_columns(location, old)
        csv_columns = columns_to_read_with(csv_columns, recorded, str(location.path))
        # Files whose bytes did not change are not cleaned again: their articles come from
        # the old index (with --rebuild, everything is read afresh), except CSV files read
        # with other columns than before.
        known = old.articles if old else None
        if known and str(csv_columns or "") != (recorded or ""):
            known = {aid: a for aid, a in known.items() if not from_csv_file(aid)}
        articles, report.skipped = load_articles(articles_dir, known, csv_columns, settings.limits)
        if not articles:
            names = ", ".join(f"{s.path} ({s.reason})" for s in report.skipped)
            raise ArticlesError(f"no readable article in {articles_dir}: {names}")

        report.removed = sorted(set(old_hashes) - {a.id for a in articles})
        # An article whose text another id had (a renamed file, a record renumbered when one
        # before it was deleted) takes that article's vectors: nothing is embedded again.
        old_with_hash = {h: aid for aid, h in old_hashes.items()}
        to_embed: list[Article] = []
        moved: dict[str, str] = {}  # new id → old id with the same content
        for article in articles:
            if old_hashes.get(article.id) == article.content_hash:
                report.unchanged.append(article.id)
                continue
            (report.updated if article.id in old_hashes else report.added).append(article.id)
            if article.content_hash in old_with_hash:
                moved[article.id] = old_with_hash[article.content_hash]
            else:
                to_embed.append(article)

        fresh = chunk_articles(to_embed, encoder.count_tokens, chunking)
        by_id = {a.id: a for a in articles}
        passages = passages_for_embedding(by_id, fresh)
        fresh_vectors = embed_passages(encoder, passages, progress)
        del passages  # a million passages' texts again: not held through the rest of the build
        report.embedded = len(fresh)

        stale_stories = old is not None and old.stories.kind != duplicates.SIGNATURE_KIND
        # an index folder from before the keyword files gets them (a faster start), once
        stale = stale_stories or (old is not None and old.lacks_keywords)
        # the columns are recorded where they changed, even if no article did
        stale = stale or (old is not None and str(csv_columns or "") != (recorded or ""))
        if not (report.changed or stale):
            report.chunks = len(old.chunks)
            report.passages = sum(c.kind == PASSAGE for c in old.chunks)
            report.seconds = time.perf_counter() - started
            return report, old

        kept = {aid: aid for aid in report.unchanged} | moved
        chunks, vectors, origin = _assemble(articles, kept, old, fresh, fresh_vectors)
        del fresh_vectors  # copied into ``vectors`` (a first build's are every vector)
        stories = find_stories(articles, old, kept)
        keywords = keyword_index(articles, chunks, old, origin)
        fault_point("before-write")
        old_manifest = old.manifest if old is not None else None
        backends = backends_after_build(old_manifest, encoder, kept_vectors=bool(kept))
        content = GenerationContent(
            encoder, articles, chunks, vectors, chunking, stories, backends, keywords,
            csv_columns=str(csv_columns) if csv_columns else None,
        )  # fmt: skip
        # the content holds the only reference left: the store lets go of it once the engine
        # holds the vectors, so the array is not alive while the metadata is written
        del vectors
        stored = write_generation(location, content)
        report.chunks = len(chunks)
        report.passages = sum(c.kind == PASSAGE for c in chunks)
    report.seconds = time.perf_counter() - started
    return report, stored


def _recorded_csv_columns(location: Location, old: StoredIndex | None) -> str | None:
    """The CSV columns the live index was built with (also when its vectors are not reused)."""
    if old is not None:
        return old.manifest.csv_columns
    try:
        return location.read_manifest().csv_columns if location.has_index() else None
    except DiploqaError:  # an unreadable index is rebuilt; its settings are not trusted
        return None


def keyword_index(
    articles: list[Article], chunks: list[Chunk], old: StoredIndex | None, origin: np.ndarray
) -> lexical.Bm25Index:
    """The new generation's keyword index: the old generation's, updated with what changed
    (``origin``: each chunk's row in the old generation, -1 for new ones), where the old
    generation holds it or its store has it saved; else built from every passage."""
    by_id = {a.id: a for a in articles}
    passages = passages_for_embedding(by_id, chunks)
    titles = lexical.shared_titles(by_id, chunks)
    previous = old.saved_keywords() if old is not None else None
    if previous is None:
        return lexical.Bm25Index.build(passages, None, shared_titles=titles)
    return previous.updated(passages, origin, titles)


def find_stories(articles: list[Article], old: StoredIndex | None, kept: dict[str, str]) -> Stories:
    """Signatures (kept ones taken from the old generation, where it made them the same way)
    and the near-duplicate groups of all articles."""
    reuse = old is not None and old.stories.kind == duplicates.SIGNATURE_KIND
    signatures: dict[str, str] = {}
    for article in articles:
        previous = (
            old.stories.signatures.get(kept[article.id]) if reuse and article.id in kept else None
        )
        signatures[article.id] = previous or duplicates.encode_signature(
            duplicates.signature(article.text)
        )
    decoded = {aid: duplicates.decode_signature(sig) for aid, sig in signatures.items()}
    return Stories(duplicates.SIGNATURE_KIND, signatures, duplicates.group_duplicates(decoded))


def _assemble(
    articles: list[Article],
    kept: dict[str, str],
    old: StoredIndex | None,
    fresh: list[Chunk],
    fresh_vectors: np.ndarray,
    block: int = COPY_ROWS,
) -> tuple[list[Chunk], np.ndarray, np.ndarray]:
    """Chunks and vectors in a stable order (article id, then chunk index): kept articles'
    (``kept``: id → the old id with the same content) from the old generation, the others'
    from this build; and each chunk's row in the old generation (-1: from this build).

    The vectors go into one array sized from the chunk counts, and kept ones are read from the
    old generation ``block`` rows at a time: reading them all back first, then stacking, held
    every vector twice more beside the old generation's index."""
    old_rows: dict[str, list[int]] = {}
    for i, c in enumerate(old.chunks if old else []):
        old_rows.setdefault(c.article_id, []).append(i)
    fresh_rows: dict[str, list[int]] = {}
    for i, c in enumerate(fresh):
        fresh_rows.setdefault(c.article_id, []).append(i)
    chunks: list[Chunk] = []
    origin: list[int] = []
    taken: list[int] = []  # the rows of ``fresh`` in the order they come
    for article in articles:
        if article.id in kept:
            rows = old_rows.get(kept[article.id], [])
            chunks += [replace(old.chunks[i], article_id=article.id) for i in rows]
            origin += rows
        else:
            rows = fresh_rows.get(article.id, [])
            chunks += [fresh[i] for i in rows]
            origin += [-1] * len(rows)
            taken += rows
    from_old = np.array(origin, np.int64)
    vectors = np.empty((len(chunks), fresh_vectors.shape[1]), np.float32)
    vectors[from_old < 0] = fresh_vectors[np.array(taken, np.int64)]
    copied = np.flatnonzero(from_old >= 0)
    for start in range(0, len(copied), block):
        part = copied[start : start + block]
        vectors[part] = old.vectors.reconstruct(from_old[part])
    return chunks, vectors, from_old


def embed_passages(encoder: Encoder, passages: list[str], progress: Progress | None) -> np.ndarray:
    """Embed in slices so that a progress bar moves and memory stays bounded.

    Passages are sorted by length first, so each batch holds passages of similar length and
    little padding is computed; the vectors are put back in their original order. A slice
    holds at least 128 passages (on the CPU eight batches, four for each core's stream) and
    four of the encoder's batches (on the GPU, four of 256).
    """
    if not passages:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    step = max(128, encoder.batch_size * 4)  # a fixed number would cut the GPU's batches
    order = sorted(range(len(passages)), key=lambda i: -len(passages[i]))
    out = np.empty((len(passages), encoder.dim), dtype=np.float32)
    if progress:
        progress(0, len(passages))
    for start in range(0, len(passages), step):
        rows = order[start : start + step]
        vectors = encoder.encode_passages([passages[i] for i in rows])
        out[rows] = ensure_finite(vectors, encoder.backend, "passages")  # any Encoder, checked
        if progress:
            progress(min(start + step, len(passages)), len(passages))
        fault_point("while-embedding")
    return out


def build_index(
    articles_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    model: str | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    chunking: ChunkingConfig | None = None,
    ranking: RankingConfig | None = None,
    store: str | StoreAddress | Location | None = None,
    device: str | None = None,
    csv_columns: str | CsvColumns | None = None,
    previous: StoredIndex | None = None,
    settings: Settings | None = None,
) -> Index:
    """Build or incrementally update an index and return it, ready to search.

    Only new or changed articles are embedded; ``rebuild=True`` re-embeds everything. The
    returned index carries what the build did in ``build_report``. ``store``: as for
    :func:`~diploqa.index.load_index`. ``device="cuda"`` embeds on the GPU (PyTorch,
    bf16/fp16); the returned index searches with the CPU encoder all the same.
    ``csv_columns``: which columns of CSV files are which field (see
    :class:`~diploqa.articles.CsvColumns`). ``previous``: the generation the caller holds
    (``index.stored``); where it is still the live one, the update starts from it and its
    keyword index instead of reading the index back. ``chunking``: passage sizes, kept by the
    index until named again (:func:`build`). ``settings``: what the defaults and the
    rest come from (default :meth:`Settings.from_env() <diploqa.config.Settings.from_env>`):
    the folders ``DIPLOQA_ARTICLES`` and ``DIPLOQA_INDEX``, the model, runtime, store, read
    limits, vector index and dictionary.
    """
    settings = settings or Settings.from_env()
    index_dir = Path(index_dir or settings.paths.index)
    report, stored = build(
        articles_dir or settings.paths.articles,
        index_dir,
        model,
        rebuild,
        chunking,
        progress,
        store=store,
        device=device,
        csv_columns=csv_columns,
        previous=previous,
        settings=settings,
    )
    index = Index(
        stored, get_encoder(model, settings=settings.encoder), ranking, settings.dictionary
    )
    index.build_report = report
    return index
