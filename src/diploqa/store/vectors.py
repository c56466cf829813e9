"""The interface every vector store implements (:mod:`.faiss`, :mod:`.milvus`).

Ranking and the build pipeline talk to vectors only through :class:`VectorStore`, so another
engine is one more implementation plus the shared contract tests (``tests/store/test_contract.py``).
Rows are positions: row ``i`` belongs to chunk ``i`` of the generation's metadata.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..config import VectorSettings

if TYPE_CHECKING:
    from ..filters import SearchFilter

log = logging.getLogger(__name__)

#: HNSW's search breadth where ``DIPLOQA_HNSW_EF_SEARCH`` is not set: by the number of
#: vectors, up to each its breadth (:func:`ef_search_for`).
HNSW_EF_SEARCH_BY_SIZE = ((300_000, 512), (600_000, 1024), (None, 2048))


class VectorStore(Protocol):
    """Normalised float32 vectors searched by inner product (= cosine)."""

    #: Length of every vector.
    dimension: int
    #: What kind of index answers searches (recorded in the manifest), e.g. ``flat-ip``.
    index_type: str

    def __len__(self) -> int:
        """Number of stored vectors."""
        ...

    def add(self, vectors: np.ndarray) -> None:
        """Append ``vectors`` as the next rows."""
        ...

    def search(
        self,
        queries: np.ndarray,
        k: int,
        rows: np.ndarray | None = None,
        where: SearchFilter | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, rows)`` of the ``k`` best vectors for each query, best first, shapes
        ``(len(queries), k)``; row -1 pads where fewer exist. With ``rows``, only those rows
        are searched (a filter applied inside the search, so ``k`` matching rows come back
        whenever ``k`` exist). ``where`` is the filter those rows pass, for an engine that
        evaluates it itself (Milvus: an expression); either gives the same rows."""
        ...

    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of ``rows``, in that order."""
        ...

    def warm(self) -> None:
        """Make ready what the first search would otherwise wait for (a server calls this
        before its first question)."""
        ...

    def all_vectors(self) -> np.ndarray:
        """Every stored vector, row by row (an update copies unchanged ones from here)."""
        ...

    def save(self, folder: Path) -> dict[str, str]:
        """Write the vectors into ``folder``, synced; returns file name → SHA-256."""
        ...


def ef_search_for(settings: VectorSettings, vectors: int) -> int:
    """How broadly an HNSW graph of ``vectors`` vectors is searched: as set
    (``DIPLOQA_HNSW_EF_SEARCH``), else by its size
    (:data:`HNSW_EF_SEARCH_BY_SIZE`): a larger graph needs a broader search
    for the same recall, and each breadth is the smallest that kept recall@10 ≥ 0.95 against
    exact search up to its size where measured (docs/benchmarks.md)."""
    if settings.ef_search is not None:
        return settings.ef_search
    return next(ef for most, ef in HNSW_EF_SEARCH_BY_SIZE if most is None or vectors <= most)


def logged_ef_search(settings: VectorSettings, vectors: int) -> int:
    """:func:`ef_search_for`, logged: once for each HNSW index opened or built."""
    ef = ef_search_for(settings, vectors)
    how = "by its size" if settings.ef_search is None else "DIPLOQA_HNSW_EF_SEARCH"
    log.info("HNSW index of %d vectors: efSearch %d (%s)", vectors, ef, how)
    return ef
