"""The manifest: one typed value read once, and the two compatibility rules."""

from __future__ import annotations

import json

import pytest
from deterministic_encoder import DeterministicEncoder

from diploqa import config
from diploqa.errors import IndexCorruptError, IndexMismatchError
from diploqa.store import FILES, MANIFEST, Manifest, read_manifest


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
    assert made == _manifest(articles={"a.txt": "h9"}, created=made.created)
    assert made.created and made.as_dict()["store"] == "milvus"
    (tmp_path / MANIFEST).write_bytes(made.to_json())
    assert read_manifest(tmp_path, FILES).as_dict() == made.as_dict()
