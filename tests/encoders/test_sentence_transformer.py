"""The single-model encoder: normalised vectors with the model's prompts, and the parts of the
Encoder interface where a single model has nothing to weight or compare."""

from __future__ import annotations

import numpy as np

from diploqa.encoders import Embedder, Encoder, EnsembleEncoder, get_encoder


def test_vectors_are_normalised_and_prompts_differ(embedder):
    q = embedder.encode_queries(["Sanktionen gegen Russland"])
    p = embedder.encode_passages(["Sanktionen gegen Russland"])
    assert q.shape == p.shape == (1, embedder.dim) == (1, 384)
    assert np.allclose(np.linalg.norm(q), 1, atol=1e-4)
    assert float((q @ p.T)[0, 0]) < 0.9999  # "query: " and "passage: " prompts are applied


def test_cross_lingual_similarity(embedder):
    q = embedder.encode_queries(["Who met Lavrov in Sochi?"])
    good, bad = embedder.encode_passages(
        ["Kerry traf Lawrow in Sotschi am Schwarzen Meer.", "Das Wetter in Hamburg ist mild."]
    )
    assert float(q[0] @ good) > float(q[0] @ bad) + 0.05


def test_query_vector_of_a_single_encoder_is_the_raw_vector(embedder):
    raw = embedder.encode_queries(["Wer traf Lawrow in Sotschi?"])[0]
    for weight in (0.0, 0.15, 1.0):
        vector = embedder.query_vector(raw, weight)
        assert vector.shape == (1, embedder.dim) and vector.dtype == np.float32
        assert np.array_equal(vector[0], raw)
        assert not np.shares_memory(vector, raw)  # a copy: the caller may change it


def test_a_single_encoder_has_no_sentence_similarity(embedder):
    raw = embedder.encode_queries(["Who met Lavrov in Sochi?"])[0]
    assert embedder.sentence_similarity(raw, ["Kerry traf Lawrow.", "Es regnet."]) is None
    assert embedder.primary is embedder


def test_both_encoders_offer_the_whole_interface(embedder):
    members = set(Encoder.__annotations__) | {
        "count_tokens", "encode_queries", "encode_passages", "query_vector", "sentence_similarity",
    }  # fmt: skip
    ensemble = get_encoder()
    assert isinstance(embedder, Embedder) and isinstance(ensemble, EnsembleEncoder)
    for encoder in (embedder, ensemble):
        missing = [m for m in sorted(members) if not hasattr(encoder, m)]
        assert not missing, (type(encoder).__name__, missing)
