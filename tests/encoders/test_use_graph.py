"""USE on OpenVINO gives numpy's vectors; a runtime that does not is never used."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from diploqa.config import Settings, SettingsError
from diploqa.encoders import get_use
from diploqa.encoders.cpu import cpu_info
from diploqa.encoders.runtime import BF16_FLAGS, choose_use_runtime, resolve_use_runtime
from diploqa.encoders.use import PROBE_BOUND, UseEncoder
from diploqa.encoders.use_graph import TOKEN_BUDGET, UseGraph

TEXTS = [
    "",
    "Kurz.",
    "Wer traf Lawrow am 12. Mai 2016 in Sotschi?",
    "How long do the EU sanctions against Russia last, and what do they cover besides oil?",
    "«Это не так», sagte Sacharowa; 3,5 Mrd. € Hilfe & 40 % mehr.",
    "Außenminister Kerry und sein Amtskollege Lawrow trafen sich in Sotschi am Schwarzen Meer. "
    * 6,
    # longer than one call's token budget: a call of its own
    " ".join(f"Satz {i}: Der Waffenstillstand in Syrien hielt nur {i} Tage." for i in range(260)),
    "Die Gespräche über die Ukraine gehen in Minsk weiter.",
]
HAS_BF16 = any(flag in cpu_info()[1] for flag in BF16_FLAGS)


@pytest.fixture(scope="module")
def numpy_use() -> UseEncoder:
    return get_use(runtime="numpy")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize(
    ("precision", "bound"),
    [("f32", 0.99999), pytest.param("bf16", 0.9995, marks=pytest.mark.skipif(
        not HAS_BF16, reason="this CPU has no bf16 instructions"))],
)  # fmt: skip
def test_the_graph_gives_numpys_vectors_alone_and_in_batches(numpy_use, precision, bound):
    backend = numpy_use._model._backend
    assert len(backend.sp.encode(TEXTS[6])) > TOKEN_BUDGET
    graph = UseGraph(backend, precision)
    reference = numpy_use.encode(TEXTS)
    batched = graph.encode(TEXTS)
    alone = np.vstack([graph.encode([text]) for text in TEXTS])
    assert batched.shape == (len(TEXTS), 512) and batched.dtype == np.float32
    assert _cosines(batched, reference).min() >= bound
    assert _cosines(alone, batched).min() >= 0.99999  # a text's vector ignores its neighbours
    assert np.allclose(np.linalg.norm(batched, axis=1), 1, atol=1e-5)
    assert graph.encode([]).shape == (0, 512)
    # the order survives calls split by the token budget
    many = TEXTS * 5
    assert _cosines(graph.encode(many), np.vstack([reference] * 5)).min() >= bound


def test_the_default_runtime_is_the_cpus_and_agrees_with_numpy(numpy_use):
    use = get_use()
    assert use.runtime == resolve_use_runtime("auto") != "numpy"
    assert _cosines(use.encode(TEXTS), numpy_use.encode(TEXTS)).min() >= PROBE_BOUND
    # threads split a batch and keep its order
    texts = [f"Gespräch {i} über Syrien und die Ukraine. " * (1 + i % 5) for i in range(30)]
    assert np.allclose(use.encode(texts, threads=3), use.encode(texts), atol=1e-6)


def test_questions_from_several_threads_get_their_own_vectors():
    use = get_use()
    texts = [f"Frage {i}: Wer sprach mit Lawrow über Syrien?" for i in range(24)]
    expected = use.encode(texts)
    got: dict[int, np.ndarray] = {}

    def ask(i: int) -> None:
        for _ in range(3):
            got[i] = use.encode([texts[i]])[0]

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert np.allclose(np.vstack([got[i] for i in range(len(texts))]), expected, atol=1e-5)


@pytest.mark.parametrize(
    ("flags", "runtime"),
    [({"avx2"}, "openvino-f32"), ({"avx2", "avx512f", "avx512_vnni"}, "openvino-f32"),
     ({"avx2", "avx512_bf16"}, "openvino-bf16"), ({"amx_bf16", "amx_int8"}, "openvino-bf16"),
     (set(), "openvino-f32")],
)  # fmt: skip
def test_runtime_by_cpu_flags(flags, runtime):
    assert choose_use_runtime(flags).backend == runtime
    assert choose_use_runtime(flags).reason


def test_the_runtime_setting(monkeypatch):
    assert Settings.from_env({}).encoder.use_runtime == "auto"
    for value in ("numpy", "OpenVINO-F32", "openvino-bf16"):
        assert Settings.from_env({"DIPLOQA_USE_RUNTIME": value}).encoder.use_runtime == (
            value.lower()
        )
    with pytest.raises(SettingsError, match="DIPLOQA_USE_RUNTIME='onnx' is not one of"):
        Settings.from_env({"DIPLOQA_USE_RUNTIME": "onnx"})
    assert resolve_use_runtime("numpy") == "numpy"
    assert get_use(runtime="numpy").runtime == "numpy"


def test_a_graph_with_other_vectors_gives_way_to_numpy(monkeypatch, caplog, numpy_use):
    """A kernel that computes wrongly on some CPU (as int8 on AMX did for e5) must not reach an
    index: USE then runs on numpy."""

    def wrong(self, texts):
        return np.roll(numpy_use.encode(texts), 1, axis=1)

    monkeypatch.setattr(UseGraph, "encode", wrong)
    with caplog.at_level(logging.WARNING, logger="diploqa.encoders.use"):
        use = UseEncoder(runtime="openvino-bf16")  # neither bf16 nor f32 passes
    assert use.runtime == "numpy"
    assert "gave other vectors than numpy" in caplog.text
    assert np.allclose(use.encode(TEXTS[:4]), numpy_use.encode(TEXTS[:4]), atol=1e-6)


def test_a_graph_that_fails_to_compile_gives_way_to_f32_then_numpy(monkeypatch, caplog):
    compile_graph = UseGraph.__init__

    def no_bf16(self, backend, precision, streams=1):
        if precision == "bf16":
            raise RuntimeError("could not create a primitive descriptor for the matmul primitive")
        compile_graph(self, backend, precision, streams)

    monkeypatch.setattr(UseGraph, "__init__", no_bf16)
    with caplog.at_level(logging.WARNING, logger="diploqa.encoders.use"):
        use = UseEncoder(runtime="openvino-bf16")
    assert use.runtime == "openvino-f32"
    assert "USE on openvino-bf16 failed (could not create a primitive" in caplog.text

    def broken(self, backend, precision, streams=1):
        raise RuntimeError(f"no {precision} here")

    monkeypatch.setattr(UseGraph, "__init__", broken)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="diploqa.encoders.use"):
        use = UseEncoder(runtime="openvino-bf16")
    assert use.runtime == "numpy"
    assert "(no bf16 here)" in caplog.text and "(no f32 here)" in caplog.text
    assert use.encode(["Kurz."]).shape == (1, 512)


def test_an_unknown_precision_is_refused(numpy_use):
    with pytest.raises(ValueError, match="f32 or bf16, not int8"):
        UseGraph(numpy_use._model._backend, "int8")


def test_calls_are_padded_to_few_shapes():
    """The CPU plugin keeps kernels per input shape: a build's many lengths must map to few."""
    from diploqa.encoders.use_graph import padded_texts, padded_tokens

    assert [padded_tokens(n) for n in (1, 16, 17, 64, 65, 512, 513, 2048, 5000)] == [
        16, 16, 32, 64, 128, 512, 768, 2048, 5120]  # fmt: skip
    assert [padded_texts(n) for n in (1, 2, 3, 5, 16, 17)] == [1, 2, 4, 8, 16, 32]
    assert len({padded_tokens(n) for n in range(1, 2049)}) == 17  # 4 + 7 + 6
