"""The build pipeline (diploqa.build): incremental updates, atomic swaps, crashes, manifest
checks, corruption, the encoder runtime and the approximate index above a size threshold."""

from __future__ import annotations

import json
import random
import re
import signal
import weakref
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import GENEVA_QUESTION, NEW_ARTICLE, SEEDS, copy_seeds, run_cli
from deterministic_encoder import DeterministicEncoder

import diploqa
from diploqa import build as build_module
from diploqa.build import build
from diploqa.config import ChunkingConfig, Settings, VectorSettings
from diploqa.errors import ArticlesError, IndexCorruptError, IndexMismatchError, SettingsError
from diploqa.store.vectors import HNSW_EF_SEARCH_BY_SIZE

#: The search breadth of a graph of fewer vectors than the first size of the rule.
SMALL_GRAPH_EF = HNSW_EF_SEARCH_BY_SIZE[0][1]


@pytest.fixture()
def workdir(tmp_path) -> tuple[Path, Path]:
    articles = copy_seeds(tmp_path / "articles")
    return articles, tmp_path / "index"


def n_chunks(index: diploqa.Index, source: str) -> int:
    return stored_chunks(index.stored, source)


def stored_chunks(stored, source: str) -> int:
    return sum(1 for c in stored.chunks if c.article_id == source)


# Adding, changing and deleting articles: tests/test_stores.py, for the FAISS folder and Milvus.


def test_rebuild_reembeds_everything(built, embedder):
    articles, index_dir = built
    first = diploqa.load_index(index_dir)
    before = embedder.passages_encoded
    rebuilt = diploqa.build_index(articles, index_dir, rebuild=True)
    assert rebuilt.build_report.full_rebuild
    assert embedder.passages_encoded - before == len(first.stored.chunks)


def test_incremental_vectors_equal_a_fresh_build(built, tmp_path):
    articles, index_dir = built
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    incremental = diploqa.build_index(articles, index_dir)
    fresh = diploqa.build_index(articles, tmp_path / "fresh")
    assert incremental.stored.chunks == fresh.stored.chunks
    a, b = incremental.stored.all_vectors(), fresh.stored.all_vectors()
    # bf16 inference (OpenVINO) rounds slightly differently in differently padded batches.
    assert (a * b).sum(axis=1).min() > 0.9999


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault", ["while-embedding", "before-write", "after-vectors", "before-swap"]
)
def test_killed_build_leaves_previous_index_answering(built, fault):
    articles, index_dir = built
    old = diploqa.load_index(index_dir)
    expected = [(h.source, h.start) for h in old.search("Who did Kerry meet in Sochi?", k=5)]
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")

    result = run_cli("index", "--articles", str(articles), "--index", str(index_dir),
                  env={"DIPLOQA_FAULT": fault})  # fmt: skip
    assert result.returncode == -signal.SIGKILL, result.stderr

    survivor = diploqa.load_index(index_dir)
    assert len(survivor.articles) == 5
    assert [(h.source, h.start) for h in survivor.search("Who did Kerry meet in Sochi?", k=5)] == (
        expected
    )

    recovered = diploqa.build_index(articles, index_dir)
    assert recovered.build_report.added == ["005_genf.txt"]
    assert recovered.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"
    generations = sorted(p.name for p in index_dir.glob("gen-*"))
    assert len(generations) <= 2  # crashed builds' folders are cleaned up


def _edit_manifest(index_dir: Path, **changes) -> None:
    path = index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": "intfloat/multilingual-e5-base"}, "built with model"),
        ({"dimension": 768}, "dimension 768"),
        ({"format_version": 999}, "format 999"),
    ],
)
def test_manifest_mismatch_is_a_clear_error(built, changes, message):
    articles, index_dir = built
    _edit_manifest(index_dir, **changes)
    with pytest.raises(IndexMismatchError, match=message) as err:
        diploqa.load_index(index_dir, model="multilingual-e5-small")
    assert "--rebuild" in str(err.value)
    # the fix works (a build's mechanics: the deterministic encoder; the real model's
    # rebuild is test_rebuild_reembeds_everything)
    encoder = DeterministicEncoder()
    report, stored = build(articles, index_dir, rebuild=True, encoder=encoder)
    assert report.full_rebuild and diploqa.Index(stored, encoder).search("Sotschi", k=1)


def test_model_change_triggers_full_rebuild_not_mixed_vectors(workdir):
    articles, index_dir = workdir  # manifest bookkeeping: the deterministic encoder
    build(articles, index_dir, encoder=DeterministicEncoder())
    _edit_manifest(index_dir, model="some-other-model")
    report, _ = build(articles, index_dir, encoder=DeterministicEncoder())
    assert report.full_rebuild
    assert "model changed" in report.reason


def test_an_index_keeps_its_passage_sizes_until_others_are_named(workdir):
    """Passage sizes belong to the index: an update, --rebuild and a change of model keep
    those its manifest records (a server's updates, or a later default, never re-embed an
    index cut otherwise); naming other sizes re-embeds every article with them."""
    articles, index_dir = workdir
    short = ChunkingConfig(chunk_tokens=96, overlap_tokens=24)
    encoder = DeterministicEncoder()
    build(articles, index_dir, encoder=encoder, chunking=short)
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    before = encoder.passages_encoded
    report, stored = build(articles, index_dir, encoder=encoder)  # no sizes named
    assert not report.full_rebuild and report.added == ["005_genf.txt"]
    assert stored.manifest.chunking == short.as_dict()
    assert encoder.passages_encoded - before == stored_chunks(stored, "005_genf.txt")

    report, stored = build(articles, index_dir, encoder=encoder, rebuild=True)
    assert report.full_rebuild and stored.manifest.chunking == short.as_dict()
    _edit_manifest(index_dir, model="some-other-model")
    report, stored = build(articles, index_dir, encoder=encoder)
    assert "model changed" in report.reason and stored.manifest.chunking == short.as_dict()

    report, stored = build(articles, index_dir, encoder=encoder, chunking=ChunkingConfig())
    assert report.full_rebuild and report.reason == "chunking parameters changed"
    assert stored.manifest.chunking == ChunkingConfig().as_dict()


@pytest.mark.parametrize("rebuild", [True, False])
@pytest.mark.parametrize(("damaged", "kept"), [("manifest.json", False), ("metadata.json", True)])
def test_a_damaged_index_is_rebuilt_with_its_passages_where_its_manifest_says(
    workdir, damaged, kept, rebuild
):
    """An index whose manifest reads keeps its passage sizes through the rebuild that mends
    it; one whose manifest does not gets the default (nothing else says what it was)."""
    articles, index_dir = workdir
    short = ChunkingConfig(96, 24)
    build(articles, index_dir, encoder=DeterministicEncoder(), chunking=short)
    generation = json.loads((index_dir / "manifest.json").read_text())["generation"]
    folder = index_dir if damaged == "manifest.json" else index_dir / generation
    (folder / damaged).write_text("{not json", encoding="utf-8")
    report, stored = build(articles, index_dir, encoder=DeterministicEncoder(), rebuild=rebuild)
    assert report.full_rebuild
    assert stored.manifest.chunking == (short if kept else ChunkingConfig()).as_dict()


@pytest.mark.parametrize(
    ("chunking", "expected"),
    [
        ({"chunk_tokens": 96, "overlap_tokens": 24, "section_tokens": 400}, (96, 24, 400)),
        ({"chunk_tokens": 96, "overlap_tokens": 24}, (96, 24, 400)),  # an older record
        ({"chunk_tokens": 96, "overlap_tokens": 24, "future": 1}, None),  # a newer one
        ({"chunk_tokens": "96", "overlap_tokens": 24, "section_tokens": 400}, None),
        ({"chunk_tokens": 4, "overlap_tokens": 0, "section_tokens": 400}, None),
    ],
)
def test_recorded_chunking(chunking, expected):
    got = build_module.recorded_chunking(chunking)
    assert got == (ChunkingConfig(*expected) if expected else ChunkingConfig())


def test_passage_sizes_a_build_cannot_cut_with_are_refused_before_anything_is_written(workdir):
    articles, index_dir = workdir
    with pytest.raises(SettingsError, match="may overlap by 0 to 48, not 60"):
        build(articles, index_dir, encoder=DeterministicEncoder(), chunking=ChunkingConfig(96, 60))
    assert not index_dir.exists()


@pytest.mark.parametrize(
    ("damage", "names"),
    [
        ("truncate-faiss", "index.faiss"),
        ("delete-metadata", "metadata.json"),
        ("garble-metadata", "metadata.json"),
        ("garble-manifest", "manifest.json"),
        ("delete-manifest", "manifest.json"),
    ],
)
def test_corrupt_index_is_named_and_rebuild_recovers(built, damage, names):
    articles, index_dir = built
    gen = index_dir / diploqa.load_index(index_dir).manifest.generation
    if damage == "truncate-faiss":
        data = (gen / "index.faiss").read_bytes()
        (gen / "index.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "delete-metadata":
        (gen / "metadata.json").unlink()
    elif damage == "garble-metadata":
        (gen / "metadata.json").write_text('{"articles": [', encoding="utf-8")
    elif damage == "garble-manifest":
        (index_dir / "manifest.json").write_text("{not json", encoding="utf-8")
    else:
        (index_dir / "manifest.json").unlink()
    with pytest.raises(IndexCorruptError, match=names.replace(".", r"\.")) as err:
        diploqa.load_index(index_dir)
    assert "diploqa index" in str(err.value)
    recovered = diploqa.build_index(articles, index_dir)
    assert recovered.build_report.full_rebuild
    assert recovered.search("Wer traf Lawrow in Sotschi?", k=3)


def test_missing_or_empty_articles_folder(tmp_path):
    with pytest.raises(ArticlesError, match="not found"):
        diploqa.build_index(tmp_path / "nope", tmp_path / "index")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArticlesError, match=r"No article files \(\.txt, \.md, \.html"):
        diploqa.build_index(tmp_path / "empty", tmp_path / "index")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("   \n", encoding="utf-8")
    with pytest.raises(ArticlesError, match="no readable article"):
        diploqa.build_index(tmp_path / "junk", tmp_path / "index")
    assert not (tmp_path / "index" / "manifest.json").exists()


def test_bad_articles_are_skipped_and_the_rest_indexed(workdir):
    articles, index_dir = workdir
    (articles / "bild.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (articles / "leer.md").write_text("", encoding="utf-8")
    report, stored = build(articles, index_dir, encoder=DeterministicEncoder())  # bookkeeping
    assert {s.path for s in report.skipped} == {"bild.txt", "leer.md"}
    assert len(stored.articles) == 5


def test_index_path_that_is_a_file(tmp_path, seed_copy):
    (tmp_path / "index").write_text("x", encoding="utf-8")
    with pytest.raises(diploqa.DiploqaError, match="not a folder"):
        diploqa.build_index(seed_copy, tmp_path / "index")


def test_unchanged_files_are_not_cleaned_again(built, monkeypatch):
    """An update takes unchanged articles from the index by their bytes' hash: only the
    changed file is decoded and cleaned (cleaning was most of an update's time)."""
    articles, index_dir = built
    parsed: list[str] = []
    real_parse = diploqa.articles.readers.parse_article

    def spy(raw: str, article_id: str):
        parsed.append(article_id)
        return real_parse(raw, article_id)

    monkeypatch.setattr(diploqa.articles.readers, "parse_article", spy)
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    added = diploqa.build_index(articles, index_dir)
    assert parsed == ["005_genf.txt"]
    assert added.article("005_genf.txt").source_hash

    # Same bytes under a cleaning rule change: everything is cleaned again, nothing re-embedded
    # when the cleaned text is the same.
    parsed.clear()
    cleaning_version = diploqa.articles.article.CLEANING_VERSION
    monkeypatch.setattr(diploqa.articles.article, "CLEANING_VERSION", cleaning_version + 1)
    again = diploqa.build_index(articles, index_dir)
    assert len(parsed) == 6 and not again.build_report.changed

    # A touched file whose bytes did not change is not re-read as new; an edited one is.
    parsed.clear()
    path = articles / "001_50e04ee83bc37b66.txt"
    path.write_bytes(path.read_bytes())
    monkeypatch.undo()
    monkeypatch.setattr(diploqa.articles.readers, "parse_article", spy)
    same = diploqa.build_index(articles, index_dir)
    assert not same.build_report.changed
    path.write_text(path.read_text(encoding="utf-8") + "\nEin neuer Satz am Ende.\n", "utf-8")
    parsed.clear()
    edited = diploqa.build_index(articles, index_dir)
    assert parsed == ["001_50e04ee83bc37b66.txt"]
    assert edited.build_report.updated == ["001_50e04ee83bc37b66.txt"]
    assert edited.article("001_50e04ee83bc37b66.txt").text.endswith("Ein neuer Satz am Ende.")


def test_built_index_equals_the_loaded_one(built):
    """build_index hands over the generation it wrote without reading it back: it must be
    exactly what load_index reads from disk."""
    articles, index_dir = built
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    built_index = diploqa.build_index(articles, index_dir)
    loaded = diploqa.load_index(index_dir)
    assert built_index.stored.manifest == loaded.stored.manifest
    assert built_index.stored.articles == loaded.stored.articles
    assert built_index.stored.chunks == loaded.stored.chunks
    assert (built_index.stored.all_vectors() == loaded.stored.all_vectors()).all()
    question = GENEVA_QUESTION
    assert built_index.search(question, k=3) == loaded.search(question, k=3)


@pytest.mark.slow
def test_backend_change_rebuilds_fully_and_is_recorded(workdir):
    """A runtime outside the old one's group (PyTorch fp32, then OpenVINO int8) re-embeds
    everything (manifest bookkeeping: the deterministic encoder under the two runtimes' names;
    the real runtimes' names are checked in tests/encoders, the interchangeable pair below)."""
    articles, index_dir = workdir
    first, stored = build(articles, index_dir, encoder=DeterministicEncoder(backend="torch-fp32"))
    assert stored.manifest.backend == "torch-fp32" and first.embedded > 0
    report, stored = build(
        articles, index_dir, encoder=DeterministicEncoder(backend="openvino-int8")
    )
    assert report.full_rebuild and "backend changed from torch-fp32" in report.reason
    assert stored.manifest.backend == "openvino-int8" and stored.manifest.backends == [
        "openvino-int8"
    ]
    assert report.embedded == first.embedded  # everything, once more


def test_old_manifest_without_backend_counts_as_pytorch(workdir):
    articles, index_dir = workdir  # manifest bookkeeping: the deterministic encoder
    build(articles, index_dir, encoder=DeterministicEncoder())
    manifest = json.loads((index_dir / "manifest.json").read_text())
    del manifest["backend"], manifest["backends"]  # written before either was recorded
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    report, _ = build(articles, index_dir, encoder=DeterministicEncoder())
    assert report.full_rebuild and "from torch-fp32" in report.reason


def test_ann_index_above_threshold_with_incremental_updates(built, monkeypatch, embedder):
    articles, index_dir = built
    exact = diploqa.load_index(index_dir)
    assert exact.manifest.index_type == "flat-ip"
    n = len(exact)
    monkeypatch.setenv("DIPLOQA_ANN_THRESHOLD", "10")
    # Crossing the threshold rebuilds the vector index from the stored vectors: no re-embedding.
    before = embedder.passages_encoded
    first = articles / sorted(p.name for p in articles.iterdir())[0]
    # a near copy (an exact one would be skipped as a duplicate)
    (articles / "zz.txt").write_text(first.read_text(encoding="utf-8") + "\nNachtrag.\n", "utf-8")
    ann = diploqa.build_index(articles, index_dir)
    assert ann.manifest.index_type.startswith("hnsw")
    assert isinstance(ann.stored.vectors.index, faiss.IndexHNSWSQ)  # 16-bit floats
    assert ann.stored.vectors.index.hnsw.efSearch == SMALL_GRAPH_EF  # auto, by its size
    report = ann.build_report
    assert report.added == ["zz.txt"] and not report.full_rebuild
    assert embedder.passages_encoded - before == report.embedded < len(ann) - n + 5
    old_rows = [i for i, c in enumerate(ann.stored.chunks) if c.article_id != "zz.txt"]
    # the stored vectors, rounded to the nearest 16-bit float (half a unit in the last bit)
    kept = ann.stored.all_vectors()[old_rows]
    assert np.allclose(kept, exact.stored.all_vectors(), rtol=2.0**-11, atol=1e-6)

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
    assert updated.manifest.index_type.startswith("hnsw")
    assert updated.search("Wo trafen sich Lawrow und Blinken?", k=1)[0].source == "005_genf.txt"
    # copied into the new generation unchanged: 16-bit vectors do not drift from update to update
    unchanged = [i for i, c in enumerate(updated.stored.chunks) if c.article_id != "005_genf.txt"]
    assert np.array_equal(updated.stored.all_vectors()[unchanged], ann.stored.all_vectors())

    # Reloading restores the search breadth; dropping below the threshold returns to exact.
    reloaded = diploqa.load_index(index_dir).stored.vectors.index
    assert reloaded.hnsw.efSearch == SMALL_GRAPH_EF
    monkeypatch.delenv("DIPLOQA_ANN_THRESHOLD")
    (articles / "zz.txt").unlink()
    flat = diploqa.build_index(articles, index_dir)
    assert flat.manifest.index_type == "flat-ip"
    assert isinstance(flat.stored.vectors.index, faiss.IndexFlatIP)


def _assembled_by_reading_all_back(articles, kept, old, fresh, fresh_vectors) -> np.ndarray:
    """The vectors as ``_assemble`` made them before it copied kept ones block by block: every
    old vector read back at once, each article's rows sliced out and the slices stacked."""
    old_vectors, old_rows, fresh_rows = old.all_vectors(), {}, {}
    for i, c in enumerate(old.chunks):
        old_rows.setdefault(c.article_id, []).append(i)
    for i, c in enumerate(fresh):
        fresh_rows.setdefault(c.article_id, []).append(i)
    parts = [np.zeros((0, fresh_vectors.shape[1]), np.float32)]
    for article in articles:
        if article.id in kept:
            parts.append(old_vectors[old_rows.get(kept[article.id], [])])
        else:
            parts.append(fresh_vectors[fresh_rows.get(article.id, [])])
    return np.vstack(parts)


@pytest.mark.parametrize("threshold", [1, 10**6], ids=["hnsw-fp16", "exact"])
def test_an_update_assembles_the_vectors_reading_all_back_did(tmp_path, monkeypatch, threshold):
    """Kept, moved, changed and new articles' vectors are the same, bit for bit, as when every
    old vector was read back first (bookkeeping: the deterministic encoder)."""
    articles, index_dir = copy_seeds(tmp_path / "articles"), tmp_path / "index"
    settings = Settings(vectors=VectorSettings(ann_threshold=threshold))
    encoder = DeterministicEncoder()
    _, first = build(articles, index_dir, encoder=encoder, settings=settings)
    names = sorted(p.name for p in articles.glob("*.txt"))
    (articles / names[0]).write_text(NEW_ARTICLE, encoding="utf-8")  # changed
    (articles / names[1]).rename(articles / "zz_renamed.txt")  # moved: its vectors follow
    (articles / names[2]).unlink()  # removed
    (articles / "aa_new.txt").write_text(NEW_ARTICLE + "\nNachtrag.\n", encoding="utf-8")
    original, calls = build_module._assemble, []

    def assemble(*args):
        calls.append((args, original(*args, block=2), original(*args)))  # blocks of 2, default
        return calls[-1][2]

    monkeypatch.setattr(build_module, "_assemble", assemble)
    report, stored = build(articles, index_dir, encoder=encoder, settings=settings)
    assert (report.added, report.updated) == (["aa_new.txt", "zz_renamed.txt"], [names[0]])
    assert report.removed == sorted(names[1:3]) and len(report.unchanged) == 2
    [(args, (chunks, vectors, origin), used)] = calls
    expected = _assembled_by_reading_all_back(*args)
    assert vectors.dtype == np.float32 and np.array_equal(vectors, expected)
    assert np.array_equal(used[1], expected) and np.array_equal(used[2], origin)
    assert chunks == used[0] == stored.chunks and (origin < 0).sum() == report.embedded > 0
    copied = origin >= 0
    assert copied.sum() > 2  # more than one block of two
    # what the new generation holds: the old generation's vectors, unchanged
    assert np.array_equal(stored.all_vectors()[copied], vectors[copied])
    assert np.array_equal(vectors[copied], first.all_vectors()[origin[copied]])


@pytest.mark.parametrize("store", ["faiss", "milvus-lite"])
def test_the_vectors_are_freed_before_the_metadata_is_written(tmp_path, monkeypatch, store):
    """The embeddings and the float32 array assembled from them are no longer alive once the
    engine holds the vectors (a first build and an update): the metadata and keyword index
    are written without them (issue #29)."""
    from diploqa.store.faiss.location import FolderGeneration
    from diploqa.store.milvus.location import MilvusGeneration

    if store == "milvus-lite":
        pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    address = f"milvus-lite:{tmp_path / 'milvus.db'}" if store == "milvus-lite" else None
    articles, refs, alive = copy_seeds(tmp_path / "articles"), [], []
    embed, assemble = build_module.embed_passages, build_module._assemble

    def embedded(*args):
        vectors = embed(*args)
        refs.append(weakref.ref(vectors))
        return vectors

    def assembled(*args):
        chunks, vectors, origin = assemble(*args)
        refs.append(weakref.ref(vectors))
        return chunks, vectors, origin

    generation = MilvusGeneration if address else FolderGeneration
    write = generation.write_metadata

    def write_metadata(self, pieces):
        alive.append([ref() is not None for ref in refs])
        return write(self, pieces)

    monkeypatch.setattr(build_module, "embed_passages", embedded)
    monkeypatch.setattr(build_module, "_assemble", assembled)
    monkeypatch.setattr(generation, "write_metadata", write_metadata)
    encoder, index_dir = DeterministicEncoder(), tmp_path / "index"
    _, first = build(articles, index_dir, store=address, encoder=encoder, settings=Settings())
    (articles / "aa_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    _, stored = build(articles, index_dir, store=address, encoder=encoder, settings=Settings(),
                      previous=first)  # fmt: skip
    assert alive == [[False, False], [False] * 4]
    assert len(stored.chunks) > len(first.chunks) == len(first.all_vectors())
    stored.location.close()


# --- files of records ----------------------------------------------------------------------
_MINISTERS = ["Lawrow", "Kerry", "Tillerson", "Pompeo", "Blinken", "Steinmeier", "Maas", "Le Drian"]
_CITIES = ["Genf", "Wien", "Helsinki", "Minsk", "Bonn", "Paris", "Lausanne", "Oslo", "Astana"]
_TOPICS = ["die Waffenruhe in Syrien", "den Gefangenenaustausch", "neue Sanktionen",
           "die Abrüstung", "die Lage in der Ostukraine", "das Atomabkommen mit Iran"]  # fmt: skip


#: Words of the seeds: each record adds a few of its own, so that records are distinct
#: stories (otherwise the near-duplicate detection groups all of them as one).
_WORDS = sorted({w for p in SEEDS.iterdir() for w in re.findall(r"[^\W\d_]{5,}", p.read_text())})


def _record(i: int, extra: str = "") -> dict:
    """A short German news record, distinct for every ``i`` (3–4 sentences, one passage)."""
    a, b = _MINISTERS[i % 8], _MINISTERS[(i // 8 + 1 + i) % 8]
    city, topic = _CITIES[i % 9], _TOPICS[i % 6]
    keywords = " ".join(random.Random(i).sample(_WORDS, 25))
    text = (
        f"Außenminister {a} ist in {city} zu Gesprächen mit {b} zusammengekommen. Beide sprachen "
        f"nach Angaben ihrer Sprecher über {topic}. Die nächste Runde ist für den {i % 28 + 1}. "
        f"Tag des Monats geplant, Aktenzeichen {i:05d}. Stichworte: {keywords}.{extra}"
    )
    return {"id": f"m{i:05d}", "title": f"Treffen in {city}, Nummer {i}",
            "date": f"{i % 28 + 1}.{i % 12 + 1}.{2010 + i % 12}", "text": text}  # fmt: skip


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )


def test_records_of_a_big_jsonl_are_embedded_once_changed_and_removed_alone(tmp_path, monkeypatch):
    """2,000 records in one JSON Lines file: an edit re-embeds that record's passages only, and
    re-cleans only it; a deletion embeds nothing and removes its passages. Bookkeeping, so with
    the deterministic encoder; the real model finds an edited record in the test below."""
    encoder = DeterministicEncoder()
    articles, index_dir = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    records = [_record(i) for i in range(2000)]
    _write_jsonl(articles / "export.jsonl", records)
    report, first = build(articles, index_dir, encoder=encoder)
    assert len(report.added) == 2000 and not report.skipped
    assert first.articles["export.jsonl#m00007"].date == "2017-08-08"

    cleaned: list[str] = []
    real = diploqa.articles.records.make_article
    monkeypatch.setattr(
        diploqa.articles.records,
        "make_article",
        lambda i, *a, **kw: cleaned.append(i) or real(i, *a, **kw),
    )
    records[1234] = _record(1234, " Überraschend nahm auch ein Vertreter Chinas teil.")
    _write_jsonl(articles / "export.jsonl", records)
    before = encoder.passages_encoded
    report, edited = build(articles, index_dir, encoder=encoder)
    assert report.updated == ["export.jsonl#m01234"] and len(report.unchanged) == 1999
    assert cleaned == ["export.jsonl#m01234"]
    assert encoder.passages_encoded - before == stored_chunks(edited, "export.jsonl#m01234") > 0
    assert "Vertreter Chinas" in edited.articles["export.jsonl#m01234"].text

    del records[500]
    _write_jsonl(articles / "export.jsonl", records)
    before = encoder.passages_encoded
    report, removed = build(articles, index_dir, encoder=encoder)
    assert report.removed == ["export.jsonl#m00500"]
    assert encoder.passages_encoded == before
    assert stored_chunks(removed, "export.jsonl#m00500") == 0
    assert len(removed.chunks) == len(edited.chunks) - stored_chunks(edited, "export.jsonl#m00500")


def test_an_edited_record_of_a_jsonl_is_found_by_its_new_text(tmp_path, embedder):
    """The user's side of the test above, with the real model: the edited record's new
    passage answers, and a deleted record no longer does."""
    articles, index_dir = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    records = [_record(i) for i in range(60)]
    _write_jsonl(articles / "export.jsonl", records)
    diploqa.build_index(articles, index_dir)
    question = "Wann nahm ein Vertreter Chinas an dem Treffen teil?"
    records[34] = _record(34, " Überraschend nahm auch ein Vertreter Chinas teil.")
    _write_jsonl(articles / "export.jsonl", records)
    before = embedder.passages_encoded
    edited = diploqa.build_index(articles, index_dir)
    assert edited.build_report.updated == ["export.jsonl#m00034"]
    assert embedder.passages_encoded - before == n_chunks(edited, "export.jsonl#m00034") > 0
    assert edited.search(question, k=1)[0].source == "export.jsonl#m00034"

    del records[34]
    _write_jsonl(articles / "export.jsonl", records)
    removed = diploqa.build_index(articles, index_dir)
    assert removed.build_report.removed == ["export.jsonl#m00034"]
    assert all(h.source != "export.jsonl#m00034" for h in removed.search(question, k=50))


def test_records_without_ids_are_not_embedded_again_when_one_is_deleted(tmp_path, embedder):
    """Records without an id field are numbered by position: deleting the first renumbers
    the rest, whose vectors are then found by their content, not embedded again."""
    records = [
        {"title": f"Meldung {i}", "date": "2022-01-2" + str(i), "text": f"{text} ({i})"}
        for i, text in enumerate(
            [
                "Lawrow und Blinken trafen sich in Genf zu Gesprächen über die Ukraine.",
                "Die EU verlängerte die Sanktionen gegen Russland um sechs Monate.",
                "Kerry und Lawrow verhandelten in Lausanne über eine Waffenruhe in Syrien.",
                "Putin und Obama telefonierten über die Lage in Syrien.",
            ]
        )
    ]
    articles = tmp_path / "articles"
    articles.mkdir()
    path = articles / "agentur.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    first = diploqa.build_index(articles, tmp_path / "index")
    assert sorted(first.stored.articles) == [f"agentur.jsonl#{i}" for i in range(1, 5)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[1:]), "utf-8")
    before = embedder.passages_encoded
    after = diploqa.build_index(articles, tmp_path / "index")
    assert embedder.passages_encoded == before and after.build_report.embedded == 0
    assert sorted(after.stored.articles) == [f"agentur.jsonl#{i}" for i in range(1, 4)]
    hit = after.search("Worüber telefonierten Putin und Obama?", k=1)[0]
    assert hit.source == "agentur.jsonl#3" and hit.text.endswith("(3)")


@pytest.mark.parametrize("process", ["fresh", "same"])
def test_an_update_splits_only_the_new_articles_passages(built, monkeypatch, process):
    """An update tokenizes only the new article's passages: the old generation's keyword
    index comes from its files (a fresh process) or from the generation the caller serves
    and hands on (``previous``, nothing read), and is updated, not rebuilt."""
    import diploqa
    from diploqa.lexical import Bm25Index

    articles, index_dir = built
    served = None
    if process == "same":  # the caller hands on the generation it serves
        served = diploqa.load_index(index_dir).warm().stored
        monkeypatch.setattr(Bm25Index, "load", classmethod(lambda *a, **k: pytest.fail("read")))
    old = diploqa.load_index(index_dir)
    old_passages = set(old.stored.passages())
    tokenized = []
    original = Bm25Index.tokenize
    monkeypatch.setattr(
        Bm25Index, "tokenize", lambda self, text: tokenized.append(text) or original(self, text)
    )
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    index = diploqa.build_index(articles, index_dir, previous=served)
    new_passages = set(index.stored.passages()) - old_passages
    assert new_passages and {t for t in tokenized if len(t) > 60} == new_passages
    assert index.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"


def test_a_server_switched_to_openvino_f32_keeps_the_int8_vectors(built):
    """``DIPLOQA_BACKEND=openvino-f32`` (faster on CPUs without VNNI) updates an index built
    with int8 (the default's choice on CPUs with VNNI or AMX) without re-embedding it: the pair
    was measured interchangeable (benchmarks/backend_pairs.py). Both directions on a small
    index, on every CPU: tests/encoders/test_runtime.py."""
    from diploqa.encoders import EnsembleEncoder, get_embedder, get_use

    articles, index_dir = built
    seeds_runtime = json.loads((index_dir / "manifest.json").read_text())["backend"]  # auto's
    f32 = EnsembleEncoder(get_embedder(backend="openvino-f32"), get_use())
    assert f32.backend == "openvino-f32"
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report, stored = build(articles, index_dir, encoder=f32)
    assert not report.full_rebuild and report.added == ["005_genf.txt"]
    assert 0 < report.embedded < report.chunks
    assert stored.manifest.backends == sorted({"openvino-f32", seeds_runtime})
    index = diploqa.Index(stored, f32)
    assert index.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"


def test_an_index_without_current_keyword_files_gets_them_at_its_next_build(built):
    """An index written before the keyword files (or with an older format of them) builds
    its keyword index at load; the next build writes the current files even with no article
    changed, embedding nothing."""
    from diploqa.lexical import KEYWORDS_FILE

    articles, index_dir = built
    manifest = index_dir / "manifest.json"
    data = json.loads(manifest.read_text())
    data["files"] = {n: h for n, h in data["files"].items() if not n.startswith("keywords.")}
    manifest.write_text(json.dumps(data))
    assert diploqa.load_index(index_dir).stored.lacks_keywords
    index = diploqa.build_index(articles, index_dir)
    assert index.build_report.embedded == 0 and not index.build_report.changed
    assert KEYWORDS_FILE in index.manifest.files and not index.stored.lacks_keywords
    again = diploqa.build_index(articles, index_dir)  # now nothing to write
    assert again.manifest.generation == index.manifest.generation
