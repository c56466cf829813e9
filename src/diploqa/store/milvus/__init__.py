"""The Milvus store: the whole index inside a Milvus engine (server, cluster or Milvus Lite).

Modules: :mod:`.client` (the connection a location owns, and the engine's errors as one
line), :mod:`.expressions` (filters compiled to expressions), :mod:`.vectors` (the vector
store on one collection), :mod:`.texts` (text kept in pieces), :mod:`.keywords` (the keyword
index's segments), :mod:`.lease` (one builder per server), :mod:`.location` (generations
behind an alias, as a :class:`~diploqa.store.location.Location`).

pymilvus is imported on first use: this package imports without it.
"""

from .client import MilvusConnection, MilvusError
from .location import MilvusLocation
from .vectors import MilvusStore

__all__ = ["MilvusConnection", "MilvusError", "MilvusLocation", "MilvusStore"]
