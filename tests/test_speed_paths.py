"""The fast paths of issue 5 as the index sees them: the backend recorded in the manifest, the
approximate (HNSW) index above a size threshold, and searching without PyTorch. The OpenVINO
encoder itself, its one-time export and int8 quantisation: ``tests/encoders/test_openvino.py``.
Timing targets are not tested here; their numbers come from ``benchmarks/speed.py``
(docs/benchmarks.md)."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest
from conftest import copy_seeds

import diploqa
from diploqa import config

NEW_ARTICLE = """title: Lawrow und Blinken in Genf
date: 2022-01-21

Der russische Außenminister Sergej Lawrow und US-Außenminister Antony Blinken haben sich in Genf
zu Gesprächen über die Ukraine getroffen. Eine Einigung gab es nicht.
"""


def test_backend_setting_is_checked(monkeypatch):
    monkeypatch.setenv("DIPLOQA_BACKEND", "Torch")
    assert config.backend() == "torch"
    monkeypatch.setenv("DIPLOQA_BACKEND", "tensorrt")
    with pytest.raises(ValueError, match="DIPLOQA_BACKEND"):
        config.backend()


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


def test_searching_imports_neither_torch_nor_sentence_transformers(seed_index):
    """The default model runs on OpenVINO alone: importing PyTorch and sentence-transformers
    costs a server seconds of its start and hundreds of MB of its memory (docs/benchmarks.md)."""
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
