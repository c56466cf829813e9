"""The contract every store must pass: the vector stores (FAISS exact and HNSW, the HNSW with
16-bit and with float32 vectors; Milvus flat and HNSW on Milvus Lite, the real engine
in-process, and on a Milvus 2.3 server), and the locations (the FAISS folder, Milvus Lite)
through the build that writes them.

A new vector store joins by adding one entry to ``STORES``: how to make an empty one for
``n`` vectors, and how to open what :meth:`save` wrote (Milvus writes nothing there: it
reopens its collection). A new location joins by adding one to ``LOCATIONS``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from conftest import NEW_ARTICLE, copy_seeds
from deterministic_encoder import DeterministicEncoder, unit_vectors

from diploqa.build import build
from diploqa.errors import DiploqaError, IndexCorruptError
from diploqa.files import sha256_file
from diploqa.lexical import Bm25Index, shared_titles
from diploqa.store import Location, VectorStore, open_location, parse_store
from diploqa.store.faiss import FaissStore

DIM = 24

Make = Callable[[int], VectorStore]
Reopen = Callable[[VectorStore, Path], VectorStore]


def _faiss_flat(n: int) -> FaissStore:
    return FaissStore.create(DIM, expected=n)


def _faiss_hnsw(n: int) -> FaissStore:
    store = FaissStore.create(DIM, expected=10**9)  # far above any threshold: HNSW
    assert store.index_type.startswith("hnsw-fp16")  # the default: 16-bit floats
    return store


def _faiss_hnsw_float32(n: int) -> FaissStore:
    """HNSW over float32 vectors (indexes written before the 16-bit default)."""
    return FaissStore.hnsw(DIM, storage="flat")


def _faiss_reopen(store: FaissStore, folder: Path) -> FaissStore:
    return FaissStore.load(folder, store.index_type)


_collections = itertools.count()


def _milvus(engine: str, hnsw: bool) -> Make:
    def make(n: int) -> VectorStore:
        from diploqa.store.milvus import MilvusStore

        name = f"contract_{next(_collections)}"
        connection = _connections[engine]
        store = MilvusStore.create(connection, name, DIM, expected=10**9 if hnsw else n)
        assert store.index_type.startswith("milvus-hnsw" if hnsw else "milvus-flat")
        return store

    return make


def _milvus_reopen(store, folder: Path) -> VectorStore:
    from diploqa.store.milvus import MilvusStore

    return MilvusStore(store.connection, store.collection, DIM, store.index_type, len(store))


#: One connection per Milvus engine ("lite": a Milvus Lite file; "server": the session's
#: Milvus server) for the module's vector stores, opened by the first test that needs it.
_connections: dict = {}


@pytest.fixture(scope="module", autouse=True)
def _close_connections():
    yield
    while _connections:
        _connections.popitem()[1].close()


def _connect(engine: str, request) -> None:
    from diploqa.store.milvus import MilvusConnection

    if engine in _connections:
        return
    if engine == "lite":
        pytest.importorskip("milvus_lite", reason="the Milvus store needs milvus-lite")
        path = request.getfixturevalue("tmp_path_factory").mktemp("milvus") / "contract.db"
        address = parse_store(f"milvus-lite:{path}")
    else:
        server = request.getfixturevalue("shared_milvus_server")
        address = parse_store(server.address("contract"), token=server.token)
    _connections[engine] = MilvusConnection(address)


#: How closely a store gives its vectors back: float32 (np.allclose's default relative
#: tolerance), or float16 (rounded to the nearest: half a unit in the last of 11 bits).
FLOAT32, FLOAT16 = 1e-5, 2.0**-11

STORES: dict[str, tuple[Make, Reopen, float]] = {
    "faiss-flat": (_faiss_flat, _faiss_reopen, FLOAT32),
    "faiss-hnsw": (_faiss_hnsw, _faiss_reopen, FLOAT16),
    "faiss-hnsw-float32": (_faiss_hnsw_float32, _faiss_reopen, FLOAT32),
    "milvus-lite-flat": (_milvus("lite", hnsw=False), _milvus_reopen, FLOAT32),
    "milvus-lite-hnsw": (_milvus("lite", hnsw=True), _milvus_reopen, FLOAT32),
    "milvus-server-flat": (_milvus("server", hnsw=False), _milvus_reopen, FLOAT32),
    "milvus-server-hnsw": (_milvus("server", hnsw=True), _milvus_reopen, FLOAT32),
}


@pytest.fixture(params=sorted(STORES))
def kind(request) -> tuple[Make, Reopen, float]:
    if request.param.startswith("milvus"):
        _connect(request.param.split("-")[1], request)
    return STORES[request.param]


def _same_vectors(got: np.ndarray, vectors: np.ndarray, rtol: float) -> bool:
    return np.allclose(got, vectors, rtol=rtol, atol=1e-6)


def _filled(make: Make, vectors: np.ndarray) -> VectorStore:
    store = make(len(vectors))
    store.add(vectors)
    return store


def test_add_count_and_give_back_every_vector(kind):
    make, _, rtol = kind
    vectors = unit_vectors(300, DIM)
    store = _filled(make, vectors[:200])
    store.add(vectors[200:])
    assert len(store) == 300 and store.dimension == DIM
    assert _same_vectors(store.all_vectors(), vectors, rtol)
    rows = np.array([299, 0, 17, 17])
    assert _same_vectors(store.reconstruct(rows), vectors[rows], rtol)


def test_vectors_given_back_and_stored_again_are_the_same(kind):
    """An update copies unchanged vectors into the next generation: a compact store must
    not change them a little more each time."""
    make, _, _ = kind
    once = _filled(make, unit_vectors(200, DIM, seed=10)).all_vectors()
    assert np.array_equal(_filled(make, once).all_vectors(), once)


def test_search_ranks_by_inner_product(kind):
    make, _, _ = kind
    vectors = unit_vectors(500, DIM, seed=1)
    store = _filled(make, vectors)
    queries = vectors[[3, 42, 499]]
    scores, rows = store.search(queries, 10)
    assert scores.shape == rows.shape == (3, 10)
    assert rows[:, 0].tolist() == [3, 42, 499]  # each vector finds itself first
    # scored against the vectors as stored (a compact store keeps them rounded)
    expected = np.sort(queries @ store.all_vectors().T, axis=1)[:, ::-1][:, :10]
    assert np.allclose(scores, expected, atol=1e-4)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


def test_a_warmed_store_answers_as_before(kind):
    """``warm`` (a server's step before its first question) changes no answer."""
    make, _, _ = kind
    store = _filled(make, unit_vectors(500, DIM, seed=2))
    queries = unit_vectors(3, DIM, seed=3)
    before = store.search(queries, 10)
    store.warm()
    after = store.search(queries, 10)
    assert np.array_equal(before[1], after[1]) and np.allclose(before[0], after[0], atol=1e-6)


def test_fewer_vectors_than_k_pad_with_minus_one(kind):
    make, _, _ = kind
    store = _filled(make, unit_vectors(3, DIM, seed=2))
    _, rows = store.search(unit_vectors(1, DIM, seed=3), 5)
    assert sorted(rows[0, :3].tolist()) == [0, 1, 2] and rows[0, 3:].tolist() == [-1, -1]
    empty = make(0)
    assert len(empty) == 0 and empty.all_vectors().shape == (0, DIM)
    assert (empty.search(unit_vectors(1, DIM), 4)[1] == -1).all()


def test_a_rare_filter_still_returns_k_rows(kind):
    """One row in a thousand is allowed: the filter runs inside the search, so all k allowed
    rows come back (post-filtering the top candidates would find almost none)."""
    make, _, _ = kind
    vectors = unit_vectors(10_000, DIM, seed=4)
    store = _filled(make, vectors)
    allowed = np.arange(7, 10_000, 1000)  # 10 rows
    query = unit_vectors(1, DIM, seed=5)
    _scores, rows = store.search(query, 5, rows=allowed)
    assert set(rows[0].tolist()) <= set(allowed.tolist()) and -1 not in rows[0]
    best = allowed[np.argsort(-(vectors[allowed] @ query[0]))[:5]]
    assert rows[0].tolist() == best.tolist()
    _, rows = store.search(query, 20, rows=allowed)  # more asked than allowed exist
    assert sorted(r for r in rows[0].tolist() if r >= 0) == allowed.tolist()


def test_a_broad_filter_searches_inside_the_index(kind):
    """More rows than are scored one by one: the index searches with the filter inside."""
    make, _, _ = kind
    vectors = unit_vectors(12_000, DIM, seed=8)
    store = _filled(make, vectors)
    allowed = np.arange(0, 12_000, 2)  # 6,000 rows, above EXACT_FILTER_ROWS
    queries = unit_vectors(20, DIM, seed=9)
    _, rows = store.search(queries, 10, rows=allowed)
    assert (rows >= 0).all() and (rows % 2 == 0).all()
    exact = allowed[np.argsort(-(queries @ vectors[allowed].T), axis=1)[:, :10]]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, exact, strict=True)])
    assert recall >= 0.9


def test_save_and_reopen_give_the_same_answers(kind, tmp_path):
    make, reopen, rtol = kind
    vectors = unit_vectors(400, DIM, seed=6)
    store = _filled(make, vectors)
    files = store.save(tmp_path)
    assert set(files) == set(store.files)  # Milvus: none, the vectors stay in the engine
    assert all(sha256_file(tmp_path / name) == digest for name, digest in files.items())
    again = reopen(store, tmp_path)
    assert len(again) == 400 and again.index_type == store.index_type
    assert _same_vectors(again.all_vectors(), vectors, rtol)
    query = unit_vectors(2, DIM, seed=7)
    assert (again.search(query, 8)[1] == store.search(query, 8)[1]).all()


# --------------------------------------------------------------------------------------------
# Locations: where an index lives, written by the build (the FAISS folder; Milvus Lite)
# --------------------------------------------------------------------------------------------

ENCODER = DeterministicEncoder(dim=DIM)


def _folder(tmp: Path) -> Location:
    return open_location(tmp / "index", "faiss")


def _folder_generations(location) -> set[int]:
    return {int(p.name[4:]) for p in location.path.glob("gen-*")}


def _milvus_lite(tmp: Path) -> Location:
    return open_location(None, f"milvus-lite:{tmp / 'index.db'}")


def _milvus_generations(location) -> set[int]:
    return set(location.generations().values())


#: name → (open an empty location in a folder, the generation numbers it holds)
LOCATIONS: dict[str, tuple[Callable[[Path], Location], Callable[[Location], set[int]]]] = {
    "faiss-folder": (_folder, _folder_generations),
    "milvus-lite": (_milvus_lite, _milvus_generations),
}


@pytest.fixture(params=sorted(LOCATIONS))
def place(request, tmp_path) -> Iterator[tuple[Location, Callable[[Location], set[int]]]]:
    if request.param.startswith("milvus"):
        pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    make, generations = LOCATIONS[request.param]
    location = make(tmp_path)
    location.prepare()
    yield location, generations
    location.close()


@pytest.fixture
def articles(tmp_path) -> Path:
    return copy_seeds(tmp_path / "articles")


def _build(articles: Path, location: Location, **kw):
    return build(articles, "unused", store=location, encoder=ENCODER, **kw)


def test_a_location_reads_back_what_the_build_committed(place, articles):
    location, _ = place
    assert not location.has_index() and location.signature() is None
    with pytest.raises(IndexCorruptError):
        location.read_manifest()
    _, first = _build(articles, location)
    assert location.has_index() and location.signature() is not None
    manifest = location.read_manifest()
    assert manifest.as_dict() == first.manifest.as_dict()
    assert first.is_generation(location.path, manifest) and first.location is location
    loaded = location.load()
    assert loaded.location is location and loaded.is_generation(first.path, first.manifest)
    assert loaded.chunks == first.chunks and loaded.articles == first.articles
    assert loaded.stories == first.stories
    assert np.allclose(loaded.all_vectors(), first.all_vectors(), atol=1e-6)
    saved = location.read_keywords(manifest, len(loaded.chunks))
    assert saved is not None and (saved.digests == first.known_keywords.digests).all()
    question = "Lawrow Kerry Syrien"
    assert (saved.score(question).scores == first.known_keywords.score(question).scores).all()
    assert loaded.known_keywords is None and loaded.saved_keywords() is not None
    assert loaded.known_keywords is loaded.saved_keywords()  # read once, then kept


def test_a_commit_changes_the_signature_and_keeps_the_previous_generation(place, articles):
    location, generations = place
    _build(articles, location)
    before = location.signature()
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    _, second = _build(articles, location)
    assert second.manifest.generation == "gen-000002" and location.signature() != before
    assert generations(location) == {1, 2}  # the previous one, for readers that loaded it
    (articles / "005_genf.txt").unlink()
    _, third = _build(articles, location)
    assert third.manifest.generation == "gen-000003" and generations(location) == {2, 3}
    assert location.load().manifest.generation == "gen-000003"


def test_a_failed_write_changes_nothing(place, articles, monkeypatch):
    location, generations = place
    _, first = _build(articles, location)
    signature = location.signature()
    real = location.new_generation

    @contextmanager
    def failing(rows: int):
        with real(rows) as pending:
            pending.write_keywords = lambda keywords: (_ for _ in ()).throw(
                OSError(28, "No space left on device")
            )
            yield pending

    monkeypatch.setattr(location, "new_generation", failing)
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    with pytest.raises((DiploqaError, OSError), match="No space left on device"):
        _build(articles, location)
    assert location.signature() == signature and generations(location) == {1}
    assert location.load().chunks == first.chunks
    monkeypatch.setattr(location, "new_generation", real)
    _, second = _build(articles, location)
    assert second.manifest.generation == "gen-000002" and "005_genf.txt" in second.articles


def test_the_build_starts_from_the_callers_generation_while_it_is_live(
    place, articles, monkeypatch
):
    location, _ = place
    _, first = _build(articles, location)
    loads = []
    real = location.load
    monkeypatch.setattr(location, "load", lambda *a: loads.append(a) or real(*a))
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    before = ENCODER.passages_encoded
    report, second = _build(articles, location, previous=first)
    assert loads == [] and report.added == ["005_genf.txt"]  # nothing read back
    assert second.known_keywords is not None and "005_genf.txt" in second.articles
    assert ENCODER.passages_encoded - before == report.embedded < report.chunks
    (articles / "005_genf.txt").unlink()
    report, third = _build(articles, location, previous=first)  # no longer the live one
    assert len(loads) == 1 and report.removed == ["005_genf.txt"]
    assert third.chunks == first.chunks


def test_a_reloaded_generation_makes_its_keyword_index_from_the_one_served(
    place, articles, monkeypatch
):
    """A generation whose keyword files cannot be read makes its keyword index from the one
    the caller served (only the new passages are split); the same generation takes it."""
    location, _ = place
    _, served = _build(articles, location)
    same = location.load()
    same.inherit_keywords(served)
    assert same.known_keywords is served.known_keywords
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    _build(articles, location)  # by another process: nothing handed on
    monkeypatch.setattr(location, "read_keywords", lambda *_: None)  # unreadable
    newer = location.load()
    newer.inherit_keywords(served)
    assert newer.known_keywords is None  # made on first use
    tokenized = []
    original = Bm25Index.tokenize
    monkeypatch.setattr(
        Bm25Index, "tokenize", lambda self, text: tokenized.append(text) or original(self, text)
    )
    made = newer.keyword_index()
    passages = newer.passages()
    new_passages = set(passages) - set(served.passages())
    assert new_passages and {t for t in tokenized if t in passages} == new_passages
    titles = shared_titles(newer.articles, newer.chunks)
    built = Bm25Index.build(passages, None, shared_titles=titles)
    question = "Lawrow Blinken Genf"
    assert (made.score(question).scores == built.score(question).scores).all()
    assert newer.keyword_index() is made
