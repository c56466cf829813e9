"""The default vector store: one FAISS index file per generation.

Exact inner product below ``ann_threshold`` vectors (:class:`~diploqa.config.VectorSettings`,
given when a store is created or loaded; its unfiltered searches read a 16-bit copy first and
rescore in float32, :mod:`.scan`); from there an HNSW graph over the vectors stored
as 16-bit floats: half the memory and disk of float32 (896 numbers are 3.6 GB per million
passages in float32), the same neighbours (docs/benchmarks.md, "Scale"), and still every
vector back (``reconstruct_n``). A float16 vector read back and stored again is the same
vector, so incremental builds, which copy unchanged vectors into the next generation, never
drift (8-bit quantisation would: its ranges are trained anew on each copy).
Indexes written before, with float32 vectors in the graph, are read as they are.
"""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from ...config import HNSW_EF_CONSTRUCTION, HNSW_M, VectorSettings
from ...files import sha256_file
from ..vectors import ef_search_for, logged_ef_search
from .scan import HalfScan

FAISS_FILE = "index.faiss"
#: A filter allowing at most this many rows is answered by scoring exactly those rows (cheaper
#: than any index walk, and never short of ``k``); larger ones by the index with the filter
#: inside its search. Rows are scored in blocks of this size.
EXACT_FILTER_ROWS = 4096


class FaissStore:
    """A :class:`~diploqa.store.vectors.VectorStore` backed by a FAISS index in memory."""

    files = (FAISS_FILE,)

    def __init__(self, index: faiss.Index, index_type: str) -> None:
        self.index = index
        self.index_type = index_type
        self.dimension = int(index.d)
        #: A flat index's unfiltered searches read a 16-bit copy first (:mod:`.scan`).
        self._scan = HalfScan(index) if isinstance(index, faiss.IndexFlatIP) else None

    @classmethod
    def create(
        cls, dimension: int, expected: int, settings: VectorSettings | None = None
    ) -> FaissStore:
        """An empty store for about ``expected`` vectors: exact, or HNSW for many."""
        settings = settings or VectorSettings()
        if expected >= settings.ann_threshold:
            return cls.hnsw(dimension, settings)
        return cls(faiss.IndexFlatIP(dimension), "flat-ip")

    @classmethod
    def hnsw(
        cls, dimension: int, settings: VectorSettings | None = None, storage: str = "fp16"
    ) -> FaissStore:
        """An empty HNSW store; ``storage``: how its vectors are kept, ``fp16`` (the
        default), ``flat`` (float32, as before) or ``sq8`` (8-bit, trained on the first
        vectors added; for measurements)."""
        settings = settings or VectorSettings()
        quantizers = {"fp16": faiss.ScalarQuantizer.QT_fp16, "sq8": faiss.ScalarQuantizer.QT_8bit}
        if storage == "flat":
            index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexHNSWSQ(
                dimension, quantizers[storage], HNSW_M, faiss.METRIC_INNER_PRODUCT
            )
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = ef_search_for(settings, 0)
        kind = f"hnsw-{storage}-ip(M={HNSW_M},efConstruction={HNSW_EF_CONSTRUCTION})"
        return cls(index, kind)

    @classmethod
    def from_vectors(
        cls, vectors: np.ndarray, dimension: int, settings: VectorSettings | None = None
    ) -> FaissStore:
        """A store holding ``vectors`` (the kind chosen by their number)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension)
        store = cls.create(dimension, len(vectors), settings)
        store.add(vectors)
        store._search_breadth(settings)
        return store

    @classmethod
    def load(
        cls, folder: Path, index_type: str, settings: VectorSettings | None = None
    ) -> FaissStore:
        """Read the store written by :meth:`save` (checksums are checked by the caller);
        ``index_type`` is what the manifest recorded.

        Raises:
            RuntimeError: FAISS cannot parse the file.
        """
        store = cls(faiss.read_index(str(Path(folder) / FAISS_FILE)), index_type)
        store._search_breadth(settings)
        return store

    def _search_breadth(self, settings: VectorSettings | None) -> None:
        """An HNSW graph's efSearch, for the vectors it now holds."""
        if isinstance(self.index, faiss.IndexHNSW):
            self.index.hnsw.efSearch = logged_ef_search(settings or VectorSettings(), len(self))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        if len(vectors):
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            if not self.index.is_trained:  # 8-bit storage: its ranges from the first vectors
                self.index.train(vectors)
            before = len(self)
            self.index.add(vectors)
            if self._scan is not None:
                self._scan.added(before)

    def search(
        self, queries: np.ndarray, k: int, rows: np.ndarray | None = None, where=None
    ) -> tuple[np.ndarray, np.ndarray]:
        """See :meth:`VectorStore.search`; ``where`` is not needed here (``rows`` is exact)."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        if rows is None:
            if self._scan is not None:
                return self._scan.search(queries, k)
            return self.index.search(queries, k)
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        rows = rows[(rows >= 0) & (rows < len(self))]
        if len(rows) <= EXACT_FILTER_ROWS:
            return self._exact(queries, k, rows)
        # (not through the 16-bit copy: FAISS searches it row by row under a filter, no
        # faster than the flat index; docs/benchmarks.md)
        selector = faiss.IDSelectorBatch(rows)
        if not isinstance(self.index, faiss.IndexHNSW):
            return self.index.search(queries, k, params=faiss.SearchParameters(sel=selector))
        # HNSW walks the graph past rows the filter excludes; a filter that cuts the graph into
        # islands can still leave it short of k, and then the allowed rows are scored exactly.
        ef = max(self.index.hnsw.efSearch, k)
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
        scores, found = self.index.search(queries, k, params=params)
        if (found >= 0).sum(axis=1).min() >= min(k, len(rows)):
            return scores, found
        return self._exact(queries, k, rows)

    def _exact(
        self, queries: np.ndarray, k: int, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of ``rows`` by exact inner product, scored block by block."""
        best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        best_rows = np.full((len(queries), k), -1, dtype=np.int64)
        for start in range(0, len(rows), EXACT_FILTER_ROWS):
            block = rows[start : start + EXACT_FILTER_ROWS]
            scores = np.hstack([best_scores, queries @ self.reconstruct(block).T])
            ids = np.hstack([best_rows, np.broadcast_to(block, (len(queries), len(block)))])
            order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            best_scores = np.take_along_axis(scores, order, axis=1)
            best_rows = np.take_along_axis(ids, order, axis=1)
        best_rows[~np.isfinite(best_scores)] = -1
        return best_scores, best_rows

    def warm(self) -> None:
        """A flat index makes its 16-bit copy (under a second at 100,000 vectors)."""
        if self._scan is not None:
            self._scan.warm()

    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def all_vectors(self) -> np.ndarray:
        if len(self) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.index.reconstruct_n(0, len(self))

    def save(self, folder: Path) -> dict[str, str]:
        path = Path(folder) / FAISS_FILE
        faiss.write_index(self.index, str(path))
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())
        return {FAISS_FILE: sha256_file(path)}
