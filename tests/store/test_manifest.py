"""The manifest: one typed value read once, and the two compatibility rules."""

from __future__ import annotations

import json

import pytest
from deterministic_encoder import DeterministicEncoder

from diploqa import config
from diploqa.errors import IndexCorruptError, IndexMismatchError
from diploqa.store import MANIFEST, Manifest
from diploqa.store.faiss.folder import FILES
from diploqa.store.manifest import backends_after_build, interchangeable, read_manifest


def _manifest(**changes) -> Manifest:
    values = dict(
        format_version=config.INDEX_FORMAT_VERSION,
        generation="gen-000003",
        model="test-hash",
        backend="numpy",
        dimension=16,
        index_type="flat-ip",
        chunking=config.ChunkingConfig().as_dict(),
        articles={"a.txt": "h1"},
        n_chunks=4,
        files={name: "0" * 64 for name in FILES},
        created="2026-11-29T00:00:00+00:00",
    )
    return Manifest(**{**values, **changes})


def test_round_trip_keeps_every_key_and_unknown_ones(tmp_path):
    manifest = _manifest()
    data = {**manifest.as_dict(), "written_by": "a newer diploqa"}
    (tmp_path / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    read = read_manifest(tmp_path, FILES)
    assert read == manifest
    assert read.as_dict() == data  # the unknown key survives a rewrite
    assert list(manifest.as_dict())[:4] == ["format_version", "generation", "model", "backend"]


def test_the_runtimes_of_a_mixed_index_round_trip_and_older_manifests_stay_as_they_were(tmp_path):
    mixed = _manifest(backend="openvino-int8", backends=["openvino-int8", "torch-cuda-bf16"])
    (tmp_path / MANIFEST).write_bytes(mixed.to_json())
    read = read_manifest(tmp_path, FILES)
    assert read == mixed and read.runtimes == {"openvino-int8", "torch-cuda-bf16"}
    assert list(read.as_dict())[3:5] == ["backend", "backends"]
    older = _manifest(backend="openvino-int8")  # written before backends was recorded
    assert "backends" not in older.as_dict() and older.runtimes == {"openvino-int8"}


def test_an_old_manifest_without_backend_or_counts_reads_as_pytorch(tmp_path):
    data = _manifest().as_dict()
    for key in ("backend", "n_chunks", "index_type", "created"):
        del data[key]
    (tmp_path / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    read = read_manifest(tmp_path)
    assert read.backend == "torch-fp32" and read.n_chunks is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dimension": "16"}, "dimension"),
        ({"dimension": True}, "dimension"),
        ({"generation": "../etc"}, "generation"),
        ({"files": {"index.faiss": "x"}}, "files"),
        ({"articles": ["a.txt"]}, "articles"),
        ({"chunking": 3}, "chunking"),
        ({"n_chunks": -1}, "n_chunks"),
        ({"backend": 3}, "backend"),
        ({"backends": "openvino-int8"}, "backends"),
        ({"backends": [1]}, "backends"),
    ],
)
def test_malformed_fields_are_named(tmp_path, changes, message):
    data = {**_manifest().as_dict(), **changes}
    (tmp_path / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=message):
        read_manifest(tmp_path, FILES)


def test_another_format_version_asks_for_a_rebuild(tmp_path):
    data = {**_manifest().as_dict(), "format_version": 999}
    (tmp_path / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        read_manifest(tmp_path)


def test_compatibility_rules():
    manifest = _manifest()
    chunking = config.ChunkingConfig()
    same = DeterministicEncoder(dim=16)
    assert manifest.compatible_with(same) is None
    assert manifest.reusable_for(same, chunking) is None

    other_runtime = DeterministicEncoder(dim=16, backend="openvino-int8")
    assert manifest.compatible_with(other_runtime) is None  # may search …
    assert "backend changed" in manifest.reusable_for(other_runtime, chunking)  # … not mix

    assert "chunking" in manifest.reusable_for(same, config.ChunkingConfig(chunk_tokens=80))
    for other in (DeterministicEncoder(dim=8), DeterministicEncoder(model_id="x")):
        assert "built with model" in manifest.compatible_with(other)
        assert "model changed" in manifest.reusable_for(other, chunking)
        with pytest.raises(IndexMismatchError, match=r"--rebuild` --model (x|test-hash)$"):
            manifest.check_compatible(other, "index")


def test_for_build_records_what_both_stores_commit(tmp_path):
    from diploqa.articles import Article

    encoder = DeterministicEncoder(dim=16, model_id="test-hash", backend="numpy")
    article = Article("a.txt", "T", "Text", None, None, None, content_hash="h9")
    files = {name: "0" * 64 for name in FILES}
    chunking = config.ChunkingConfig()
    made = Manifest.for_build(encoder, chunking, [article], 4, "gen-000003", "flat-ip", files,
                              extra={"store": "milvus"})  # fmt: skip
    assert made == _manifest(articles={"a.txt": "h9"}, created=made.created, backends=["numpy"])
    assert made.created and made.as_dict()["store"] == "milvus"
    (tmp_path / MANIFEST).write_bytes(made.to_json())
    assert read_manifest(tmp_path, FILES).as_dict() == made.as_dict()


def test_gpu_and_cpu_runtimes_of_the_default_model_share_an_index_other_runtimes_do_not():
    """The pairing measured in docs/benchmarks.md (issue #13), defined once in the manifest."""
    chunking = config.ChunkingConfig()
    gpu_built = _manifest(backend="torch-cuda-bf16", backends=["torch-cuda-bf16"])
    cpu_built = _manifest(backend="openvino-int8")
    cpu, gpu = (DeterministicEncoder(backend=b) for b in ("openvino-int8", "torch-cuda-bf16"))
    assert gpu_built.reusable_for(cpu, chunking) is None  # a CPU update keeps GPU vectors
    assert cpu_built.reusable_for(gpu, chunking) is None  # and the reverse
    fp16 = DeterministicEncoder(backend="torch-cuda-fp16")  # GPUs without bf16
    assert cpu_built.reusable_for(fp16, chunking) is None
    pytorch_fp32 = DeterministicEncoder(backend="torch-fp32")  # other models' CPU runtime
    assert "backend changed from torch-cuda-bf16" in gpu_built.reusable_for(pytorch_fp32, chunking)
    f32 = DeterministicEncoder(backend="openvino-f32")  # faster without VNNI (measured pair)
    assert cpu_built.reusable_for(f32, chunking) is None
    assert _manifest(backend="openvino-f32").reusable_for(cpu, chunking) is None
    assert not interchangeable({"openvino-int8", "torch-fp32"})
    assert not interchangeable({"openvino-int8", "openvino-bf16"})
    assert interchangeable({"torch-fp32"})
    other_model = DeterministicEncoder(model_id="x", backend="openvino-int8")
    assert "model changed" in gpu_built.reusable_for(other_model, chunking)
    with pytest.raises(IndexMismatchError, match="built with model 'test-hash'"):
        gpu_built.check_compatible(other_model, "index")


def test_a_build_records_every_runtime_whose_vectors_it_keeps():
    gpu_built = _manifest(backend="torch-cuda-bf16", backends=["torch-cuda-bf16"])
    cpu = DeterministicEncoder(backend="openvino-int8")
    assert backends_after_build(gpu_built, cpu, kept_vectors=True) == [
        "openvino-int8",
        "torch-cuda-bf16",
    ]
    assert backends_after_build(gpu_built, cpu, kept_vectors=False) == ["openvino-int8"]
    assert backends_after_build(None, cpu, kept_vectors=False) == ["openvino-int8"]
    older = _manifest(backend="openvino-int8")
    assert backends_after_build(older, cpu, kept_vectors=True) == ["openvino-int8"]
