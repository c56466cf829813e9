"""The index folder: immutable generations committed by replacing the manifest.

Layout::

    index/
      manifest.json        the commit point: names the live generation (see manifest.py)
      gen-000007/
        index.faiss        the vectors (faiss_store.py)
        metadata.json      articles and chunks (metadata.py)
        keywords.*         the keyword index of the passages (diploqa.lexical; optional: an
                           index without it builds it when loaded)
      .lock                held while a build runs, so two builds never interleave

A build writes a new generation folder next to the live one and then replaces
``manifest.json`` in a single ``os.replace``: a build killed at any point leaves the previous
manifest, and so the previous generation, in place and answering. Every file is checked
against the manifest's checksums before it is parsed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import config, lexical
from ..articles import Article
from ..chunking import Chunk, passages_for_embedding
from ..encoders import Encoder
from ..errors import DiploqaError, IndexCorruptError
from ..faults import fault_point
from ..files import atomic_write, fsync_path, sha256_file, temporaries, write_synced
from ..lexical import KEYWORDS_FILE, Bm25Index, shared_titles
from .base import VectorStore
from .faiss_store import FaissStore
from .manifest import GENERATION, MANIFEST, REBUILD_HINT, Manifest, read_manifest
from .metadata import METADATA_FILE, Stories, dump_metadata, parse_metadata

log = logging.getLogger(__name__)

FILES = (*FaissStore.files, METADATA_FILE)


@dataclass(frozen=True)
class StoredIndex:
    """A loaded, verified index generation (immutable: a new build makes a new one)."""

    path: Path | str  # the index folder, or the Milvus address
    manifest: Manifest
    vectors: VectorStore
    articles: dict[str, Article]
    chunks: list[Chunk]
    stories: Stories = field(default_factory=Stories)
    #: The keyword index the build that wrote this generation made (None once loaded: see
    #: :meth:`saved_keywords`).
    keywords: Bm25Index | None = field(default=None, repr=False, compare=False)
    #: Writes the keyword index's files into a folder, where they are not in ``path`` (Milvus).
    fetch_keywords: Callable[[Path], None] | None = field(default=None, repr=False, compare=False)

    @property
    def model(self) -> str:
        return self.manifest.model

    @property
    def dimension(self) -> int:
        return self.manifest.dimension

    def passages(self) -> list[str]:
        """The text each chunk was embedded as (see :func:`passages_for_embedding`), row ``i``
        belonging to ``chunks[i]`` (the keyword index scores the same texts)."""
        return passages_for_embedding(self.articles, self.chunks)

    def all_vectors(self):
        """Every stored vector, row ``i`` belonging to ``chunks[i]`` (for incremental reuse)."""
        return self.vectors.all_vectors()

    @property
    def lacks_keywords(self) -> bool:
        """Whether this is an index folder written before generations kept their keyword
        index (the next build writes one, even with no article changed)."""
        return isinstance(self.path, Path) and KEYWORDS_FILE not in self.manifest.files

    @property
    def key(self) -> tuple:
        """What tells this generation from any other (for :func:`diploqa.lexical.remember`)."""
        files = self.manifest.files
        return (
            str(self.path),
            self.manifest.generation,
            files.get(METADATA_FILE),
            files.get(KEYWORDS_FILE),
        )

    def saved_keywords(self) -> Bm25Index | None:
        """The keyword index of the passages (with shared titles left out, the default
        ranking's): the build's, the one this process last built or read for this
        generation, or the one saved with it (its folder, or the Milvus engine); None where
        there is none or it is damaged (an older index: the caller builds it)."""
        found = self.keywords or lexical.remembered(self.key)
        if found is not None or KEYWORDS_FILE not in self.manifest.files:
            return found
        if isinstance(self.path, Path):
            found = self._load_keywords(self.path / self.manifest.generation)
        elif self.fetch_keywords is not None:
            with tempfile.TemporaryDirectory(prefix="diploqa-keywords-") as tmp:
                try:
                    self.fetch_keywords(Path(tmp))
                except (DiploqaError, OSError, ValueError) as err:
                    log.warning("%s: keyword index not read (%s); building it", self.path, err)
                    return None
                found = self._load_keywords(Path(tmp))
        if found is not None:
            lexical.remember(self.key, found)
        return found

    def _load_keywords(self, folder: Path) -> Bm25Index | None:
        return Bm25Index.load(folder, self.manifest.files, len(self.chunks), dictionary=None)


def load_stored(index_dir: str | Path, manifest: Manifest | None = None) -> StoredIndex:
    """Load and verify the live generation of an index folder.

    Args:
        index_dir: the index folder.
        manifest: its manifest, if the caller has read it already (it is read once per load).

    Raises:
        IndexCorruptError: a file is missing, truncated or does not match its checksum.
        IndexMismatchError: the index was written in another format version.
    """
    index_dir = Path(index_dir)
    manifest = manifest or read_manifest(index_dir, FILES)
    gen = index_dir / manifest.generation
    for name in FILES:
        path = gen / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing: {REBUILD_HINT}")
        if sha256_file(path) != manifest.files.get(name):
            raise IndexCorruptError(f"{path} is corrupt (checksum mismatch): {REBUILD_HINT}")
    try:
        articles, chunks, stories = parse_metadata((gen / METADATA_FILE).read_bytes(), manifest)
        vectors = FaissStore.load(gen, manifest.index_type)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise IndexCorruptError(f"{gen} cannot be parsed ({err}): {REBUILD_HINT}") from None
    if len(vectors) != len(chunks) or vectors.dimension != manifest.dimension:
        raise IndexCorruptError(
            f"{gen}: {len(vectors)} vectors of dimension {vectors.dimension} for "
            f"{len(chunks)} passages of dimension {manifest.dimension}: {REBUILD_HINT}"
        )
    return StoredIndex(index_dir, manifest, vectors, articles, chunks, stories)


# --------------------------------------------------------------------------------------------
# Writing (under the build lock)
# --------------------------------------------------------------------------------------------


@contextmanager
def build_lock(index_dir: Path, name: str = ".lock") -> Iterator[None]:
    """Hold an exclusive lock on the index folder (file ``name`` in it); a second build waits
    for the first."""
    try:
        fh = open(index_dir / name, "a+")  # noqa: SIM115 (closed by the with below)
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


def prepare_index_dir(index_dir: Path) -> None:
    """Create the index folder if needed; refuse a file or a folder that cannot be written."""
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


def _next_generation(index_dir: Path) -> str:
    numbers = [int(m.group(1)) for p in index_dir.iterdir() if (m := GENERATION.match(p.name))]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def write_generation(
    index_dir: Path,
    encoder: Encoder,
    articles: list[Article],
    chunks: list[Chunk],
    vectors: FaissStore,
    chunking: config.ChunkingConfig,
    stories: Stories,
    backends: list[str] | None = None,
    keywords: Bm25Index | None = None,
) -> StoredIndex:
    """Write a new generation beside the live one, then commit it by replacing the manifest
    (``backends``: the runtimes whose vectors it holds, default ``encoder.backend``'s;
    ``keywords``: the keyword index of its passages, built from them where not given).

    Returns the new generation as loaded, without reading back what was just written."""
    generation = _next_generation(index_dir)
    gen = index_dir / generation
    gen.mkdir()
    files = vectors.save(gen)
    fault_point("after-faiss")
    write_synced(gen / METADATA_FILE, dump_metadata(articles, chunks, stories))
    files[METADATA_FILE] = sha256_file(gen / METADATA_FILE)
    by_id = {a.id: a for a in articles}
    if keywords is None:
        passages = passages_for_embedding(by_id, chunks)
        keywords = Bm25Index.build(passages, None, shared_titles=shared_titles(by_id, chunks))
    files.update(keywords.save(gen))
    fsync_path(gen)
    manifest = Manifest.for_build(
        encoder,
        chunking,
        articles,
        len(chunks),
        generation,
        vectors.index_type,
        files,
        backends=backends,
    )
    # The commit point: the new manifest replaces the old one in one rename.
    atomic_write(
        index_dir / MANIFEST, manifest.to_json(), before_replace=lambda: fault_point("before-swap")
    )
    _remove_old_generations(index_dir, keep={generation})
    stored = StoredIndex(index_dir, manifest, vectors, by_id, chunks, stories, keywords)
    lexical.remember(stored.key, keywords)
    return stored


def _remove_old_generations(index_dir: Path, keep: set[str]) -> None:
    """Drop generations no manifest names. The previous one is kept for readers that loaded
    it a moment ago; folders of crashed builds are removed."""
    gens = sorted(p.name for p in index_dir.iterdir() if GENERATION.match(p.name))
    newest = max(keep)
    previous = [g for g in gens if g < newest][-1:]
    for name in gens:
        if name not in keep and name not in previous:
            shutil.rmtree(index_dir / name, ignore_errors=True)


def _write_error_reason(err: OSError | RuntimeError) -> str:
    """The reason ("No space left on device" …), also from FAISS's long C++ messages."""
    if isinstance(err, OSError):
        return err.strerror or str(err)
    found = re.search(r"\(([^()]+)\)\s*$", str(err))
    return found.group(1) if found else "the vector file could not be written"


@contextmanager
def cleanup_on_write_error(index_dir: Path) -> Iterator[None]:
    """Turn a failed write (disk full, read-only, I/O error) into one clear error, and remove
    what the failed build left: generation folders that did not exist before it and that the
    manifest does not name, and the temporary manifest. Runs under the build lock."""
    before = {p.name for p in index_dir.iterdir() if GENERATION.match(p.name)}
    try:
        yield
    except (OSError, RuntimeError) as err:  # faiss reports failed writes as RuntimeError
        try:
            live = read_manifest(index_dir).generation
        except DiploqaError:
            live = None
        for path in index_dir.iterdir():
            if GENERATION.match(path.name) and path.name not in before and path.name != live:
                shutil.rmtree(path, ignore_errors=True)
        for tmp in temporaries(index_dir / MANIFEST):
            tmp.unlink(missing_ok=True)
        reason = _write_error_reason(err)
        if live is not None and live not in before:  # failed after the commit point
            raise DiploqaError(
                f"the index in {index_dir} was updated, but cleaning up failed: {reason}"
            ) from None
        raise DiploqaError(
            f"cannot write the index to {index_dir}: {reason}; the previous index is unchanged"
        ) from None
