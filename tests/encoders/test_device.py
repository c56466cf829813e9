"""``diploqa index --device cuda``: passages embedded by PyTorch on the GPU (bf16/fp16), searched
with the CPU runtime. Without a GPU: one clear error; with one (``-m gpu``), the real thing."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import copy_seeds, run_cli

import diploqa
from diploqa import config
from diploqa.errors import DiploqaError


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_device_setting_is_checked(monkeypatch):
    monkeypatch.delenv("DIPLOQA_DEVICE", raising=False)
    assert config.device() == "cpu"
    monkeypatch.setenv("DIPLOQA_DEVICE", "CUDA")
    assert config.device() == "cuda" and config.device("cpu") == "cpu"
    with pytest.raises(ValueError, match="the device must be one of cpu, cuda"):
        config.device("tpu")


def test_cuda_without_a_gpu_is_one_clear_line(tmp_path):
    if _cuda():
        pytest.skip("this machine has a CUDA GPU")
    articles = copy_seeds(tmp_path / "articles")
    result = run_cli("index", "--articles", str(articles), "--index", str(tmp_path / "index"),
                     "--device", "cuda")  # fmt: skip
    assert result.returncode == 1
    assert "sees no CUDA GPU" in result.stderr and "Traceback" not in result.stderr
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
