"""Build, update, search, filters and faults against both stores: the FAISS folder and Milvus
(Milvus Lite, the real engine in-process, and a Milvus 2.3 standalone server with
authorization). The ``store`` fixture (conftest.py) runs each test once per store;
tests/store/test_contract.py checks the vector stores alone."""

from __future__ import annotations

import json
import signal

import pytest
from conftest import (
    GENEVA_QUESTION,
    NEW_ARTICLE,
    close_stores,
    copy_seeds,
    free_port,
    run_cli,
    stop_milvus_lite,
    store_location,
)
from deterministic_encoder import DeterministicEncoder

import diploqa
from diploqa import config
from diploqa.build import build
from diploqa.cli import main
from diploqa.errors import DiploqaError, IndexMismatchError
from diploqa.store import open_location, parse_store

QUESTIONS = ["Who did Kerry meet in Sochi?", "Was sagte Lawrow über Syrien?", GENEVA_QUESTION]


def _release(store: str) -> None:
    """Stop this process's engine of a Milvus Lite file (one process at a time)."""
    if store.startswith("milvus-lite:"):
        stop_milvus_lite(store)


def n_chunks(index: diploqa.Index, source: str) -> int:
    return sum(1 for c in index.stored.chunks if c.article_id == source)


def test_incremental_add_change_delete(store, tmp_path, embedder):
    articles, index_dir = copy_seeds(tmp_path / "articles"), tmp_path / "index"
    first = diploqa.build_index(articles, index_dir, store=store)
    assert first.build_report.full_rebuild and len(first.build_report.added) == 5

    before = embedder.passages_encoded
    again = diploqa.build_index(articles, index_dir, store=store)  # nothing embedded or written
    assert embedder.passages_encoded == before and not again.build_report.changed
    assert len(again.build_report.unchanged) == 5
    assert again.manifest.generation == first.manifest.generation

    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    before = embedder.passages_encoded
    added = diploqa.build_index(articles, index_dir, store=store)
    assert added.build_report.added == ["005_genf.txt"]
    assert embedder.passages_encoded - before == n_chunks(added, "005_genf.txt") > 0
    hit = added.search(GENEVA_QUESTION, k=1)[0]
    assert (hit.source, hit.title, hit.date, hit.outlet) == (
        "005_genf.txt", "Lawrow und Blinken in Genf", "2022-01-21", "Testzeitung"
    )  # fmt: skip
    # the filters, pushed into the engine for Milvus
    assert added.search(GENEVA_QUESTION, k=3, since="2022")[0].source == "005_genf.txt"
    assert [h.source for h in added.search(GENEVA_QUESTION, k=3, outlet="testzeitung")] == [
        "005_genf.txt"
    ] * min(3, n_chunks(added, "005_genf.txt"))
    for glob in ("00[0-4]*", "*_????????????????.txt"):  # rows / a `like` (2.3: rows)
        hits = added.search(GENEVA_QUESTION, k=5, source=glob)
        assert len(hits) == 5 and all(h.source != "005_genf.txt" for h in hits)
    hits = added.search("Lawrow", k=3, source="005_*")  # a prefix: a range of names
    assert [h.source for h in hits] == ["005_genf.txt"] * min(3, n_chunks(added, "005_genf.txt"))

    changed = articles / "003_fa869275608591a9.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\n\nTillerson lobte den Borschtsch.\n", "utf-8"
    )
    before = embedder.passages_encoded
    updated = diploqa.build_index(articles, index_dir, store=store)
    assert updated.build_report.updated == ["003_fa869275608591a9.txt"]
    assert embedder.passages_encoded - before == n_chunks(updated, "003_fa869275608591a9.txt")
    assert any("Borschtsch" in h.text for h in updated.search("Was lobte Tillerson?", k=3))

    (articles / "005_genf.txt").unlink()
    before = embedder.passages_encoded
    removed = diploqa.build_index(articles, index_dir, store=store)
    assert removed.build_report.removed == ["005_genf.txt"]
    assert embedder.passages_encoded == before
    assert all(h.source != "005_genf.txt" for h in removed.search(GENEVA_QUESTION, k=50))
    assert len(removed) == len(updated) - n_chunks(added, "005_genf.txt")
    loaded = diploqa.load_index(index_dir, store=store)
    assert loaded.manifest.generation == removed.manifest.generation
    assert loaded.stored.chunks == removed.stored.chunks


def test_both_stores_rank_alike(tmp_path, seed_copy, seed_index, embedder):
    """The same articles in Milvus Lite give the FAISS index's hits and scores."""
    pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    store = f"milvus-lite:{tmp_path / 'milvus.db'}"
    try:
        milvus = diploqa.build_index(seed_copy, tmp_path / "unused", store=store)
        assert milvus.manifest.index_type == "milvus-flat-ip"
        for question in QUESTIONS:
            for filters in ({}, {"outlet": "zeit"}, {"source": "00[13]_*"}):
                a = seed_index.search(question, k=8, **filters)
                b = milvus.search(question, k=8, **filters)
                assert [(h.source, h.start) for h in a] == [(h.source, h.start) for h in b]
                assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)
    finally:
        _release(store)


# The FAISS folder's killed builds: tests/test_build.py (these faults and two more).
@pytest.mark.slow
@pytest.mark.parametrize("store", ["milvus-lite", "milvus-server"], indirect=True)
def test_killed_builds_leave_previous_index_answering(store, tmp_path, embedder):
    """A build killed after writing its vectors, then one killed just before the alias switch:
    after each the previous index answers as before; the next build adds the article and drops
    what both killed builds left."""
    articles, index_dir = copy_seeds(tmp_path / "articles"), tmp_path / "index"
    old = diploqa.build_index(articles, index_dir, store=store)
    expected = [(h.source, h.start) for h in old.search(QUESTIONS[0], k=5)]
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    close_stores(old)  # its client closed, a Milvus Lite file is free for the build's process

    for fault in ("after-vectors", "before-swap"):
        result = run_cli("index", "--articles", str(articles), "--index", str(index_dir),
                         "--store", store, env={"DIPLOQA_FAULT": fault})  # fmt: skip
        assert result.returncode == -signal.SIGKILL, (fault, result.stderr)

        survivor = diploqa.load_index(index_dir, store=store)
        assert len(survivor.articles) == 5, fault
        assert [(h.source, h.start) for h in survivor.search(QUESTIONS[0], k=5)] == expected
        close_stores(survivor)

    recovered = diploqa.build_index(articles, index_dir, store=store)
    assert recovered.build_report.added == ["005_genf.txt"]
    assert recovered.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"
    # the killed builds' collections are dropped; live and previous stay
    location = store_location(store, index_dir)
    assert sorted(location.generations().values()) == [1, 4]  # the killed ones took 2 and 3
    # and the keyword segments the killed builds sent are deleted with them
    named = {f for i in (old, recovered) for f in i.manifest.files if "seg-" in f}
    assert location.keywords.stored_segments() == named
    location.close()


def test_mismatched_model_is_refused(store, tmp_path):
    articles, index_dir = copy_seeds(tmp_path / "articles"), tmp_path / "index"
    build(articles, index_dir, store=store, encoder=DeterministicEncoder())  # bookkeeping only
    location = store_location(store, index_dir)
    manifest = location.read_manifest().as_dict()
    manifest["model"] = "intfloat/multilingual-e5-base"
    if store == "faiss":
        (index_dir / "manifest.json").write_text(json.dumps(manifest))
    else:
        live = location.live_collection()
        location.client.upsert(
            f"{live}__meta",
            [{"key": "manifest#000000", "data": json.dumps(manifest), "unused": [0.0, 0.0]}],
        )
    with pytest.raises(IndexMismatchError, match="built with model"):
        diploqa.load_index(index_dir, store=store, model=config.DEFAULT_MODEL)


def test_cli_index_and_search_with_store(store, tmp_path, embedder, capsys, monkeypatch):
    """``--store`` and ``DIPLOQA_STORE``, the commands run in this process (``diploqa index
    --store`` runs as a process of its own in the killed-build tests above, and both commands
    in test_unreachable_milvus_is_one_clear_line)."""
    articles, index_dir = copy_seeds(tmp_path / "articles"), tmp_path / "index"
    argv = ["index", "--articles", str(articles), "--index", str(index_dir), "--store", store]
    assert main(argv) == 0
    assert "full build" in capsys.readouterr().out
    monkeypatch.setenv("DIPLOQA_STORE", store)
    assert main(["search", "Wen traf Kerry in Sotschi?", "--index", str(index_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["source"].endswith(".txt")


def test_unreachable_milvus_is_one_clear_line(tmp_path):
    pytest.importorskip("pymilvus", reason="the Milvus store needs pymilvus")
    address = f"milvus://127.0.0.1:{free_port()}/news"
    token = "root:very-secret-password"
    for args in (["search", "Lawrow", "--store", address],
                 ["index", "--articles", "seeds", "--store", address]):  # fmt: skip
        result = run_cli(*args, env={"DIPLOQA_MILVUS_TOKEN": token})
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("error: cannot connect to Milvus at milvus://127.0.0.1:")
        assert "Traceback" not in result.stderr and token not in result.stderr + result.stdout
    with pytest.raises(DiploqaError, match="cannot connect to Milvus"):
        diploqa.load_index(store=address)


def test_bad_store_address_is_a_usage_error(tmp_path):
    result = run_cli("search", "Lawrow", "--store", "mongodb://x")
    assert result.returncode == 1 and "the store must be 'faiss'" in result.stderr
    assert repr(parse_store("milvus://h:1", token="s3cret")).count("s3cret") == 0


def test_collection_dropped_under_a_loaded_index_is_a_clear_error(tmp_path, seed_copy, embedder):
    pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    store = f"milvus-lite:{tmp_path / 'milvus.db'}"
    try:
        index = diploqa.build_index(seed_copy, tmp_path / "unused", store=store)
        location = open_location(None, store)
        location.client.drop_collection(index.stored.vectors.collection)
        with pytest.raises(DiploqaError, match=r"lost part of the index.*diploqa index --rebuild"):
            index.search(QUESTIONS[0])
        rebuilt = diploqa.build_index(seed_copy, tmp_path / "unused", store=store)
        assert rebuilt.search(QUESTIONS[0])
    finally:
        _release(store)


def test_server_holder_picks_up_a_milvus_build_and_reports_a_dropped_collection(
    tmp_path, seed_copy, embedder
):
    pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    pytest.importorskip("gradio", reason="the web UI needs the 'ui' extra")
    from diploqa.app.live import IndexHolder
    from diploqa.app.updater import Updater

    store = f"milvus-lite:{tmp_path / 'milvus.db'}"
    articles = copy_seeds(tmp_path / "articles")
    try:
        holder = IndexHolder(tmp_path / "unused", store=store)
        holder.load(model=False)
        assert holder.latest() is None
        diploqa.build_index(articles, tmp_path / "unused", store=store)
        assert holder.latest() is not None and holder.index.manifest.generation == "gen-000001"
        (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        Updater(holder, articles).update()
        assert holder.index.manifest.generation == "gen-000002"
        assert holder.index.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"

        # the live collection dropped under the running server: one line, no traceback
        from diploqa.app.handlers import answer_html

        holder.location.client.drop_collection(holder.index.stored.vectors.collection)
        page = answer_html(holder, GENEVA_QUESTION)
        assert "lost part of the index" in page and "Traceback" not in page
    finally:
        _release(store)


def test_a_milvus_server_splits_only_what_another_process_changed(tmp_path, embedder, monkeypatch):
    """A server that reloads a generation another process wrote without a keyword index (an
    older diploqa; or one it cannot read) makes its keyword index from the one it served,
    splitting only the new passages."""
    from diploqa.lexical import Bm25Index
    from diploqa.store.milvus.location import MilvusGeneration

    store = f"milvus-lite:{tmp_path / 'shared.db'}"
    articles, index_dir = copy_seeds(tmp_path / "articles"), tmp_path / "index"
    diploqa.build_index(articles, index_dir, store=store)
    served = diploqa.load_index(index_dir, store=store).warm()
    with monkeypatch.context() as other:  # another process's build, of an older diploqa
        other.setattr(MilvusGeneration, "write_keywords", lambda *_: {})
        (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        older = diploqa.build_index(articles, index_dir, store=store)
    assert not [f for f in older.manifest.files if f.startswith("keywords.")]
    tokenized = []
    original = Bm25Index.tokenize
    monkeypatch.setattr(
        Bm25Index, "tokenize", lambda self, text: tokenized.append(text) or original(self, text)
    )
    reloaded = diploqa.load_index(index_dir, store=store, previous=served.stored).warm()
    new_passages = set(reloaded.stored.passages()) - set(served.stored.passages())
    assert new_passages and {t for t in tokenized if len(t) > 60} == new_passages
    assert reloaded.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"
    _release(store)


def _segment_markers(store: str) -> set[str]:
    location = open_location(None, store)
    try:
        return location.keywords.stored_segments()
    finally:
        location.close()


def test_a_milvus_index_keeps_its_keyword_index_in_the_engine(
    tmp_path, embedder, monkeypatch, caplog
):
    """A server that loads a Milvus index reads the keyword index stored with it instead of
    splitting every passage; an update sends only its new segment, and segments no kept
    generation names are deleted; a damaged segment costs a build, never answers."""
    from diploqa.lexical import Bm25Index
    from diploqa.store.milvus import texts

    store = f"milvus-lite:{tmp_path / 'shared.db'}"
    articles, index_dir = copy_seeds(tmp_path / "articles"), tmp_path / "index"
    first = diploqa.build_index(articles, index_dir, store=store)
    segments = {f for f in first.manifest.files if f.startswith("keywords.seg-")}
    assert segments and _segment_markers(store) == segments
    expected = [h.source for h in first.search(QUESTIONS[1], k=5)]

    with monkeypatch.context() as patch:  # a server loading it: read, not built
        patch.setattr(
            Bm25Index, "build", classmethod(lambda *_, **__: pytest.fail("built, not read"))
        )
        served = diploqa.load_index(index_dir, store=store).warm()
    assert [h.source for h in served.search(QUESTIONS[1], k=5)] == expected

    sent = []
    original = texts.insert_pieces
    monkeypatch.setattr(
        texts,
        "insert_pieces",
        lambda connection, name, pieces, *a: (
            sent.extend(pieces) or original(connection, name, pieces, *a)
        ),
    )
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    second = diploqa.build_index(articles, index_dir, store=store)
    new_segments = {f for f in second.manifest.files if f.startswith("keywords.seg-")}
    assert segments < new_segments  # the old segment is kept, and not sent again
    assert {f for f in sent if f.startswith("keywords.seg-")} == new_segments - segments

    changed = articles / "003_fa869275608591a9.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nNachtrag.\n", "utf-8")
    third = diploqa.build_index(articles, index_dir, store=store)
    kept = {f for m in (second, third) for f in m.manifest.files if "seg-" in f}
    assert _segment_markers(store) == kept  # what no kept generation names is gone

    location = open_location(None, store)
    segment = sorted(f for f in third.manifest.files if "seg-" in f)[0]
    location.client.upsert(
        location.keywords.collection,
        [{"key": f"{segment}#000000", "data": "ZGFtYWdlZA==", "unused": [0.0, 0.0]}],
    )
    with caplog.at_level("WARNING", logger="diploqa.lexical"):
        reloaded = diploqa.load_index(index_dir, store=store)
        assert reloaded.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"
    assert f"{segment} damaged" in caplog.text
    _release(store)
