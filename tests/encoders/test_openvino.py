"""The default model's fast path: the OpenVINO encoder, its one-time export and int8
quantisation (idempotent, atomic, quiet, no telemetry), its calibration text and its bounded
cache of compiled shapes.

The default model's own export and quantisation run once per machine, into the model cache the
session's ``embedder`` comes from, and the tests below compare what they made with PyTorch; the
mechanics of exporting and quantising again (into a fresh cache) run on a tiny model of the
same architecture and tokenizer, with the same converter and quantiser.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from diploqa.encoders import get_embedder, materialize_e5_small

PASSAGES = [
    "Außenminister Kerry und sein Amtskollege Lawrow trafen sich in Sotschi am Schwarzen Meer. "
    "Nach dem Treffen mit Präsident Putin sprach Kerry von „offenen“ Gesprächen über Syrien.",
    "Die EU verlängert die Sanktionen gegen Russland um weitere sechs Monate – Öl, Gas, Banken.",
    "Short.",
]


def _cpu_has_bf16() -> bool:
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


@pytest.mark.parametrize(
    ("backend", "bound"),
    [
        ("openvino", 0.99),  # int8: measured 0.996–0.998 against fp32
        ("openvino-bf16", 0.9995),
    ],
)
def test_openvino_backends_agree_with_pytorch(torch_embedder, backend, bound):
    fast_embedder = get_embedder(backend=backend)  # int8 named: the default is the CPU's choice
    # The unquantised IR runs in bf16 only where the processor has it, else in f32; the
    # backend recorded says which (CPUs of the same machine type differ).
    unquantised = "openvino-bf16" if _cpu_has_bf16() else "openvino-f32"
    assert fast_embedder.backend == ("openvino-int8" if backend == "openvino" else unquantised)
    assert torch_embedder.backend == "torch-fp32"
    assert type(fast_embedder.model).__name__ == "OpenVINOEncoder"
    # Different batch sizes and paddings must not matter beyond rounding.
    for encode in ("encode_queries", "encode_passages"):
        fast = getattr(fast_embedder, encode)(PASSAGES)
        exact = getattr(torch_embedder, encode)(PASSAGES)
        alone = np.vstack([getattr(fast_embedder, encode)([p]) for p in PASSAGES])
        assert (fast * exact).sum(axis=1).min() >= bound, encode
        assert (fast * alone).sum(axis=1).min() >= 0.9995, encode
        assert np.allclose(np.linalg.norm(fast, axis=1), 1, atol=1e-4)


def test_int8_ranks_like_pytorch(torch_embedder):
    """Quantisation must not change which passage answers: same order for every question."""
    embedder = get_embedder(backend="openvino")  # the default only where the CPU has VNNI/AMX
    questions = ["Wer traf Lawrow in Sotschi?", "Who met Lavrov in Sochi?",
                 "Wie lange gelten die Sanktionen?", "How long do the sanctions last?"]  # fmt: skip
    fast = embedder.encode_queries(questions) @ embedder.encode_passages(PASSAGES).T
    exact = torch_embedder.encode_queries(questions) @ torch_embedder.encode_passages(PASSAGES).T
    assert (fast.argsort(axis=1) == exact.argsort(axis=1)).all()
    assert np.abs(fast - exact).max() < 0.02


def test_openvino_f32_matches_pytorch_exactly(torch_embedder):
    f32 = get_embedder(backend="openvino-f32")
    assert f32.backend == "openvino-f32"
    cosines = (f32.encode_passages(PASSAGES) * torch_embedder.encode_passages(PASSAGES)).sum(1)
    assert cosines.min() >= 0.99999


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A sentence-transformers-style folder like the default model's (BERT, its config and
    tokenizer) with random weights, 2 layers of width 32: seconds to export and quantise."""
    import torch
    from transformers import BertConfig, BertModel

    source = materialize_e5_small()
    settings = json.loads((source / "config.json").read_text())
    for key in ("architectures", "transformers_version", "dtype"):
        settings.pop(key, None)
    settings.update(hidden_size=32, intermediate_size=64, num_attention_heads=2,
                    num_hidden_layers=2)  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny") / "tiny-bert"
    torch.manual_seed(0)
    BertModel(BertConfig(**settings)).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(source / name, folder / name)
    return folder


def test_export_is_idempotent_atomic_and_sends_no_telemetry(tiny_model, tmp_path, monkeypatch):
    import openvino
    import openvino_telemetry

    from diploqa.encoders import OPENVINO_XML, export_openvino

    def no_telemetry(*args, **kwargs):
        raise AssertionError("OpenVINO telemetry was started")

    monkeypatch.setattr(openvino_telemetry.Telemetry, "__init__", no_telemetry)
    source = tiny_model
    folder = export_openvino(source, tmp_path)
    assert folder.parent == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temporary leftovers
    assert (folder / OPENVINO_XML).is_file() and (folder / OPENVINO_XML).with_suffix(".bin")
    assert json.loads((folder / "diploqa-source.json").read_text())["source"] == source.name

    def must_not_convert(*args, **kwargs):
        raise AssertionError("exported twice")

    monkeypatch.setattr(openvino, "convert_model", must_not_convert)
    assert export_openvino(source, tmp_path) == folder


def test_int8_quantisation_is_idempotent_atomic_quiet_and_sends_no_telemetry(
    tiny_model, tmp_path, monkeypatch, capfd
):
    import nncf
    import openvino_telemetry

    from diploqa.encoders import OPENVINO_XML, calibration_texts, quantize_openvino

    def no_telemetry(*args, **kwargs):
        raise AssertionError("telemetry was started")

    monkeypatch.setattr(openvino_telemetry.Telemetry, "__init__", no_telemetry)
    source = tiny_model
    folder = quantize_openvino(source, tmp_path)
    # the IR it starts from and the int8 IR, nothing else (no temporary leftovers)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [folder.name, folder.name.rsplit("-int8-", 1)[0]]
    )
    assert (folder / OPENVINO_XML).is_file()
    meta = json.loads((folder / "diploqa-source.json").read_text())
    assert meta["calibration_samples"] == len(calibration_texts()) > 50
    assert "FakeQuantize" in (folder / OPENVINO_XML).read_text()  # really quantised
    assert capfd.readouterr().out == ""  # progress bars go to stderr, not to stdout

    def must_not_quantize(*args, **kwargs):
        raise AssertionError("quantised twice")

    monkeypatch.setattr(nncf, "quantize", must_not_quantize)
    assert quantize_openvino(source, tmp_path) == folder


def test_calibration_text_has_both_languages_and_both_prompts():
    from diploqa.encoders import E5_PROMPTS, calibration_texts

    texts = calibration_texts()
    queries = [t for t in texts if t.startswith(E5_PROMPTS["query"])]
    passages = [t for t in texts if t.startswith(E5_PROMPTS["document"])]
    assert len(queries) >= 20 and len(passages) >= 40 and len(queries) + len(passages) == len(texts)
    assert any("Außenminister" in t for t in queries + passages)
    assert any(" the " in t for t in queries) and any(" the " in t for t in passages)


def test_openvino_shapes_are_few_and_their_cache_bounded(embedder):
    """Each new input shape is compiled and kept by the CPU plugin, and unbounded a server's
    memory grew with every new question length (see load_openvino_model): lengths come in steps
    of 16 and the cache holds a bounded number of shapes."""
    from diploqa.encoders import OPENVINO_SHAPE_CACHE

    tokenizer = embedder.model.tokenizer
    for n in (1, 7, 15, 16, 17, 40, 200, 1000):
        features = tokenizer(["query: " + "Wort " * n])
        assert features["input_ids"].shape[1] % 16 == 0
        assert features["input_ids"].shape[1] <= 512  # truncated to the model's window
    assert len(tokenizer("Wort " * 1000, add_special_tokens=False)["input_ids"]) >= 1000
    # the plugin takes the cache bound at compile time (it cannot be read back afterwards)
    import openvino

    from diploqa.encoders import load_openvino_model, materialize_e5_small

    seen = []
    compile_model, import_model = openvino.Core.compile_model, openvino.Core.import_model

    def compiling(self, model, device, properties):
        seen.append(properties)
        return compile_model(self, model, device, properties)

    def importing(self, blob, device, properties):  # from diploqa's compiled-model cache
        seen.append(properties)
        return import_model(self, blob, device, properties)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(openvino.Core, "compile_model", compiling)
        patch.setattr(openvino.Core, "import_model", importing)
        load_openvino_model(materialize_e5_small())
    assert seen[0]["CPU_RUNTIME_CACHE_CAPACITY"] == OPENVINO_SHAPE_CACHE <= 32
    # padding does not change the vector
    short = embedder.encode_queries(["Wer traf Lawrow?"])
    padded = embedder.encode_queries(["Wer traf Lawrow?", "Wort " * 60])[:1]
    assert float(short[0] @ padded[0]) > 0.999


def _slice(n: int) -> list[str]:
    """A build's slice of ``n`` passages of varied length."""
    return [f"Absatz {i}: Lawrow und Kerry sprachen über Syrien. " * (1 + i % 5) for i in range(n)]


def test_passages_on_streams_match_the_question_model(embedder):
    """A build's slice runs on the passage model, a batch per stream: the vectors are the
    ones the question model gives one batch after another, rows in their order."""
    from diploqa.encoders.streams import MIN_BATCHES

    model = embedder.model
    texts = _slice(MIN_BATCHES * embedder.batch_size + 5)
    before = embedder.passages_encoded
    on_streams = embedder.encode_passages(texts)
    assert embedder.passages_encoded == before + len(texts)
    prompt = model.prompts["document"]
    one_by_one = model._encode(texts, prompt, embedder.batch_size, model.compiled)
    assert np.allclose(on_streams, one_by_one, atol=1e-5)
    assert embedder.passage_streams() >= 1
    batch = embedder.encode_passage_batch(texts[:3])
    assert np.allclose(batch, one_by_one[:3], atol=1e-5)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("rejected", "openvino-int8 failed its self-check on this CPU: probe differs"),
        ("not compiled", "CPU plugin: no streams here"),
    ],
)
def test_a_passage_model_that_fails_leaves_passages_on_the_question_model(
    embedder, monkeypatch, caplog, error, reason
):
    from diploqa.encoders.base import RuntimeRejected

    model = embedder.model

    def rejected(properties, cached=True):
        if error == "rejected":
            raise RuntimeRejected(reason)
        raise RuntimeError(f"Exception from src/inference/src/cpp/core.cpp:112:\n{reason}\n")

    monkeypatch.setattr(model, "_passages", None)
    monkeypatch.setattr(model, "_compile", rejected)
    texts = _slice(80)
    with caplog.at_level("WARNING", logger="diploqa.encoders.openvino"):
        assert embedder.passage_streams() == 1
        vectors = embedder.encode_passages(texts)
    assert f"passages are encoded one batch at a time: {reason}" in caplog.text
    expected = model._encode(texts, model.prompts["document"], embedder.batch_size, model.compiled)
    assert np.array_equal(vectors, expected)
