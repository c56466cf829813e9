"""Where a stored index lives, behind one small interface the build and load paths use: the
FAISS index folder (the default) or a Milvus engine (:mod:`.milvus_store`).

Both keep the same rules: immutable generations, a commit point a reader never sees half of
(the manifest's rename; the alias switch), a build lock, and the cleanup of what a killed
build left.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .. import config
from ..articles import Article
from ..chunking import Chunk
from ..encoders import Encoder
from ..errors import DiploqaError
from ..lexical import Bm25Index
from .faiss_store import FaissStore
from .generations import (
    FILES,
    StoredIndex,
    build_lock,
    cleanup_on_write_error,
    load_stored,
    prepare_index_dir,
    write_generation,
)
from .manifest import MANIFEST, Manifest, read_manifest
from .metadata import Stories


class IndexLocation(Protocol):
    """What :func:`diploqa.build.build` and :func:`diploqa.search.load_index` need of a
    store."""

    @property
    def path(self) -> Path | str: ...

    def prepare(self) -> None:
        """Check that the index can be written (create the folder, connect)."""
        ...

    def lock(self):
        """A context manager held while a build runs."""
        ...

    def has_index(self) -> bool: ...

    def signature(self) -> object:
        """A value that changes when a build commits (servers poll it to reload)."""
        ...

    def read_manifest(self) -> Manifest: ...

    def load(self, manifest: Manifest | None = None) -> StoredIndex: ...

    def write(
        self,
        encoder: Encoder,
        articles: list[Article],
        chunks: list[Chunk],
        vectors: np.ndarray,
        chunking: config.ChunkingConfig,
        stories: Stories,
        backends: list[str] | None = None,
        keywords: Bm25Index | None = None,
    ) -> StoredIndex: ...


@dataclass
class FolderLocation:
    """The FAISS index folder (:mod:`.generations`)."""

    path: Path

    def prepare(self) -> None:
        prepare_index_dir(self.path)

    def lock(self):
        return build_lock(self.path)

    def has_index(self) -> bool:
        return (self.path / MANIFEST).exists()

    def signature(self) -> tuple[int, int, int] | None:
        try:
            info = (self.path / MANIFEST).stat()
        except OSError:
            return None
        return info.st_ino, info.st_mtime_ns, info.st_size

    def read_manifest(self) -> Manifest:
        return read_manifest(self.path, FILES)

    def load(self, manifest: Manifest | None = None) -> StoredIndex:
        return load_stored(self.path, manifest)

    def write(
        self,
        encoder: Encoder,
        articles: list[Article],
        chunks: list[Chunk],
        vectors: np.ndarray,
        chunking: config.ChunkingConfig,
        stories: Stories,
        backends: list[str] | None = None,
        keywords: Bm25Index | None = None,
    ) -> StoredIndex:
        with cleanup_on_write_error(self.path):
            store = FaissStore.from_vectors(vectors, encoder.dim)
            return write_generation(
                self.path, encoder, articles, chunks, store, chunking, stories, backends, keywords
            )


def open_location(
    index_dir: str | Path | None, store: str | config.StoreAddress | None = None
) -> IndexLocation:
    """The location of an index: the folder ``index_dir`` for the FAISS store, else the
    Milvus address ``store`` (``--store``; default ``DIPLOQA_STORE``, else ``faiss``).

    Raises:
        DiploqaError: ``store`` is not a valid address.
    """
    try:
        address = config.store_address(store)
    except ValueError as err:
        raise DiploqaError(str(err)) from None
    if not address.is_milvus:
        return FolderLocation(Path(index_dir or config.index_dir()))
    from .milvus_store import MilvusLocation

    return MilvusLocation(address)
