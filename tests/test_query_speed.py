"""The fast query path gives the same answers as the plain one: one question on a reused
OpenVINO infer request with USE beside it, and searches from many threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import opens_elsewhere, wait_until_queued

import diploqa
from diploqa.encoders import get_encoder

QUESTIONS = [
    "Wer traf Lawrow in Sotschi?",
    "Who met Lavrov in Sochi?",
    "Wie lange gelten die Sanktionen gegen Russland?",
    "x",
    "Worüber " * 700,  # longer than the model's window: truncated like a batch
]


def test_one_question_is_the_batch_vector(embedder):
    """The single-question path (no lock, reused infer request) gives exactly the vector of
    the batched path it replaces for searches."""
    model = embedder.model
    batch = model.encode_query(QUESTIONS, batch_size=16)
    for question, expected in zip(QUESTIONS, batch, strict=True):
        alone = embedder.encode_queries([question])
        assert alone.shape == (1, embedder.dim) and alone.dtype == np.float32
        assert np.allclose(alone[0], model.encode_query([question], batch_size=1)[0], atol=1e-6)
        assert float(alone[0] @ expected) >= 0.9995  # other batches pad to other lengths


def test_pair_encodes_halves_side_by_side_in_order():
    """USE runs on a helper thread while e5 runs: each question keeps its own halves."""
    encoder = get_encoder()
    for question in QUESTIONS:
        both = encoder.encode_queries([question])
        assert np.allclose(
            both[0, : encoder.primary_dim], encoder.primary.encode_queries([question])[0]
        )
        assert np.allclose(both[0, encoder.primary_dim :], encoder.secondary.encode([question])[0])


def test_concurrent_searches_answer_like_serial_ones(seed_index):
    index = seed_index
    questions = [*QUESTIONS[:4], "Was sagte Kerry über Syrien?", "What did Putin say?"]
    questions = questions * 4

    def answer(q):
        return [(h.source, h.start, h.highlight, round(h.score, 5)) for h in index.search(q)]

    serial = [answer(q) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(answer, questions))
    assert parallel == serial


def test_preload_loads_the_index_encoder_once(seed_index, tmp_path):
    """``diploqa serve`` loads the models on threads while Gradio is imported; the index load
    then gets the same instances. Without a readable index nothing is preloaded."""
    from diploqa.preload import start_preload

    assert start_preload(tmp_path / "missing").threads == ()
    threads = start_preload(seed_index.path).threads
    assert len(threads) == 2
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive()
    encoder = get_encoder(seed_index.manifest.model, exact=True)
    assert encoder.primary is seed_index.encoder.primary
    assert encoder.secondary is seed_index.encoder.secondary


def test_preload_reads_the_model_of_a_milvus_index(seed_copy, tmp_path, embedder):
    """``diploqa serve --store milvus-lite:PATH`` preloads the models its index names too
    (the manifest read through the store, not from the index folder); the Lite file is left
    free for the server's own client, or another process."""
    pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    from diploqa.preload import start_preload

    store = f"milvus-lite:{tmp_path / 'index.db'}"
    assert start_preload(tmp_path / "unused", store).threads == ()  # no index there yet
    built = diploqa.build_index(seed_copy, tmp_path / "unused", store=store)
    built.stored.close()
    threads = start_preload(tmp_path / "unused", store).threads
    assert [t.name for t in threads] == ["diploqa-preload-model", "diploqa-preload-use"]
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive()
    assert get_encoder(built.manifest.model, exact=True).primary is built.encoder.primary
    assert opens_elsewhere(store) == "opened"


def test_compiled_model_cache_beside_the_ir():
    """The compiled OpenVINO model is cached beside its IR, so the next start imports it."""
    from diploqa.encoders import get_embedder, materialize_e5_small, quantize_openvino

    assert get_embedder(backend="openvino").backend == "openvino-int8"
    cache = quantize_openvino(materialize_e5_small()) / "compiled"
    assert any(cache.glob("*.blob"))


def _held_batch(batcher, monkeypatch, waiting: int):
    """Make ``batcher``'s first call wait inside the model until ``waiting`` other callers
    queue behind it, so that they are encoded in one batch."""
    real, calls = batcher._run, []

    def run(items):
        calls.append(len(items))
        if len(calls) == 1:
            wait_until_queued(batcher, waiting, timeout=60)
        return real(items)

    monkeypatch.setattr(batcher, "_run", run)
    return calls


def test_questions_asked_at_once_are_encoded_together_each_with_its_vector_alone(
    embedder, monkeypatch
):
    """A server's concurrent questions share one e5 call, padded to the longest (the
    700-word one is truncated): every question gets the vector it gets alone, so concurrent
    searches answer as serial ones (bit for bit on the CPUs seen so far; the model's kernels
    may differ by rounding elsewhere)."""
    model = embedder.model
    questions = [*QUESTIONS, "Was sagte Kerry über Syrien?", "What did Putin say?"]
    alone = np.vstack([model.encode_one_query(q) for q in questions])
    calls = _held_batch(model.questions, monkeypatch, waiting=len(questions))
    with ThreadPoolExecutor(max_workers=len(questions) + 1) as pool:
        first = pool.submit(model.encode_one_query, "Wer ist Lawrow?")
        rest = [pool.submit(model.encode_one_query, q) for q in questions]
        together = np.vstack([f.result(120) for f in rest])
        first.result(120)
    assert calls[0] == 1 and sum(calls) == len(questions) + 1 and max(calls[1:]) > 1
    assert np.allclose(together, alone, rtol=0, atol=1e-6)


def test_highlight_sentence_vectors_cached_give_the_same_highlights(seed_index):
    """Highlight sentences' USE vectors are kept per process: the same highlights whether a
    sentence was encoded now or earlier, and the vectors are those of a fresh encoding."""
    from diploqa.config import RankingConfig

    # Every hit's sentences compared by meaning, whatever the question's words.
    index = seed_index.with_ranking(
        RankingConfig(semantic_highlights=5, semantic_highlight_max_coverage=1.01)
    )
    use = index.encoder.secondary
    questions = ["Wer traf Lawrow in Sotschi?", "Worüber sprachen die Außenminister?"]
    questions += ["Who met Lavrov in Sochi?", "Wie lange gelten die Sanktionen?"]
    with use._cache_lock:
        use._cache.clear()
    cold = [[h.highlight for h in index.search(q)] for q in questions]
    assert use._cache
    warm = [[h.highlight for h in index.search(q)] for q in questions]
    assert warm == cold
    sentences = list(use._cache)
    assert np.allclose(use.encode_sentences(sentences), use.encode(sentences), atol=1e-5)
