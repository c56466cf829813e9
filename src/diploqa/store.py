"""The on-disk index: FAISS vectors, JSON metadata and a manifest, updated incrementally and
swapped in atomically.

Layout of an index folder::

    index/
      manifest.json        the commit point: names the live generation, model, dimension,
                           chunking, article hashes, file checksums, format version
      gen-000007/
        index.faiss        the vectors (exact inner product = cosine on normalised vectors)
        metadata.json      articles (cleaned text, title, date, ...) and chunks (offsets, text)
      .lock                held while a build runs, so two builds never interleave

A build writes a new generation folder next to the live one and then replaces
``manifest.json`` in a single ``os.replace``: a build killed at any point leaves the previous
manifest, and so the previous generation, in place and answering. Nothing is pickled; every file
is checked against the manifest's checksums before it is parsed.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from . import config
from .articles import Article, SkippedFile, check_articles_dir, load_articles
from .chunking import PASSAGE, Chunk, chunk_articles, passage_for_embedding
from .encoders import Embedder, get_encoder
from .errors import ArticlesError, DiploqaError, IndexCorruptError, IndexMismatchError
from .files import sha256_file

log = logging.getLogger("diploqa")

MANIFEST = "manifest.json"
FAISS_FILE = "index.faiss"
METADATA_FILE = "metadata.json"
_GEN_RE = re.compile(r"^gen-(\d{6})$")
REBUILD_HINT = "run `diploqa index --rebuild`"

#: Called as ``progress(done, total)`` while passages are embedded.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class StoredIndex:
    """A loaded, verified index generation (immutable: a new build makes a new one)."""

    path: Path
    manifest: dict
    faiss_index: faiss.Index
    articles: dict[str, Article]
    chunks: list[Chunk]

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])

    def passages(self) -> list[str]:
        """The text each chunk was embedded as (see :func:`passage_for_embedding`), row ``i``
        belonging to ``chunks[i]`` (the keyword index scores the same texts)."""
        return [passage_for_embedding(self.articles[c.article_id], c) for c in self.chunks]

    def all_vectors(self) -> np.ndarray:
        """Every stored vector, row ``i`` belonging to ``chunks[i]`` (for incremental reuse)."""
        if not self.chunks:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.faiss_index.reconstruct_n(0, len(self.chunks))


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


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_manifest(index_dir: Path) -> dict:
    """The manifest of an index folder, checked for shape and format version."""
    path = index_dir / MANIFEST
    if not index_dir.is_dir():
        raise IndexCorruptError(f"no index at {index_dir}: run `diploqa index` to build one")
    if not path.is_file():
        raise IndexCorruptError(f"no index at {index_dir} ({MANIFEST} missing): {REBUILD_HINT}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version = manifest["format_version"]
        for key in ("model", "dimension", "generation", "files", "articles", "chunking"):
            manifest[key]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
        raise IndexCorruptError(
            f"{path} is unreadable or corrupt ({err}): {REBUILD_HINT}"
        ) from None
    if version != config.INDEX_FORMAT_VERSION:
        raise IndexMismatchError(
            f"{path} has index format {version!r}, this diploqa reads format "
            f"{config.INDEX_FORMAT_VERSION}: {REBUILD_HINT}"
        )
    problem = _manifest_problem(manifest)
    if problem:
        raise IndexCorruptError(f"{path} is corrupt ({problem}): {REBUILD_HINT}")
    return manifest


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _manifest_problem(manifest: dict) -> str | None:
    """What is structurally wrong with a parsed manifest (it is not checksummed), else None."""
    if not (isinstance(manifest["model"], str) and manifest["model"]):
        return "model is not a name"
    if not (_is_int(manifest["dimension"]) and manifest["dimension"] > 0):
        return f"dimension {manifest['dimension']!r} is not a positive whole number"
    if not (isinstance(manifest["generation"], str) and _GEN_RE.fullmatch(manifest["generation"])):
        return "it names no valid generation"
    files = manifest["files"]
    if not (_is_str_map(files) and FAISS_FILE in files and METADATA_FILE in files):
        return "files is not a map of file names to checksums"
    if not _is_str_map(manifest["articles"]):
        return "articles is not a map of article ids to hashes"
    if not isinstance(manifest["chunking"], dict):
        return "chunking is not a map"
    n_chunks = manifest.get("n_chunks", 0)
    if not (_is_int(n_chunks) and n_chunks >= 0):
        return f"n_chunks {n_chunks!r} is not a count"
    return None


_ARTICLE_TYPES = {
    "id": str,
    "title": str,
    "text": str,
    "date": (str, type(None)),
    "outlet": (str, type(None)),
    "url": (str, type(None)),
    "content_hash": str,
    "source_hash": str,
}
_CHUNK_TYPES = {"article_id": str, "index": int, "start": int, "end": int, "text": str, "kind": str}


def _record(value: object, cls: type, types: dict[str, type | tuple[type, ...]]) -> dict:
    """A metadata record for dataclass ``cls``: every field without a default, no unknown
    field, and the listed fields of these types (bools are not numbers)."""
    fields = dataclasses.fields(cls)
    names = {f.name for f in fields}
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    what = cls.__name__.lower()
    if not (isinstance(value, dict) and required <= set(value) <= names):
        raise ValueError(f"a {what} record does not have the fields {sorted(required)}")
    for key, kind in types.items():
        if key in value and (not isinstance(value[key], kind) or isinstance(value[key], bool)):
            raise ValueError(f"a {what} record has a {key} of type {type(value[key]).__name__}")
    return value


def _parse_metadata(meta: object, manifest: dict) -> tuple[dict[str, Article], list[Chunk]]:
    """Articles and chunks from parsed ``metadata.json``, checked against each other and the
    manifest, so that a well-formed but wrong file is refused instead of giving wrong answers.

    Raises:
        ValueError: naming the first inconsistency.
    """
    if not (isinstance(meta, dict) and isinstance(meta.get("articles"), list)):
        raise ValueError("no list of articles")
    if not isinstance(meta.get("chunks"), list):
        raise ValueError("no list of chunks")
    articles: dict[str, Article] = {}
    for value in meta["articles"]:
        article = Article(**_record(value, Article, _ARTICLE_TYPES))
        if article.id in articles:
            raise ValueError(f"article {article.id!r} appears twice")
        articles[article.id] = article
    expected = manifest["articles"]
    if set(articles) != set(expected):
        raise ValueError(f"its {len(articles)} articles are not the manifest's {len(expected)}")
    for article in articles.values():
        if article.content_hash != expected[article.id]:
            raise ValueError(f"article {article.id!r} does not match the manifest's hash")
    chunks = [Chunk(**_record(value, Chunk, _CHUNK_TYPES)) for value in meta["chunks"]]
    if len(chunks) != manifest.get("n_chunks", len(chunks)):
        raise ValueError(f"{len(chunks)} chunks, the manifest says {manifest['n_chunks']}")
    for chunk in chunks:
        article = articles.get(chunk.article_id)
        if article is None:
            raise ValueError(f"a chunk belongs to the unknown article {chunk.article_id!r}")
        if not (
            0 <= chunk.start <= chunk.end <= len(article.text)
            and article.text[chunk.start : chunk.end] == chunk.text
        ):
            raise ValueError(
                f"chunk {chunk.index} of {chunk.article_id!r} has offsets "
                f"{chunk.start}–{chunk.end} that do not match its article's text"
            )
    return articles, chunks


def load_stored(index_dir: str | Path) -> StoredIndex:
    """Load and verify the live generation of an index folder.

    Raises:
        IndexCorruptError: a file is missing, truncated or does not match its checksum.
        IndexMismatchError: the index was written in another format version.
    """
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    gen = index_dir / manifest["generation"]
    for name in (FAISS_FILE, METADATA_FILE):
        path = gen / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing: {REBUILD_HINT}")
        if sha256_file(path) != manifest["files"].get(name):
            raise IndexCorruptError(f"{path} is corrupt (checksum mismatch): {REBUILD_HINT}")
    try:
        meta = json.loads((gen / METADATA_FILE).read_text(encoding="utf-8"))
        articles, chunks = _parse_metadata(meta, manifest)
        faiss_index = faiss.read_index(str(gen / FAISS_FILE))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise IndexCorruptError(f"{gen} cannot be parsed ({err}): {REBUILD_HINT}") from None
    if isinstance(faiss_index, faiss.IndexHNSW):
        faiss_index.hnsw.efSearch = config.hnsw_ef_search()
    if faiss_index.ntotal != len(chunks) or faiss_index.d != manifest["dimension"]:
        raise IndexCorruptError(
            f"{gen}: {faiss_index.ntotal} vectors of dimension {faiss_index.d} for "
            f"{len(chunks)} passages of dimension {manifest['dimension']}: {REBUILD_HINT}"
        )
    return StoredIndex(index_dir, manifest, faiss_index, articles, chunks)


def check_compatible(manifest: dict, index_dir: Path, embedder: Embedder) -> None:
    """Refuse to search an index with vectors from another model or of another size."""
    if manifest["model"] != embedder.model_id or manifest["dimension"] != embedder.dim:
        raise IndexMismatchError(
            f"the index at {index_dir} was built with model {manifest['model']!r} "
            f"(dimension {manifest['dimension']}), not {embedder.model_id!r} (dimension "
            f"{embedder.dim}): {REBUILD_HINT} --model {embedder.model_id}"
        )


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the index folder; a second build waits for the first."""
    try:
        fh = open(index_dir / ".lock", "a+")  # noqa: SIM115 (closed by the with below)
    except OSError as err:
        raise DiploqaError(
            f"cannot lock the index folder {index_dir}: {err.strerror or err}; "
            "the previous index is unchanged"
        ) from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another build of %s is running; waiting for it to finish", index_dir)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fault_point(name: str) -> None:
    """Crash here when ``DIPLOQA_FAULT`` names this point (used by the crash tests only).

    ``DIPLOQA_FAULT=pause:<point>`` instead creates ``$DIPLOQA_FAULT_GATE.reached`` and waits
    (at most two minutes) until the file ``$DIPLOQA_FAULT_GATE`` exists: the concurrency tests
    use it to hold a build at a known point.
    """
    fault = os.environ.get("DIPLOQA_FAULT")
    if fault == name:
        os.kill(os.getpid(), 9)
    elif fault == f"pause:{name}":
        gate = Path(os.environ["DIPLOQA_FAULT_GATE"])
        Path(f"{gate}.reached").touch()
        deadline = time.monotonic() + 120
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _next_generation(index_dir: Path) -> str:
    numbers = [int(m.group(1)) for p in index_dir.iterdir() if (m := _GEN_RE.match(p.name))]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def make_faiss_index(vectors: np.ndarray, dim: int) -> tuple[faiss.Index, str]:
    """The FAISS index for ``vectors`` and its type name (recorded in the manifest).

    Exact inner product (= cosine on normalised vectors) below ``config.ann_threshold()``
    passages; from there on an HNSW graph over the same flat vectors, which answers in
    sub-linear time with recall@10 ≥ 0.98 and still gives every vector back
    (``reconstruct_n``), so incremental builds reuse vectors exactly as with the flat index.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
    if len(vectors) >= config.ann_threshold():
        index = faiss.IndexHNSWFlat(dim, config.HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = config.hnsw_ef_search()
        index_type = f"hnsw-flat-ip(M={config.HNSW_M},efConstruction={config.HNSW_EF_CONSTRUCTION})"
    else:
        index, index_type = faiss.IndexFlatIP(dim), "flat-ip"
    if len(vectors):
        index.add(vectors)
    return index, index_type


def _write_generation(
    index_dir: Path,
    embedder: Embedder,
    articles: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray,
    chunking: config.ChunkingConfig,
) -> StoredIndex:
    """Write a new generation beside the live one, then commit it by replacing the manifest.

    Returns the new generation as loaded, without reading back what was just written."""
    generation = _next_generation(index_dir)
    gen = index_dir / generation
    gen.mkdir()
    vector_index, index_type = make_faiss_index(vectors, embedder.dim)
    faiss.write_index(vector_index, str(gen / FAISS_FILE))
    with open(gen / FAISS_FILE, "rb+") as fh:
        os.fsync(fh.fileno())
    _fault_point("after-faiss")
    meta = {
        # vars(), not asdict(): the records hold only plain values, and asdict's deep copy
        # took a quarter of an incremental update's time at 10k passages.
        "articles": [vars(a) for a in articles],
        "chunks": [vars(c) for c in chunks],
    }
    _fsync_write(gen / METADATA_FILE, json.dumps(meta, ensure_ascii=False).encode("utf-8"))
    _fsync_dir(gen)
    manifest = {
        "format_version": config.INDEX_FORMAT_VERSION,
        "generation": generation,
        "model": embedder.model_id,
        "backend": embedder.backend,
        "dimension": embedder.dim,
        "index_type": index_type,
        "chunking": chunking.as_dict(),
        "articles": {a.id: a.content_hash for a in articles},
        "n_chunks": len(chunks),
        "files": {name: sha256_file(gen / name) for name in (FAISS_FILE, METADATA_FILE)},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp = index_dir / f".{MANIFEST}.tmp"
    _fsync_write(tmp, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
    _fault_point("before-swap")
    os.replace(tmp, index_dir / MANIFEST)  # the commit point
    _fsync_dir(index_dir)
    _remove_old_generations(index_dir, keep={generation})
    return StoredIndex(index_dir, manifest, vector_index, {a.id: a for a in articles}, chunks)


def _remove_old_generations(index_dir: Path, keep: set[str]) -> None:
    """Drop generations no manifest names. The previous one is kept for readers that loaded
    it a moment ago; folders of crashed builds are removed."""
    gens = sorted(p.name for p in index_dir.iterdir() if _GEN_RE.match(p.name))
    newest = max(keep)
    previous = [g for g in gens if g < newest][-1:]
    for name in gens:
        if name not in keep and name not in previous:
            shutil.rmtree(index_dir / name, ignore_errors=True)


def _prepare_index_dir(index_dir: Path) -> None:
    if index_dir.exists() and not index_dir.is_dir():
        raise DiploqaError(f"{index_dir} exists and is not a folder: choose another --index")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DiploqaError(f"cannot create index folder {index_dir}: {err.strerror}") from None
    if not os.access(index_dir, os.W_OK):
        raise DiploqaError(
            f"index folder {index_dir} is not writable; the previous index is unchanged"
        )


def _write_error_reason(err: OSError | RuntimeError) -> str:
    """The reason ("No space left on device" …), also from FAISS's long C++ messages."""
    if isinstance(err, OSError):
        return err.strerror or str(err)
    found = re.search(r"\(([^()]+)\)\s*$", str(err))
    return found.group(1) if found else "the vector file could not be written"


@contextmanager
def _cleanup_on_write_error(index_dir: Path) -> Iterator[None]:
    """Turn a failed write (disk full, read-only, I/O error) into one clear error, and remove
    what the failed build left: generation folders that did not exist before it and that the
    manifest does not name, and the temporary manifest. Runs under the build lock."""
    before = {p.name for p in index_dir.iterdir() if _GEN_RE.match(p.name)}
    try:
        yield
    except (OSError, RuntimeError) as err:  # faiss reports failed writes as RuntimeError
        try:
            live = read_manifest(index_dir)["generation"]
        except DiploqaError:
            live = None
        for path in index_dir.iterdir():
            if _GEN_RE.match(path.name) and path.name not in before and path.name != live:
                shutil.rmtree(path, ignore_errors=True)
        (index_dir / f".{MANIFEST}.tmp").unlink(missing_ok=True)
        reason = _write_error_reason(err)
        if live is not None and live not in before:  # failed after the commit point
            raise DiploqaError(
                f"the index in {index_dir} was updated, but cleaning up failed: {reason}"
            ) from None
        raise DiploqaError(
            f"cannot write the index to {index_dir}: {reason}; the previous index is unchanged"
        ) from None


def build(
    articles_dir: str | Path,
    index_dir: str | Path,
    model: str | None = None,
    rebuild: bool = False,
    chunking: config.ChunkingConfig | None = None,
    progress: Progress | None = None,
) -> tuple[BuildReport, StoredIndex]:
    """Bring the index in ``index_dir`` up to date with the articles in ``articles_dir``.

    Only new or changed articles (by content hash) are chunked and embedded; vectors of
    unchanged articles are copied from the live index. A full re-embedding happens only with
    ``rebuild=True``, on a first build, or when the model, chunking or format changed (or the
    old index is unreadable).

    Returns:
        What the build did, and the live generation, ready to search (as :func:`load_stored`
        would load it, without reading back what was just written).

    Raises:
        ArticlesError: the folder is missing, empty, or holds no readable article.
        DiploqaError: the index folder cannot be written.
    """
    started = time.perf_counter()
    articles_dir, index_dir = Path(articles_dir), Path(index_dir)
    chunking = chunking or config.ChunkingConfig()
    check_articles_dir(articles_dir)  # a wrong folder fails before the index folder is made
    _prepare_index_dir(index_dir)
    embedder = get_encoder(model)
    report = BuildReport()

    with _build_lock(index_dir):
        old = None
        if rebuild:
            report.reason = "--rebuild"
        elif not (index_dir / MANIFEST).exists():
            report.reason = "no index yet"
        else:
            try:
                old = load_stored(index_dir)
            except DiploqaError as err:
                report.reason = f"old index unusable: {err}"
                log.warning("rebuilding: %s", err)
        if old is not None:
            # Indexes written before the backend was recorded were all PyTorch fp32.
            old_backend = old.manifest.get("backend", "torch-fp32")
            if old.model != embedder.model_id or old.dimension != embedder.dim:
                report.reason, old = f"model changed from {old.model!r}", None
            elif old_backend != embedder.backend:
                report.reason = f"backend changed from {old_backend} to {embedder.backend}"
                old = None
            elif old.manifest["chunking"] != chunking.as_dict():
                report.reason, old = "chunking parameters changed", None
        report.full_rebuild = old is None
        old_hashes = old.manifest["articles"] if old else {}
        # Files whose bytes did not change are not cleaned again: their articles come from
        # the old index (with --rebuild, everything is read afresh).
        articles, report.skipped = load_articles(articles_dir, old.articles if old else None)
        if not articles:
            names = ", ".join(f"{s.path} ({s.reason})" for s in report.skipped)
            raise ArticlesError(f"no readable article in {articles_dir}: {names}")

        new_ids = {a.id for a in articles}
        report.removed = sorted(set(old_hashes) - new_ids)
        old_rows: dict[str, list[int]] = {}
        for i, c in enumerate(old.chunks if old else []):
            old_rows.setdefault(c.article_id, []).append(i)
        to_embed: list[Article] = []
        for article in articles:
            if old_hashes.get(article.id) == article.content_hash:
                report.unchanged.append(article.id)
            else:
                (report.updated if article.id in old_hashes else report.added).append(article.id)
                to_embed.append(article)

        fresh = chunk_articles(to_embed, embedder.count_tokens, chunking)
        by_id = {a.id: a for a in articles}
        passages = [passage_for_embedding(by_id[c.article_id], c) for c in fresh]
        fresh_vectors = _embed(embedder, passages, progress)
        report.embedded = len(fresh)

        if not report.changed:
            report.chunks = len(old.chunks)
            report.passages = sum(c.kind == PASSAGE for c in old.chunks)
            report.seconds = time.perf_counter() - started
            return report, old

        # Assemble in a stable order (article id, then chunk index) from old and fresh parts.
        old_vectors = old.all_vectors() if old else None
        fresh_rows: dict[str, list[int]] = {}
        for i, c in enumerate(fresh):
            fresh_rows.setdefault(c.article_id, []).append(i)
        chunks: list[Chunk] = []
        parts: list[np.ndarray] = [np.zeros((0, embedder.dim), np.float32)]
        unchanged = set(report.unchanged)
        for article in articles:
            if article.id in unchanged:
                rows = old_rows.get(article.id, [])
                chunks += [old.chunks[i] for i in rows]
                parts.append(old_vectors[rows])
            else:
                rows = fresh_rows.get(article.id, [])
                chunks += [fresh[i] for i in rows]
                parts.append(fresh_vectors[rows])
        vectors = np.vstack(parts)
        _fault_point("before-write")
        with _cleanup_on_write_error(index_dir):
            stored = _write_generation(index_dir, embedder, articles, chunks, vectors, chunking)
        report.chunks = len(chunks)
        report.passages = sum(c.kind == PASSAGE for c in chunks)
    report.seconds = time.perf_counter() - started
    return report, stored


def _embed(embedder: Embedder, passages: list[str], progress: Progress | None) -> np.ndarray:
    """Embed in slices so that a progress bar moves and memory stays bounded.

    Passages are sorted by length first, so each batch holds passages of similar length and
    little padding is computed; the vectors are put back in their original order.
    """
    if not passages:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    step = max(64, config.batch_size() * 4)
    order = sorted(range(len(passages)), key=lambda i: -len(passages[i]))
    out = np.empty((len(passages), embedder.dim), dtype=np.float32)
    if progress:
        progress(0, len(passages))
    for start in range(0, len(passages), step):
        rows = order[start : start + step]
        out[rows] = embedder.encode_passages([passages[i] for i in rows])
        if progress:
            progress(min(start + step, len(passages)), len(passages))
        _fault_point("while-embedding")
    return out
