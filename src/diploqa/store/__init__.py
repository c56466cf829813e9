"""Where an index lives: :func:`open_location` gives its :class:`Location` (the FAISS folder,
:mod:`.faiss`, or a Milvus engine, :mod:`.milvus`), which loads a :class:`StoredIndex` and
writes new generations (:func:`write_generation`); vectors behind :class:`VectorStore`."""

from .address import StoreAddress, parse_store
from .commit import GenerationContent, write_generation
from .location import Location, PendingGeneration, location_of, open_location
from .manifest import MANIFEST, REBUILD_HINT, Manifest
from .metadata import METADATA_FILE, Stories
from .stored import StoredIndex
from .vectors import VectorStore

__all__ = [
    "MANIFEST",
    "METADATA_FILE",
    "REBUILD_HINT",
    "GenerationContent",
    "Location",
    "Manifest",
    "PendingGeneration",
    "StoreAddress",
    "StoredIndex",
    "Stories",
    "VectorStore",
    "location_of",
    "open_location",
    "parse_store",
    "write_generation",
]
