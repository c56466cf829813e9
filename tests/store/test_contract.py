"""The contract every vector store must pass (FAISS exact and HNSW; Milvus on Milvus Lite,
the real engine in-process, flat and HNSW).

A new store joins by adding one entry to ``STORES``: how to make an empty one for ``n``
vectors, and how to open what :meth:`save` wrote (Milvus writes nothing there: it reopens its
collection).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from deterministic_encoder import unit_vectors

from diploqa import config
from diploqa.files import sha256_file
from diploqa.store import FaissStore, VectorStore

DIM = 24

Make = Callable[[int], VectorStore]
Reopen = Callable[[VectorStore, Path], VectorStore]


def _faiss_flat(n: int) -> FaissStore:
    return FaissStore.create(DIM, expected=n)


def _faiss_hnsw(n: int) -> FaissStore:
    store = FaissStore.create(DIM, expected=10**9)  # far above any threshold: HNSW
    assert store.index_type.startswith("hnsw")
    return store


def _faiss_reopen(store: FaissStore, folder: Path) -> FaissStore:
    return FaissStore.load(folder, store.index_type)


_collections = itertools.count()


def _milvus(hnsw: bool) -> Make:
    def make(n: int) -> VectorStore:
        from diploqa.store.milvus_store import MilvusStore

        address = config.parse_store(f"milvus-lite:{_lite_file()}")
        name = f"contract_{next(_collections)}"
        store = MilvusStore.create(address, name, DIM, expected=10**9 if hnsw else n)
        assert store.index_type.startswith("milvus-hnsw" if hnsw else "milvus-flat")
        return store

    return make


def _milvus_reopen(store, folder: Path) -> VectorStore:
    from diploqa.store.milvus_store import MilvusStore

    return MilvusStore(store.address, store.collection, DIM, store.index_type, len(store))


_lite: list[Path] = []


def _lite_file() -> Path:
    """One Milvus Lite file for the whole module (each file starts an engine process)."""
    return _lite[0]


@pytest.fixture(scope="module", autouse=True)
def _lite_folder(tmp_path_factory):
    _lite[:] = [tmp_path_factory.mktemp("milvus") / "contract.db"]
    yield
    from diploqa.store.milvus_store import forget_client

    forget_client(config.parse_store(f"milvus-lite:{_lite[0]}"))


STORES: dict[str, tuple[Make, Reopen]] = {
    "faiss-flat": (_faiss_flat, _faiss_reopen),
    "faiss-hnsw": (_faiss_hnsw, _faiss_reopen),
    "milvus-lite-flat": (_milvus(hnsw=False), _milvus_reopen),
    "milvus-lite-hnsw": (_milvus(hnsw=True), _milvus_reopen),
}


@pytest.fixture(params=sorted(STORES))
def kind(request) -> tuple[Make, Reopen]:
    if request.param.startswith("milvus"):
        pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    return STORES[request.param]


def _filled(make: Make, vectors: np.ndarray) -> VectorStore:
    store = make(len(vectors))
    store.add(vectors)
    return store


def test_add_count_and_give_back_every_vector(kind):
    make, _ = kind
    vectors = unit_vectors(300, DIM)
    store = _filled(make, vectors[:200])
    store.add(vectors[200:])
    assert len(store) == 300 and store.dimension == DIM
    assert np.allclose(store.all_vectors(), vectors, atol=1e-6)
    rows = np.array([299, 0, 17, 17])
    assert np.allclose(store.reconstruct(rows), vectors[rows], atol=1e-6)


def test_search_ranks_by_inner_product(kind):
    make, _ = kind
    vectors = unit_vectors(500, DIM, seed=1)
    store = _filled(make, vectors)
    queries = vectors[[3, 42, 499]]
    scores, rows = store.search(queries, 10)
    assert scores.shape == rows.shape == (3, 10)
    assert rows[:, 0].tolist() == [3, 42, 499]  # each vector finds itself first
    expected = np.sort(queries @ vectors.T, axis=1)[:, ::-1][:, :10]
    assert np.allclose(scores, expected, atol=1e-4)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


def test_fewer_vectors_than_k_pad_with_minus_one(kind):
    make, _ = kind
    store = _filled(make, unit_vectors(3, DIM, seed=2))
    _, rows = store.search(unit_vectors(1, DIM, seed=3), 5)
    assert sorted(rows[0, :3].tolist()) == [0, 1, 2] and rows[0, 3:].tolist() == [-1, -1]
    empty = make(0)
    assert len(empty) == 0 and empty.all_vectors().shape == (0, DIM)
    assert (empty.search(unit_vectors(1, DIM), 4)[1] == -1).all()


def test_a_rare_filter_still_returns_k_rows(kind):
    """One row in a thousand is allowed: the filter runs inside the search, so all k allowed
    rows come back (post-filtering the top candidates would find almost none)."""
    make, _ = kind
    vectors = unit_vectors(10_000, DIM, seed=4)
    store = _filled(make, vectors)
    allowed = np.arange(7, 10_000, 1000)  # 10 rows
    query = unit_vectors(1, DIM, seed=5)
    _scores, rows = store.search(query, 5, rows=allowed)
    assert set(rows[0].tolist()) <= set(allowed.tolist()) and -1 not in rows[0]
    best = allowed[np.argsort(-(vectors[allowed] @ query[0]))[:5]]
    assert rows[0].tolist() == best.tolist()
    _, rows = store.search(query, 20, rows=allowed)  # more asked than allowed exist
    assert sorted(r for r in rows[0].tolist() if r >= 0) == allowed.tolist()


def test_a_broad_filter_searches_inside_the_index(kind):
    """More rows than are scored one by one: the index searches with the filter inside."""
    make, _ = kind
    vectors = unit_vectors(12_000, DIM, seed=8)
    store = _filled(make, vectors)
    allowed = np.arange(0, 12_000, 2)  # 6,000 rows, above EXACT_FILTER_ROWS
    queries = unit_vectors(20, DIM, seed=9)
    _, rows = store.search(queries, 10, rows=allowed)
    assert (rows >= 0).all() and (rows % 2 == 0).all()
    exact = allowed[np.argsort(-(queries @ vectors[allowed].T), axis=1)[:, :10]]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, exact, strict=True)])
    assert recall >= 0.9


def test_save_and_reopen_give_the_same_answers(kind, tmp_path):
    make, reopen = kind
    vectors = unit_vectors(400, DIM, seed=6)
    store = _filled(make, vectors)
    files = store.save(tmp_path)
    assert set(files) == set(store.files)  # Milvus: none, the vectors stay in the engine
    assert all(sha256_file(tmp_path / name) == digest for name, digest in files.items())
    again = reopen(store, tmp_path)
    assert len(again) == 400 and again.index_type == store.index_type
    assert np.allclose(again.all_vectors(), vectors, atol=1e-6)
    query = unit_vectors(2, DIM, seed=7)
    assert (again.search(query, 8)[1] == store.search(query, 8)[1]).all()
