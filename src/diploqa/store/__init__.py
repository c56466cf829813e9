"""Where vectors and metadata live: the :class:`VectorStore` interface, its FAISS
implementation, and the index folder of immutable generations behind one manifest."""

from .base import VectorStore
from .faiss_store import FAISS_FILE, FaissStore
from .generations import (
    FILES,
    StoredIndex,
    build_lock,
    cleanup_on_write_error,
    load_stored,
    prepare_index_dir,
    write_generation,
)
from .manifest import MANIFEST, REBUILD_HINT, Manifest, read_manifest
from .metadata import METADATA_FILE, Stories

__all__ = [
    "FAISS_FILE",
    "FILES",
    "MANIFEST",
    "METADATA_FILE",
    "REBUILD_HINT",
    "FaissStore",
    "Manifest",
    "StoredIndex",
    "Stories",
    "VectorStore",
    "build_lock",
    "cleanup_on_write_error",
    "load_stored",
    "prepare_index_dir",
    "read_manifest",
    "write_generation",
]
