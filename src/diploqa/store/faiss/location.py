"""The FAISS index folder as a :class:`~diploqa.store.location.Location` (layout and commit
rules: :mod:`.folder`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ...config import VectorSettings
from ...files import atomic_write, fsync_path, sha256_file, write_synced
from ...lexical import Bm25Index
from ..filelock import build_lock
from ..manifest import MANIFEST, Manifest, read_manifest
from ..metadata import METADATA_FILE
from ..stored import StoredIndex
from .folder import (
    FILES,
    cleanup_on_write_error,
    next_generation,
    prepare_index_dir,
    read_generation,
    remove_old_generations,
)
from .vectors import FaissStore

if TYPE_CHECKING:
    from ..commit import GenerationContent


@dataclass
class FolderLocation:
    """An index in a folder: one FAISS file per generation beside its metadata; its vector
    indexes search with ``vectors``."""

    path: Path
    vectors: VectorSettings = field(default_factory=VectorSettings)

    def prepare(self) -> None:
        prepare_index_dir(self.path)

    def lock(self):
        return build_lock(self.path)

    def has_index(self) -> bool:
        return (self.path / MANIFEST).exists()

    def signature(self) -> tuple[int, int, int] | None:
        """The manifest's identity: a build replaces it (new inode), never edits it."""
        try:
            info = (self.path / MANIFEST).stat()
        except OSError:
            return None
        return info.st_ino, info.st_mtime_ns, info.st_size

    def read_manifest(self) -> Manifest:
        return read_manifest(self.path, FILES)

    def load(self, manifest: Manifest | None = None) -> StoredIndex:
        """The live generation, every file checked against the manifest's checksums.

        Raises:
            IndexCorruptError: a file is missing, truncated or does not match its checksum.
            IndexMismatchError: the index was written in another format version.
        """
        manifest = manifest or self.read_manifest()
        vectors, articles, chunks, stories = read_generation(self.path, manifest, self.vectors)
        return StoredIndex(self.path, manifest, vectors, articles, chunks, stories, self)

    def read_keywords(self, manifest: Manifest, passages: int) -> Bm25Index | None:
        folder = self.path / manifest.generation
        return Bm25Index.load(folder, manifest.files, passages, dictionary=None)

    @contextmanager
    def new_generation(self, rows: int) -> Iterator[FolderGeneration]:
        """A new generation folder beside the live one; a failed write removes it."""
        with cleanup_on_write_error(self.path):
            name = next_generation(self.path)
            (self.path / name).mkdir()
            yield FolderGeneration(self.path, name, self.vectors)

    def close(self) -> None:
        """Nothing stays open between calls."""


class FolderGeneration:
    """A generation folder being written (:class:`~diploqa.store.location.PendingGeneration`)."""

    def __init__(self, index_dir: Path, name: str, vectors: VectorSettings) -> None:
        self.index_dir = index_dir
        self.vectors = vectors
        self.name = name
        self.extra: dict = {}  # the folder's manifest has no keys of its own
        self.folder = index_dir / name

    def write_vectors(self, content: GenerationContent) -> tuple[FaissStore, dict[str, str]]:
        store = FaissStore.from_vectors(content.vectors, content.encoder.dim, self.vectors)
        return store, store.save(self.folder)

    def write_metadata(self, pieces: Iterable[bytes]) -> dict[str, str]:
        write_synced(self.folder / METADATA_FILE, pieces)
        return {METADATA_FILE: sha256_file(self.folder / METADATA_FILE)}

    def write_keywords(self, keywords: Bm25Index) -> dict[str, str]:
        return keywords.save(self.folder)

    def commit(self, manifest: Manifest, before_swap: Callable[[], None]) -> None:
        """Replace the manifest in one rename; then drop generations no reader needs."""
        fsync_path(self.folder)
        atomic_write(self.index_dir / MANIFEST, manifest.to_json(), before_replace=before_swap)
        remove_old_generations(self.index_dir, keep={self.name})
