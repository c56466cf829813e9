"""The FAISS store: an index folder of immutable generations, each a FAISS file beside its
metadata and keyword index.

Modules: :mod:`.vectors` (the vector store), :mod:`.folder` (generations, cleanup),
:mod:`.location` (the folder as a :class:`~diploqa.store.location.Location`).
"""

from .location import FolderLocation
from .vectors import FAISS_FILE, FaissStore

__all__ = ["FAISS_FILE", "FaissStore", "FolderLocation"]
