"""The compact default of large FAISS indexes (:mod:`diploqa.store.faiss.vectors`): from the
HNSW threshold on, vectors are kept as 16-bit floats, and the index answers as the exact
float32 one does."""

from __future__ import annotations

import faiss
import pytest

import diploqa

QUESTIONS = [
    "Who did Kerry meet in Sochi?",
    "Was sagte Lawrow über Syrien?",
    "Wen traf Kerry in Sotschi?",
    "Was lobte Tillerson?",
]


def test_an_index_with_16_bit_vectors_answers_the_seeds_questions_as_before(
    seed_copy, seed_index, tmp_path, monkeypatch, embedder
):
    monkeypatch.setenv("DIPLOQA_ANN_THRESHOLD", "1")  # every index above it: the HNSW default
    compact = diploqa.build_index(seed_copy, tmp_path / "index")
    assert compact.manifest.index_type.startswith("hnsw-fp16-ip")
    assert isinstance(compact.stored.vectors.index, faiss.IndexHNSWSQ)
    assert seed_index.manifest.index_type == "flat-ip"
    for question in QUESTIONS:
        for filters in ({}, {"outlet": "zeit"}, {"source": "00[13]_*"}):
            before = seed_index.search(question, k=8, **filters)
            after = compact.search(question, k=8, **filters)
            assert [(h.source, h.start) for h in after] == [(h.source, h.start) for h in before]
            assert [h.score for h in after] == pytest.approx([h.score for h in before], abs=1e-3)
    reloaded = diploqa.load_index(tmp_path / "index")
    assert isinstance(reloaded.stored.vectors.index, faiss.IndexHNSWSQ)
    assert [h.text for h in reloaded.search(QUESTIONS[0], k=3)] == [
        h.text for h in compact.search(QUESTIONS[0], k=3)
    ]


def test_the_default_keeps_float32_exact_below_the_threshold_and_16_bit_floats_from_it():
    """The size the default changes at: ``config.ANN_THRESHOLD`` passages (the docs name it)."""
    from diploqa import config
    from diploqa.store.faiss import FaissStore

    below = FaissStore.create(8, expected=config.ANN_THRESHOLD - 1)
    assert below.index_type == "flat-ip" and isinstance(below.index, faiss.IndexFlatIP)
    above = FaissStore.create(8, expected=config.ANN_THRESHOLD)
    assert above.index_type.startswith("hnsw-fp16-ip")
    vectors = faiss.downcast_index(above.index.storage)
    assert vectors.sq.qtype == faiss.ScalarQuantizer.QT_fp16
    assert vectors.code_size == 8 * 2  # two bytes a number
