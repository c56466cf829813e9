"""The fast paths of issue 5: the OpenVINO encoder, its one-time export, the backend recorded in
the manifest, and the approximate (HNSW) index above a size threshold. Timing targets are not
tested here; their numbers come from ``benchmarks/speed.py`` (docs/benchmarks.md)."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest
from conftest import copy_seeds

import diploqa
from diploqa import config
from diploqa.embedding import get_embedder, materialize_e5_small

NEW_ARTICLE = """title: Lawrow und Blinken in Genf
date: 2022-01-21

Der russische Außenminister Sergej Lawrow und US-Außenminister Antony Blinken haben sich in Genf
zu Gesprächen über die Ukraine getroffen. Eine Einigung gab es nicht.
"""

PASSAGES = [
    "Außenminister Kerry und sein Amtskollege Lawrow trafen sich in Sotschi am Schwarzen Meer. "
    "Nach dem Treffen mit Präsident Putin sprach Kerry von „offenen“ Gesprächen über Syrien.",
    "Die EU verlängert die Sanktionen gegen Russland um weitere sechs Monate – Öl, Gas, Banken.",
    "Short.",
]


@pytest.mark.parametrize(
    ("backend", "bound"),
    [
        ("default", 0.99),  # int8: measured 0.996–0.998 against fp32
        ("openvino-bf16", 0.9995),
    ],
)
def test_openvino_backends_agree_with_pytorch(embedder, torch_embedder, backend, bound):
    fast_embedder = embedder if backend == "default" else get_embedder(backend=backend)
    assert fast_embedder.backend == ("openvino-int8" if backend == "default" else backend)
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


def test_int8_ranks_like_pytorch(embedder, torch_embedder):
    """Quantisation must not change which passage answers: same order for every question."""
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


def test_backend_setting_is_checked(monkeypatch):
    monkeypatch.setenv("DIPLOQA_BACKEND", "Torch")
    assert config.backend() == "torch"
    monkeypatch.setenv("DIPLOQA_BACKEND", "tensorrt")
    with pytest.raises(ValueError, match="DIPLOQA_BACKEND"):
        config.backend()


def test_export_is_idempotent_atomic_and_sends_no_telemetry(tmp_path, monkeypatch):
    import openvino
    import openvino_telemetry

    from diploqa.embedding import OPENVINO_XML, export_openvino

    def no_telemetry(*args, **kwargs):
        raise AssertionError("OpenVINO telemetry was started")

    monkeypatch.setattr(openvino_telemetry.Telemetry, "__init__", no_telemetry)
    source = materialize_e5_small()
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
    tmp_path, monkeypatch, capfd
):
    import nncf
    import openvino_telemetry

    from diploqa.embedding import OPENVINO_XML, calibration_texts, quantize_openvino

    def no_telemetry(*args, **kwargs):
        raise AssertionError("telemetry was started")

    monkeypatch.setattr(openvino_telemetry.Telemetry, "__init__", no_telemetry)
    source = materialize_e5_small()
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
    from diploqa.embedding import E5_PROMPTS, calibration_texts

    texts = calibration_texts()
    queries = [t for t in texts if t.startswith(E5_PROMPTS["query"])]
    passages = [t for t in texts if t.startswith(E5_PROMPTS["document"])]
    assert len(queries) >= 20 and len(passages) >= 40 and len(queries) + len(passages) == len(texts)
    assert any("Außenminister" in t for t in queries + passages)
    assert any(" the " in t for t in queries) and any(" the " in t for t in passages)


def test_backend_change_rebuilds_fully_and_is_recorded(tmp_path, monkeypatch):
    articles = copy_seeds(tmp_path / "articles")
    monkeypatch.setenv("DIPLOQA_BACKEND", "torch")
    first = diploqa.build_index(articles, tmp_path / "index")
    assert first.stored.manifest["backend"] == "torch-fp32"
    monkeypatch.delenv("DIPLOQA_BACKEND")
    second = diploqa.build_index(articles, tmp_path / "index")
    report = second.build_report
    assert report.full_rebuild and "backend changed from torch-fp32" in report.reason
    assert second.stored.manifest["backend"].startswith("openvino")
    assert report.embedded == first.build_report.embedded  # everything, once more


def test_old_manifest_without_backend_counts_as_pytorch(built, embedder):
    articles, index_dir = built
    manifest = json.loads((index_dir / "manifest.json").read_text())
    del manifest["backend"]
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    report = diploqa.build_index(articles, index_dir).build_report
    assert report.full_rebuild and "from torch-fp32" in report.reason


def test_ann_index_above_threshold_with_incremental_updates(built, monkeypatch, embedder):
    articles, index_dir = built
    exact = diploqa.load_index(index_dir)
    assert exact.stored.manifest["index_type"] == "flat-ip"
    n = len(exact)
    monkeypatch.setenv("DIPLOQA_ANN_THRESHOLD", "10")
    # Crossing the threshold rebuilds the vector index from the stored vectors: no re-embedding.
    before = embedder.passages_encoded
    first = articles / sorted(p.name for p in articles.iterdir())[0]
    # a near copy (an exact one would be skipped as a duplicate)
    (articles / "zz.txt").write_text(first.read_text(encoding="utf-8") + "\nNachtrag.\n", "utf-8")
    ann = diploqa.build_index(articles, index_dir)
    assert ann.stored.manifest["index_type"].startswith("hnsw")
    assert isinstance(ann.stored.faiss_index, faiss.IndexHNSWFlat)
    assert ann.stored.faiss_index.hnsw.efSearch == config.hnsw_ef_search()
    report = ann.build_report
    assert report.added == ["zz.txt"] and not report.full_rebuild
    assert embedder.passages_encoded - before == report.embedded < len(ann) - n + 5
    old_rows = [i for i, c in enumerate(ann.stored.chunks) if c.article_id != "zz.txt"]
    assert np.allclose(ann.stored.all_vectors()[old_rows], exact.stored.all_vectors(), atol=1e-6)

    # The ANN index answers like the exact one on this small index.
    for question in ("Wer traf Lawrow in Sotschi?", "Who did Kerry meet in Sochi?"):
        a = [(h.source, h.start) for h in exact.search(question, k=5)]
        b = [(h.source, h.start) for h in ann.search(question, k=5)]
        assert a[0] == b[0] or b[0][0] == "zz.txt"  # the copy may tie with its original

    # An incremental update keeps the ANN type and embeds only the new article.
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    before = embedder.passages_encoded
    updated = diploqa.build_index(articles, index_dir)
    report = updated.build_report
    assert report.added == ["005_genf.txt"] and not report.full_rebuild
    new_rows = [c for c in updated.stored.chunks if c.article_id == "005_genf.txt"]
    assert embedder.passages_encoded - before == report.embedded >= len(new_rows) > 0
    assert report.embedded < len(new_rows) + 3
    assert updated.stored.manifest["index_type"].startswith("hnsw")
    assert updated.search("Wo trafen sich Lawrow und Blinken?", k=1)[0].source == "005_genf.txt"

    # Reloading restores the search breadth; dropping below the threshold returns to exact.
    assert diploqa.load_index(index_dir).stored.faiss_index.hnsw.efSearch == config.hnsw_ef_search()
    monkeypatch.delenv("DIPLOQA_ANN_THRESHOLD")
    (articles / "zz.txt").unlink()
    flat = diploqa.build_index(articles, index_dir)
    assert flat.stored.manifest["index_type"] == "flat-ip"
    assert isinstance(flat.stored.faiss_index, faiss.IndexFlatIP)


def test_openvino_shapes_are_few_and_their_cache_bounded(embedder):
    """Each new input shape is compiled and kept by the CPU plugin (~8 MB each; unbounded, a
    server grew by 650 MB over 119 question lengths): lengths come in steps of 16 and the
    cache holds a bounded number of shapes."""
    from diploqa.embedding import OPENVINO_SHAPE_CACHE

    tokenizer = embedder.model.tokenizer
    for n in (1, 7, 15, 16, 17, 40, 200, 1000):
        features = tokenizer(["query: " + "Wort " * n])
        assert features["input_ids"].shape[1] % 16 == 0
        assert features["input_ids"].shape[1] <= 512  # truncated to the model's window
    assert len(tokenizer("Wort " * 1000, add_special_tokens=False)["input_ids"]) >= 1000
    # the plugin takes the cache bound at compile time (it cannot be read back afterwards)
    import openvino

    from diploqa.embedding import load_openvino_model, materialize_e5_small

    seen = []
    real = openvino.Core.compile_model

    def recording(self, model, device, properties):
        seen.append(properties)
        return real(self, model, device, properties)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(openvino.Core, "compile_model", recording)
        load_openvino_model(materialize_e5_small())
    assert seen[0]["CPU_RUNTIME_CACHE_CAPACITY"] == OPENVINO_SHAPE_CACHE <= 32
    # padding does not change the vector
    short = embedder.encode_queries(["Wer traf Lawrow?"])
    padded = embedder.encode_queries(["Wer traf Lawrow?", "Wort " * 60])[:1]
    assert float(short[0] @ padded[0]) > 0.999


def test_searching_imports_neither_torch_nor_sentence_transformers(seed_index):
    """The default model runs on OpenVINO alone: importing PyTorch and sentence-transformers
    cost a server about 4 s of its start and 400 MB of its memory."""
    import subprocess
    import sys

    code = (
        "import sys, diploqa\n"
        f"hits = diploqa.load_index({str(seed_index.path)!r}).search('Wer traf Lawrow?', k=3)\n"
        "assert hits and hits[0].text\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') "
        "if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
