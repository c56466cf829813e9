"""The default encoder pairs e5 with USE; other models stay alone unless asked."""

from __future__ import annotations

import numpy as np

from diploqa.ensemble import USE_DIM, USE_NAME, EnsembleEncoder, get_encoder


def test_default_encoder_is_the_pair(embedder):
    encoder = get_encoder()
    assert isinstance(encoder, EnsembleEncoder)
    assert encoder.model_id == f"{embedder.model_id}+{USE_NAME}"
    vectors = encoder.encode_passages(["Lawrow traf Kerry in Sotschi."])
    assert vectors.shape == (1, embedder.dim + USE_DIM)
    primary = embedder.encode_passages(["Lawrow traf Kerry in Sotschi."])
    assert np.allclose(vectors[:, : embedder.dim], primary, atol=1e-5)
    assert np.isclose(np.linalg.norm(vectors[0, embedder.dim :]), 1, atol=1e-3)


def test_use_half_is_cross_lingual():
    encoder = get_encoder()
    q = encoder.encode_queries(["Who met Lavrov in Sochi?"])[0, encoder.primary_dim :]
    good, bad = encoder.encode_passages(
        ["Kerry traf Lawrow in Sotschi.", "Das Wetter in Hamburg bleibt mild."]
    )[:, encoder.primary_dim :]
    assert q @ good > q @ bad


def test_exact_names_from_a_manifest(embedder, monkeypatch):
    assert not isinstance(get_encoder(embedder.model_id, exact=True), EnsembleEncoder)
    assert isinstance(get_encoder(f"{embedder.model_id}+{USE_NAME}", exact=True), EnsembleEncoder)
    monkeypatch.setenv("DIPLOQA_ENSEMBLE", "0")
    assert not isinstance(get_encoder(), EnsembleEncoder)


def test_halves_encoded_side_by_side_match_each_alone(embedder):
    """USE runs on a thread beside e5 during builds: rows must stay paired and in order."""
    encoder = get_encoder()
    texts = [f"Absatz {i}: Lawrow und Kerry sprachen {i} Stunden über Syrien." for i in range(40)]
    texts += ["Short.", "Ein sehr langer Absatz " * 40]
    both = encoder.encode_passages(texts)
    assert np.allclose(both[:, : encoder.primary_dim], embedder.encode_passages(texts), atol=1e-5)
    assert np.allclose(both[:, encoder.primary_dim :], encoder.secondary.encode(texts), atol=1e-5)
