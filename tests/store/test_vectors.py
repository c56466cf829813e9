"""How broadly HNSW graphs are searched (:func:`diploqa.store.vectors.ef_search_for`): by
default by their size, so that recall holds as an archive grows; set, as set. A FAISS graph
gets its breadth when it is built and when it is opened."""

from __future__ import annotations

import logging

import pytest
from deterministic_encoder import unit_vectors

from diploqa.config import VectorSettings
from diploqa.store import vectors as store_vectors
from diploqa.store.faiss import FaissStore
from diploqa.store.vectors import ef_search_for

AUTO = VectorSettings()


@pytest.mark.parametrize(
    ("vectors", "breadth"),
    [(0, 512), (300_000, 512), (300_001, 1024), (600_000, 1024), (600_001, 2048), (10**8, 2048)],
)
def test_the_breadth_grows_with_the_graph_at_the_rules_sizes(vectors, breadth):
    assert ef_search_for(AUTO, vectors) == breadth
    assert ef_search_for(VectorSettings(ef_search=64), vectors) == 64  # set: as set


def test_a_faiss_graph_gets_the_breadth_of_its_size_when_built_and_opened(
    tmp_path, monkeypatch, caplog
):
    """The rule's sizes made small (a graph of 300,000 vectors takes minutes to build)."""
    monkeypatch.setattr(
        store_vectors, "HNSW_EF_SEARCH_BY_SIZE", ((40, 512), (80, 1024), (None, 2048))
    )
    graph = VectorSettings(ann_threshold=1)
    for n, breadth in ((40, 512), (41, 1024), (81, 2048)):
        built = FaissStore.from_vectors(unit_vectors(n, 16, seed=n), 16, graph)
        assert built.index.hnsw.efSearch == breadth
        folder = tmp_path / str(n)
        folder.mkdir()
        built.save(folder)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="diploqa.store.vectors"):
            opened = FaissStore.load(folder, built.index_type, graph)
        assert opened.index.hnsw.efSearch == breadth
        assert [r.getMessage() for r in caplog.records] == [
            f"HNSW index of {n} vectors: efSearch {breadth} (by its size)"
        ]  # once per index opened
        assert len(opened.search(unit_vectors(1, 16), 10)[1][0]) == 10
    fixed = FaissStore.load(folder, built.index_type, VectorSettings(1, ef_search=100))
    assert fixed.index.hnsw.efSearch == 100  # an integer set overrides the size
