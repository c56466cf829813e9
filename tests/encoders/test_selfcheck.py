"""A text's vector does not depend on its batch, on any runtime; a runtime that computes wrongly
on this CPU (issue #23: int8 on AMX, a NaN blob) is caught by the self-check and replaced, and a
NaN vector never reaches an index."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from diploqa.encoders import get_embedder, get_encoder, materialize_e5_small, selfcheck
from diploqa.encoders.openvino import OpenVINOEncoder, load_openvino_model
from diploqa.errors import ModelError

TEXTS = [
    "Außenminister Kerry und sein Amtskollege Lawrow trafen sich in Sotschi am Schwarzen Meer. "
    "Nach dem Treffen mit Präsident Putin sprach Kerry von „offenen“ Gesprächen über Syrien.",
    "Wie lange gelten die Sanktionen?",
    "Short.",
    "The EU extends its sanctions against Russia by another six months, covering oil, gas and "
    "the banks, and both sides called the talks in Geneva frank and useful.",
]


def test_the_shipped_reference_is_this_model_on_pytorch_fp32(torch_embedder):
    """The probes' reference vectors are what PyTorch fp32 gives on this CPU, for the weights
    the package materialises (otherwise the self-check would compare with nothing)."""
    data = json.loads(selfcheck.PROBES_FILE.read_text(encoding="utf-8"))
    assert data["model"] == materialize_e5_small().name
    queries = torch_embedder.encode_queries(list(selfcheck.QUERIES))
    passages = torch_embedder.encode_passages(list(selfcheck.PASSAGES))
    assert (queries * np.asarray(data["vectors"]["query"])).sum(1).min() >= 0.99999
    assert (passages * np.asarray(data["vectors"]["document"])).sum(1).min() >= 0.99999


@pytest.mark.parametrize("backend", ["openvino", "openvino-bf16", "openvino-f32", "torch"])
def test_a_text_has_one_vector_alone_or_in_any_batch(backend):
    """Questions and passages, each runtime: alone, in a batch padded to the longest, and in
    another order, the same vector within rounding."""
    encoder = get_embedder(backend=backend)
    for encode in (encoder.encode_queries, encoder.encode_passages):
        batched = encode(TEXTS)
        reordered = encode(TEXTS[::-1])[::-1]
        alone = np.vstack([encode([text]) for text in TEXTS])
        assert np.isfinite(batched).all()
        assert (batched * alone).sum(1).min() >= 0.9995, (backend, encode.__name__)
        assert (reordered * alone).sum(1).min() >= 0.9995, (backend, encode.__name__)


def test_the_ensemble_gives_a_text_one_vector_alone_or_batched():
    encoder = get_encoder()
    for encode in (encoder.encode_queries, encoder.encode_passages):
        batched = encode(TEXTS)
        alone = np.vstack([encode([text]) for text in TEXTS])
        cosine = (batched * alone).sum(1) / np.linalg.norm(batched, axis=1) ** 2
        assert cosine.min() >= 0.9995


def _private_compiled_caches(monkeypatch, tmp_path, link_shared: bool) -> None:
    """Compiled models go to a cache of the test's own, beside each IR: a runtime made to fail
    here must not fail, discard and so make every later process compile again the shared
    cache's good blobs. ``link_shared``: it starts with links to the shared blobs (a good one
    is imported, not compiled; a failing one's link is what is discarded)."""
    from diploqa.encoders.compiled import CompiledCache

    def beside(cls, ir: Path) -> CompiledCache:
        folder = tmp_path / "compiled" / ir.name
        if not folder.exists():
            folder.mkdir(parents=True)
            for shared in (ir / "compiled").glob("*") if link_shared else ():
                if shared.suffix in (".blob", ".json"):
                    (folder / shared.name).symlink_to(shared)
        return cls(folder)

    monkeypatch.setattr(CompiledCache, "beside", classmethod(beside))


@pytest.fixture()
def linked_compiled_cache(monkeypatch, tmp_path) -> None:
    _private_compiled_caches(monkeypatch, tmp_path, link_shared=True)


@pytest.fixture()
def empty_compiled_cache(monkeypatch, tmp_path) -> None:
    """(Where every runtime fails, importing a blob only adds a failed check before the
    compile.)"""
    _private_compiled_caches(monkeypatch, tmp_path, link_shared=False)


def _break_padded_rows_of_int8(monkeypatch):
    """The int8 runtime made to do what AMX did: a text padded beyond its own width (to the
    longest of its batch) comes out skewed; alone it is right."""
    real = OpenVINOEncoder._infer

    def skewed(self, features, model=None):
        hidden = np.array(real(self, features, model))
        if self._quantized:
            own_width = -(-features["attention_mask"].sum(axis=1) // 16) * 16
            padded = own_width < features["attention_mask"].shape[1]
            hidden[padded] += np.linspace(-0.5, 0.5, hidden.shape[-1], dtype=hidden.dtype)
        return hidden

    monkeypatch.setattr(OpenVINOEncoder, "_infer", skewed)


def test_a_runtime_that_fails_the_self_check_is_replaced_and_logged(
    monkeypatch, caplog, linked_compiled_cache
):
    _break_padded_rows_of_int8(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        _, precision = load_openvino_model(materialize_e5_small(), "openvino")
    assert precision == "f32"  # int8 and f32 vectors share an index: the index is kept
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "openvino-int8 failed its self-check on this CPU" in message
    assert "batched vs alone" in message and "using openvino-f32 instead" in message


@pytest.mark.slow
def test_no_openvino_runtime_passing_means_pytorch(monkeypatch, caplog, empty_compiled_cache):
    def nan(self, features, model=None):
        return np.full((*features["input_ids"].shape, self._dim), np.nan, np.float32)

    monkeypatch.setattr(OpenVINOEncoder, "_infer", nan)
    from diploqa.encoders.sentence_transformer import Embedder

    with caplog.at_level(logging.WARNING, logger="diploqa"):
        embedder = Embedder(backend="openvino")
    assert embedder.backend == "torch-fp32"
    assert "NaN" in caplog.text and "using PyTorch fp32" in caplog.text
    assert np.isfinite(embedder.encode_queries(["Wer traf Lawrow?"])).all()


@pytest.mark.slow
def test_a_cached_blob_that_fails_is_discarded_and_compiled_again(monkeypatch, tmp_path, caplog):
    from diploqa.encoders import quantize_openvino
    from diploqa.encoders.compiled import CompiledCache

    folder = materialize_e5_small()
    ir, cache = quantize_openvino(folder), CompiledCache(tmp_path)
    properties = {"PERFORMANCE_HINT": "LATENCY", "CPU_RUNTIME_CACHE_CAPACITY": 16}
    first = OpenVINOEncoder(folder, ir, properties, quantized=True, cache=cache)
    (blob,) = tmp_path.glob("*.blob")
    good = blob.read_bytes()
    expected = first.encode_query(["Wer traf Lawrow?"])
    # A torn or damaged blob: its second half overwritten (weights become garbage or NaN).
    with blob.open("r+b") as fh:
        fh.seek(len(good) // 2)
        fh.write(b"\xff" * (len(good) // 3))
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        second = OpenVINOEncoder(folder, ir, properties, quantized=True, cache=cache)
    assert "discarding" in caplog.text
    assert (second.encode_query(["Wer traf Lawrow?"]) @ expected.T).item() >= 0.9999
    fresh = blob.read_bytes()  # compiled again and stored again, whole
    middle = slice(len(good) // 2, len(good) // 2 + (1 << 20))
    assert len(fresh) == len(good) and fresh[middle] == good[middle]
    # A blob that imports cleanly but computes NaN (the bf16 fault of issue #23): the
    # self-check, not the import, rejects it; the model is compiled again and stored again.
    real = OpenVINOEncoder._infer

    def nan_when_imported(self, features, model=None):
        if hasattr(model or self.compiled, "_diploqa_blob"):
            return np.full((*features["input_ids"].shape, self._dim), np.nan, np.float32)
        return real(self, features, model)

    monkeypatch.setattr(OpenVINOEncoder, "_infer", nan_when_imported)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        third = OpenVINOEncoder(folder, ir, properties, quantized=True, cache=cache)
    assert "discarding a compiled model that fails the self-check" in caplog.text
    assert "NaN" in caplog.text and "cannot be imported" not in caplog.text
    assert not hasattr(third.compiled, "_diploqa_blob")  # compiled afresh, not the blob
    assert (third.encode_query(["Wer traf Lawrow?"]) @ expected.T).item() >= 0.9999
    assert blob.is_file()  # stored again for the next start


def test_the_cache_key_names_what_changes_the_kernels(monkeypatch, tmp_path):
    from diploqa.encoders import compiled, quantize_openvino
    from diploqa.encoders.openvino import OPENVINO_XML

    xml = quantize_openvino(materialize_e5_small()) / OPENVINO_XML
    properties = {"PERFORMANCE_HINT": "LATENCY"}
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    key, parts = compiled.cache_key(xml, properties)
    assert (
        parts["openvino"]
        and parts["flags"]
        and parts["properties"] == {"PERFORMANCE_HINT": "LATENCY"}
    )
    assert compiled.cache_key(xml, properties)[0] == key  # stable
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    assert compiled.cache_key(xml, properties)[0] != key
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    name, flags = compiled.cpu_info()
    monkeypatch.setattr(compiled, "cpu_info", lambda: (name, flags | {"amx_int8"}))
    assert compiled.cache_key(xml, properties)[0] != key
    monkeypatch.setattr(compiled, "cpu_info", lambda: (name, flags))
    monkeypatch.setattr("openvino.get_version", lambda: "2099.1.0")
    assert compiled.cache_key(xml, properties)[0] != key
    assert compiled.cache_key(xml, {"PERFORMANCE_HINT": "THROUGHPUT"})[0] != key


def test_the_cache_drops_openvino_blobs_and_keeps_a_few(tmp_path):
    from diploqa.encoders.compiled import MAX_BLOBS, CompiledCache

    folder = tmp_path / "compiled"
    folder.mkdir()
    (folder / "7311901817022700214.blob").write_bytes(b"OpenVINO's own cache")
    cache = CompiledCache.beside(tmp_path)
    assert not (folder / "7311901817022700214.blob").exists()
    for i in range(MAX_BLOBS + 2):
        (folder / f"k{i}.blob").write_bytes(b"x")
        (folder / f"k{i}.json").write_bytes(b"{}")
        import os

        os.utime(folder / f"k{i}.blob", (1000 + i, 1000 + i))
    cache.prune()
    assert sorted(p.name for p in folder.glob("*.blob")) == [
        f"k{i}.blob" for i in range(2, MAX_BLOBS + 2)
    ]


def test_int8_is_kept_off_amx(monkeypatch):
    from diploqa.encoders import cpu

    # set first, so that undoing restores the worker's own environment (a bare delenv of an
    # absent variable records nothing, and the value set below would outlive the test)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "restored-by-monkeypatch")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.setattr(cpu, "has_amx", lambda: False)
    assert cpu.limit_isa_for_int8() is None and "ONEDNN_MAX_CPU_ISA" not in __import__("os").environ
    monkeypatch.setattr(cpu, "has_amx", lambda: True)
    assert cpu.limit_isa_for_int8() == "AVX512_CORE_BF16"
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "ALL")  # the user's own setting wins
    assert cpu.limit_isa_for_int8() is None


@pytest.mark.parametrize("quantized", [False, True], ids=["f32-or-bf16", "int8"])
def test_every_runtime_caps_the_isa_before_its_first_model(monkeypatch, quantized):
    """oneDNN fixes its ISA at the process's first model: an f32 model loaded before an int8
    one must already carry the cap, or the int8 model would run on AMX after all."""
    from diploqa.encoders import export_openvino, openvino, quantize_openvino

    folder = materialize_e5_small()
    ir = quantize_openvino(folder) if quantized else export_openvino(folder)

    class Capped(Exception):
        pass

    def cap():
        raise Capped

    monkeypatch.setattr(openvino, "limit_isa_for_int8", cap)
    with pytest.raises(Capped):
        OpenVINOEncoder(folder, ir, {"PERFORMANCE_HINT": "LATENCY"}, quantized=quantized)


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    from diploqa.encoders.cpu import cpu_info

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: fpu avx2 amx_int8\n")
    assert cpu_info(info) == ("Intel Xeon", frozenset({"fpu", "avx2", "amx_int8"}))
    assert cpu_info(tmp_path / "missing")[1] == frozenset()


def test_nan_vectors_never_reach_an_index(tmp_path, seed_copy):
    """An encoder that gives NaN stops the build with one line, and the index stays as it was."""
    from deterministic_encoder import DeterministicEncoder

    from diploqa.build import build

    class Broken(DeterministicEncoder):
        def encode_passages(self, passages, show_progress=False):
            vectors = super().encode_passages(passages, show_progress)
            vectors[len(vectors) // 2] = np.nan
            return vectors

    index_dir = tmp_path / "index"
    build(seed_copy, index_dir, encoder=DeterministicEncoder())
    before = {p.name: p.read_bytes() for p in index_dir.rglob("*") if p.is_file()}
    with pytest.raises(ModelError, match="NaN or Inf vectors for 1 of"):
        build(seed_copy, index_dir, rebuild=True, encoder=Broken())
    after = {p.name: p.read_bytes() for p in index_dir.rglob("*") if p.is_file()}
    assert after == before
