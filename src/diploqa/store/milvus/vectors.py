"""The vector store on one Milvus collection: a row per chunk (row = primary key), its vector,
and the scalar fields the filters test (:mod:`.expressions`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...config import HNSW_EF_CONSTRUCTION, HNSW_M, VectorSettings
from ...filters import SearchFilter
from ..vectors import ef_search_for
from .client import MilvusConnection, pymilvus_module
from .expressions import NO_FIELDS, filter_expression, rows_expression

#: Rows per insert call (a gRPC message holds at most 64 MB; 896-d rows are 3.5 kB).
INSERT_BATCH = 2_000
#: Milvus answers at most this many hits per query.
MAX_TOPK = 16_384
_STRING_FIELD = 4_096


def _index_kind(expected: int, settings: VectorSettings) -> tuple[str, dict, str]:
    """Milvus index type, its build parameters, and the manifest's name for it."""
    if expected >= settings.ann_threshold:
        params = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
        kind = f"milvus-hnsw-ip(M={HNSW_M},efConstruction={HNSW_EF_CONSTRUCTION})"
        return "HNSW", params, kind
    return "FLAT", {}, "milvus-flat-ip"


def _row_of(hit) -> int:
    """The primary key of a search hit: pymilvus names it after the field where the server
    says which it is, and ``id`` where it does not (Milvus 2.3)."""
    row = hit.get("row")
    return int(row if row is not None else hit["id"])


class MilvusStore:
    """A :class:`~diploqa.store.vectors.VectorStore` on one Milvus collection, through the
    ``connection`` of the location that opened it.

    Besides the vectors each row holds the fields :func:`.expressions.filter_expression`
    tests; ``add`` takes them per row (``fields``), defaulting to "no article, no outlet, no
    date". ``settings``: how an HNSW index is searched (its breadth). ``outlets``: the
    outlet fields of every row, where known (an outlet filter then names them, which every
    Milvus version understands)."""

    files: tuple[str, ...] = ()

    def __init__(
        self,
        connection: MilvusConnection,
        collection: str,
        dimension: int,
        index_type: str,
        count: int,
        settings: VectorSettings | None = None,
        outlets: frozenset[str] | None = None,
    ) -> None:
        self.connection = connection
        self.settings = settings or VectorSettings()
        self.outlets = outlets
        connection.client  # noqa: B018 (a wrong address fails here, not at the first search)
        self.collection = collection
        self.dimension = dimension
        self.index_type = index_type
        self._count = count
        #: Whether the engine may still be loading the collection (a new one loads while it
        #: is written): the first read waits for it, instead of a query retried for seconds.
        self._loading = False

    @classmethod
    def create(
        cls,
        connection: MilvusConnection,
        collection: str,
        dimension: int,
        expected: int,
        settings: VectorSettings | None = None,
    ) -> MilvusStore:
        """A new empty collection for about ``expected`` vectors (exact or HNSW by count)."""
        pymilvus = pymilvus_module()
        client = connection.client
        settings = settings or VectorSettings()
        index_type, params, kind = _index_kind(expected, settings)
        with connection.errors(f"creating collection {collection}"):
            schema = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("row", pymilvus.DataType.INT64, is_primary=True)
            schema.add_field("vector", pymilvus.DataType.FLOAT_VECTOR, dim=dimension)
            schema.add_field("article_id", pymilvus.DataType.VARCHAR, max_length=_STRING_FIELD)
            schema.add_field("outlet", pymilvus.DataType.VARCHAR, max_length=_STRING_FIELD)
            schema.add_field("date_start", pymilvus.DataType.INT64)
            schema.add_field("date_end", pymilvus.DataType.INT64)
            index = client.prepare_index_params()
            index.add_index("vector", index_type=index_type, metric_type="IP", params=params)
            connection.create_collection(collection, schema, index)
        store = cls(connection, collection, dimension, kind, 0, settings)
        store._loading = True
        return store

    def _loaded(self) -> None:
        if self._loading:
            self.connection.ensure_loaded(self.collection)
            self._loading = False

    @property
    def client(self):
        """The connection's client (a new one after the server was unreachable)."""
        return self.connection.client

    def __len__(self) -> int:
        return self._count

    def add(self, vectors: np.ndarray, fields: Sequence[dict] | None = None) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        with self.connection.errors(f"writing to {self.collection}"):
            for start in range(0, len(vectors), INSERT_BATCH):
                block = vectors[start : start + INSERT_BATCH]
                rows = [
                    {
                        **(fields[start + i] if fields is not None else NO_FIELDS),
                        "row": self._count + start + i,
                        "vector": vector,
                    }
                    for i, vector in enumerate(block.tolist())
                ]
                self.client.insert(self.collection, rows)
        self._count += len(vectors)

    def flush(self) -> None:
        """Seal what was inserted (the index is built on sealed segments)."""
        with self.connection.errors(f"writing to {self.collection}"):
            self.connection.seal(self.collection)

    def search(
        self,
        queries: np.ndarray,
        k: int,
        rows: np.ndarray | None = None,
        where: SearchFilter | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        found = np.full((len(queries), k), -1, dtype=np.int64)
        expression = None
        if where is not None:
            expression = filter_expression(where, self.outlets, self.connection.full_like)
        if expression is None and rows is not None:
            rows = np.unique(np.asarray(rows, dtype=np.int64))
            rows = rows[(rows >= 0) & (rows < len(self))]
            if len(rows) == 0:
                return scores, found
            expression = rows_expression(rows)
        limit = min(k, MAX_TOPK, max(len(self), 1))
        ef = max(ef_search_for(self.settings, len(self)), limit)
        self._loaded()
        results = self.connection.loaded_call(
            self.collection,
            "searching",
            lambda: self.client.search(
                self.collection,
                data=queries.tolist(),
                limit=limit,
                filter=expression or "",
                search_params={"metric_type": "IP", "params": {"ef": ef}},
                output_fields=[],
            ),
        )
        for q, hits in enumerate(results):
            for j, hit in enumerate(hits):
                found[q, j] = _row_of(hit)
                scores[q, j] = float(hit["distance"])
        return scores, found

    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), self.dimension), dtype=np.float32)
        if len(rows) == 0:
            return out
        wanted = np.unique(rows)
        self._loaded()
        records = self.connection.loaded_call(
            self.collection,
            "reading vectors",
            lambda: self.client.query(
                self.collection,
                filter=rows_expression(wanted),
                output_fields=["row", "vector"],
                limit=len(wanted),
            ),
        )
        by_row = {int(r["row"]): r["vector"] for r in records}
        for i, row in enumerate(rows.tolist()):
            out[i] = by_row[row]
        return out

    def warm(self) -> None:
        """Nothing: opening the store loaded the collection (its count is checked then), and
        a search reports an engine that went away since as one line."""

    def all_vectors(self) -> np.ndarray:
        out = np.zeros((len(self), self.dimension), dtype=np.float32)
        self._loaded()
        with self.connection.errors("reading vectors"):
            for batch in self.connection.iterate(self.collection, ["row", "vector"], "row >= 0"):
                rows = np.fromiter((r["row"] for r in batch), np.int64, len(batch))
                out[rows] = np.asarray([r["vector"] for r in batch], dtype=np.float32)
        return out

    def count(self) -> int:
        """Rows the engine holds (a load compares it with the manifest)."""
        self._loaded()
        result = self.connection.loaded_call(
            self.collection,
            f"counting {self.collection}",
            lambda: self.client.query(self.collection, filter="", output_fields=["count(*)"]),
        )
        return int(result[0]["count(*)"])

    def save(self, folder: Path) -> dict[str, str]:
        """Nothing goes to ``folder``: the vectors live in the engine (sealed here)."""
        self.flush()
        return {}
