"""The interface every vector store implements (:mod:`.faiss`, :mod:`.milvus`).

Ranking and the build pipeline talk to vectors only through :class:`VectorStore`, so another
engine is one more implementation plus the shared contract tests (``tests/store/test_contract.py``).
Rows are positions: row ``i`` belongs to chunk ``i`` of the generation's metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from ..filters import SearchFilter


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

    def all_vectors(self) -> np.ndarray:
        """Every stored vector, row by row (an update copies unchanged ones from here)."""
        ...

    def save(self, folder: Path) -> dict[str, str]:
        """Write the vectors into ``folder``, synced; returns file name → SHA-256."""
        ...
