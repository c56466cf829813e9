"""``diploqa index --device cuda``: passages embedded by PyTorch on the GPU (bf16/fp16), searched
with the CPU runtime. Without a GPU: one clear error; with one (``-m gpu``), the real thing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import GENEVA_QUESTION, NEW_ARTICLE, copy_seeds

import diploqa
from diploqa import config
from diploqa.build import build
from diploqa.cli import main
from diploqa.config import Settings
from diploqa.errors import DiploqaError


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_device_setting_is_checked(monkeypatch):
    monkeypatch.delenv("DIPLOQA_DEVICE", raising=False)
    assert Settings.from_env().encoder.device == "cpu"
    monkeypatch.setenv("DIPLOQA_DEVICE", "CUDA")
    settings = Settings.from_env()
    assert settings.encoder.device == "cuda"
    assert settings.overridden(device="cpu").encoder.device == "cpu"
    with pytest.raises(ValueError, match="the device must be one of cpu, cuda"):
        settings.overridden(device="tpu")


def test_cuda_without_a_gpu_is_one_clear_line(tmp_path, capsys):
    if _cuda():
        pytest.skip("this machine has a CUDA GPU")
    articles = copy_seeds(tmp_path / "articles")
    assert main(["index", "--articles", str(articles), "--index", str(tmp_path / "index"),
                 "--device", "cuda"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "sees no CUDA GPU" in err and err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "index" / "manifest.json").exists()
    with pytest.raises(DiploqaError, match="sees no CUDA GPU"):
        diploqa.build_index(articles, tmp_path / "index", device="cuda")


@pytest.mark.gpu
def test_gpu_built_index_searches_like_a_cpu_built_one(tmp_path, seed_index, embedder):
    if not _cuda():
        pytest.skip("needs a CUDA GPU")
    articles = copy_seeds(tmp_path / "articles")
    gpu = diploqa.build_index(articles, tmp_path / "gpu", device="cuda")
    assert gpu.manifest.backend.startswith("torch-cuda-")
    assert gpu.encoder.backend == seed_index.encoder.backend  # the search side stays on the CPU
    assert gpu.stored.chunks == seed_index.stored.chunks
    cosines = (gpu.stored.all_vectors() * seed_index.stored.all_vectors()).sum(axis=1)
    assert (
        cosines.min() > 0.99
        and np.abs(np.linalg.norm(gpu.stored.all_vectors(), axis=1) - 1).max() < 1e-4
    )
    loaded = diploqa.load_index(tmp_path / "gpu")  # the manifest accepts the pairing
    for question in ("Who did Kerry meet in Sochi?", "Was sagte Lawrow über Syrien?"):
        assert loaded.search(question, k=1)[0].source == seed_index.search(question, k=1)[0].source
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    before = embedder.passages_encoded
    updated = diploqa.build_index(articles, tmp_path / "gpu")  # on the CPU
    assert embedder.passages_encoded - before == updated.build_report.embedded
    assert not updated.build_report.full_rebuild, updated.build_report.reason  # GPU vectors kept
    assert updated.manifest.backends == sorted({embedder.backend, gpu.manifest.backend})


@pytest.fixture(scope="module")
def gpu_path_encoder():
    """The default encoder with its e5 half on the GPU path's PyTorch bf16 code, run on the
    CPU: vectors of another runtime than the CPU's OpenVINO int8 or f32, made without a GPU."""
    from diploqa.encoders import get_encoder

    return get_encoder(dtype="bf16")


def _rows(index, article_ids: set[str]) -> np.ndarray:
    rows = [i for i, c in enumerate(index.chunks) if c.article_id in article_ids]
    return index.all_vectors()[rows]


def _edit(articles: Path, name: str, sentence: str) -> None:
    path = articles / name
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + sentence + "\n", "utf-8")


@pytest.mark.slow
def test_cpu_and_gpu_path_updates_keep_each_others_vectors(tmp_path, embedder, gpu_path_encoder):
    """Issue #13: a CPU update of an index the GPU path built embeds only new and changed
    articles, and so does a GPU-path update of the mixed index; the manifest records both
    runtimes. The GPU path's bf16 arithmetic runs on the CPU here (no GPU needed)."""
    articles = copy_seeds(tmp_path / "articles")
    names = sorted(p.name for p in articles.iterdir())
    _, gpu_built = build(articles, tmp_path / "index", encoder=gpu_path_encoder)
    assert gpu_built.manifest.backend == gpu_path_encoder.backend == "torch-cpu-bf16"

    _edit(articles, names[0], "Lawrow sprach danach noch mit Journalisten.")
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    before = embedder.passages_encoded
    index = diploqa.build_index(articles, tmp_path / "index")  # the CPU runtime
    report = index.build_report
    assert not report.full_rebuild, report.reason
    assert (report.updated, report.added) == ([names[0]], ["005_genf.txt"])
    fresh = {names[0], "005_genf.txt"}
    n_fresh = sum(c.article_id in fresh for c in index.stored.chunks)
    assert embedder.passages_encoded - before == report.embedded == n_fresh > 0
    kept = set(names[1:])
    assert np.array_equal(_rows(index.stored, kept), _rows(gpu_built, kept))  # bf16 vectors
    assert index.manifest.backend == embedder.backend  # the runtime auto picks for this CPU
    assert index.manifest.backends == sorted([embedder.backend, "torch-cpu-bf16"])
    assert index.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"
    assert diploqa.load_index(tmp_path / "index").search(GENEVA_QUESTION, k=1)[0].source == (
        "005_genf.txt"
    )

    _edit(articles, names[1], "Kerry reiste am Abend weiter.")  # now a GPU-path update
    before = gpu_path_encoder.passages_encoded
    report, mixed = build(articles, tmp_path / "index", encoder=gpu_path_encoder)
    assert not report.full_rebuild, report.reason
    assert report.updated == [names[1]]
    n_fresh = sum(c.article_id == names[1] for c in mixed.chunks)
    assert gpu_path_encoder.passages_encoded - before == report.embedded == n_fresh > 0
    assert mixed.manifest.backends == sorted([embedder.backend, "torch-cpu-bf16"])

    other = replace(mixed.manifest, model="intfloat/multilingual-e5-base")  # another model
    assert "model changed" in other.reusable_for(index.encoder, config.ChunkingConfig())


def test_a_build_hands_the_encoder_slices_of_its_own_batches():
    """The GPU embeds 256 passages per batch (config.GPU_BATCH_SIZE): a build must not cut
    them into the CPU's slices of 128."""
    from deterministic_encoder import DeterministicEncoder

    from diploqa.build import embed_passages

    calls: list[int] = []

    class Recording(DeterministicEncoder):
        def encode_passages(self, passages, show_progress=False):
            calls.append(len(passages))
            return super().encode_passages(passages, show_progress)

    gpu_like = Recording()
    gpu_like.batch_size = config.GPU_BATCH_SIZE
    passages = [f"Absatz {i} " + "Wort " * (i % 50) for i in range(1500)]
    vectors = embed_passages(gpu_like, passages, None)
    assert calls == [1024, 476]
    assert np.array_equal(vectors, DeterministicEncoder().encode_passages(passages))
    calls.clear()
    embed_passages(Recording(), passages[:300], None)  # the CPU's 16 per batch: slices of 128
    assert calls == [128, 128, 44]
