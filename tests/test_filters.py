"""Filters: outlet, date range and article id, checked per article and applied in ranking."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pytest
from deterministic_encoder import DeterministicEncoder
from hypothesis import given, settings
from hypothesis import strategies as st

from diploqa import config
from diploqa.articles import Article
from diploqa.chunking import Chunk
from diploqa.errors import QueryError
from diploqa.filters import ArticleColumns, SearchFilter, date_range
from diploqa.index import Index
from diploqa.store import (
    GenerationContent,
    Manifest,
    StoredIndex,
    Stories,
    open_location,
    write_generation,
)
from diploqa.store.faiss import FaissStore


def _article(aid: str, date: str | None = None, outlet: str | None = None, text: str = "x"):
    digest = hashlib.sha256(f"{aid}{date}{text}".encode()).hexdigest()
    return Article(aid, aid, text, date, outlet, None, digest)


def test_partial_dates_mean_their_whole_period():
    assert date_range("2016") == (dt.date(2016, 1, 1), dt.date(2016, 12, 31))
    assert date_range("2016-02") == (dt.date(2016, 2, 1), dt.date(2016, 2, 29))
    assert date_range("2016-10-14") == (dt.date(2016, 10, 14),) * 2
    assert date_range("2016-10-14T08:00:00+02:00") == (dt.date(2016, 10, 14),) * 2
    assert date_range("2016-13") is None and date_range("gestern") is None


def test_make_checks_and_normalises():
    assert SearchFilter.make() is None and SearchFilter.make(outlet=[], since="") is None
    f = SearchFilter.make(outlet="ZEIT Online", since="2016", until="2016-10")
    assert f.outlets == (("zeit", "online"),)
    assert (f.since, f.until) == (dt.date(2016, 1, 1), dt.date(2016, 10, 31))
    assert SearchFilter.make(since=dt.date(2016, 5, 1)).since == dt.date(2016, 5, 1)
    assert SearchFilter.make(until=dt.datetime(2016, 5, 1, 12)).until == dt.date(2016, 5, 1)
    with pytest.raises(QueryError, match="since must be a date like 2016"):
        SearchFilter.make(since="14. Oktober")
    with pytest.raises(QueryError, match="until must be a date"):
        SearchFilter.make(until="2016-02-30")
    with pytest.raises(QueryError, match="is after until"):
        SearchFilter.make(since="2017", until="2016")
    with pytest.raises(QueryError, match="outlet must be"):
        SearchFilter.make(outlet=[3])


def test_article_matching():
    sz = _article("sz/a.txt", "2016-10", "Süddeutsche Zeitung")
    zeit = _article("zeit/b.txt", "2016-10-14", "ZEIT ONLINE")
    faz = _article("faz/c.txt", "2017-01-02", "Frankfurter Allgemeine Zeitung")
    undated = _article("d.txt", None, "ZEIT ONLINE")
    by = lambda **kw: [a.id for a in (sz, zeit, faz, undated) if SearchFilter.make(**kw).matches(a)]  # noqa: E731
    assert by(outlet="zeit") == ["zeit/b.txt", "d.txt"]  # whole words: not "Zeitung"
    assert by(outlet=["süddeutsche zeitung", "FRANKFURTER ALLGEMEINE ZEITUNG"]) == [
        "sz/a.txt",
        "faz/c.txt",
    ]
    assert by(since="2016-10-15") == ["sz/a.txt", "faz/c.txt"]  # October overlaps
    assert by(until="2016-10-13") == ["sz/a.txt"]
    assert by(since="2016", until="2016") == ["sz/a.txt", "zeit/b.txt"]  # undated left out
    assert by(source="*/b.txt") == ["zeit/b.txt"]
    assert by(outlet="zeit", since="2016") == ["zeit/b.txt"]


_dates = st.one_of(
    st.none(),
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))
    .map(lambda d: st.sampled_from([d.isoformat(), d.isoformat()[:7], d.isoformat()[:4]]))
    .flatmap(lambda s: s),
)


@settings(max_examples=60, deadline=None)
@given(
    articles=st.lists(
        st.tuples(_dates, st.sampled_from([None, "ZEIT ONLINE", "DER SPIEGEL", "taz"])),
        min_size=1,
        max_size=30,
    ),
    since=st.one_of(st.none(), st.sampled_from(["2000", "2010-06", "2016-10-14"])),
    until=st.one_of(st.none(), st.sampled_from(["2005", "2016-10", "2024-02-29"])),
    outlet=st.one_of(st.none(), st.sampled_from(["zeit", ["spiegel", "TAZ"]])),
)
def test_columns_agree_with_matches(articles, since, until, outlet):
    items = [_article(f"{i}.txt", d, o) for i, (d, o) in enumerate(articles)]
    try:
        wanted = SearchFilter.make(outlet=outlet, since=since, until=until, source="*1*.txt")
    except QueryError:
        return
    mask = ArticleColumns(items).mask(wanted)
    assert mask.tolist() == [wanted.matches(a) for a in items]


@pytest.fixture(scope="module", params=["faiss", "milvus-lite"])
def archive(request, tmp_path_factory) -> Index:
    """10,000 one-passage articles, ten of them from a rare outlet and one undated: the
    mechanics of filtering at a scale where post-filtering the top candidates would fail.
    In FAISS (filters as allowed rows) and in Milvus Lite (filters as Milvus expressions)."""
    encoder = DeterministicEncoder(dim=32)
    articles, chunks = [], []
    for i in range(10_000):
        outlet = "Rare Gazette" if i % 1000 == 7 else "Common Times"
        date = None if i == 3 else f"{2000 + i % 20}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        text = f"Bericht {i} über Gespräche in Genf und Moskau."
        articles.append(_article(f"a{i:05d}.txt", date, outlet, text))
        chunks.append(Chunk(articles[-1].id, 0, 0, len(text), text))
    if request.param == "milvus-lite":
        yield from _in_milvus(encoder, articles, chunks, tmp_path_factory.mktemp("milvus"))
        return
    vectors = FaissStore.from_vectors(encoder.encode_passages([c.text for c in chunks]), 32)
    manifest = Manifest(
        format_version=config.INDEX_FORMAT_VERSION, generation="gen-000001",
        model=encoder.model_id, backend=encoder.backend, dimension=32, files={},
        articles={a.id: a.content_hash for a in articles}, chunking={}, n_chunks=len(chunks),
    )  # fmt: skip
    stored = StoredIndex(None, manifest, vectors, {a.id: a for a in articles}, chunks)
    yield Index(stored, encoder, config.RankingConfig(dictionary=False))


def _in_milvus(encoder, articles, chunks, folder):
    """The same archive written to Milvus Lite as a build would, and loaded back."""
    pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    location = open_location(None, f"milvus-lite:{folder / 'archive.db'}")
    vectors = encoder.encode_passages([c.text for c in chunks])
    content = GenerationContent(
        encoder, articles, chunks, vectors, config.ChunkingConfig(), Stories()
    )
    with location.lock():
        write_generation(location, content)
    yield Index(location.load(), encoder, config.RankingConfig(dictionary=False))
    location.close()


def test_a_one_in_a_thousand_filter_returns_k_hits(archive):
    hits = archive.search("Gespräche in Genf", k=5, outlet="rare gazette")
    assert len(hits) == 5 and {h.outlet for h in hits} == {"Rare Gazette"}
    assert len(archive.search("Gespräche in Genf", k=50, outlet="Rare Gazette")) == 10
    assert archive.search("Genf", k=5, outlet="Nobody") == []
    ranked = archive.search("Gespräche in Genf", k=10_000)
    rare = [h.source for h in ranked if h.outlet == "Rare Gazette"][:5]
    assert [h.source for h in hits] == rare  # the same order as unfiltered, restricted


def test_date_and_source_filters_in_ranking(archive):
    hits = archive.search("Moskau", k=20, since="2019-12", until="2019-12-31")
    assert hits and all(h.date.startswith("2019-12") for h in hits)
    assert all(h.source != "a00003.txt" for h in archive.search("Moskau", k=10_000, since="1900"))
    hits = archive.search("Moskau", k=3, source="a0999*.txt")
    assert len(hits) == 3 and all(h.source.startswith("a0999") for h in hits)
    with pytest.raises(QueryError, match="since must be a date"):
        archive.search("Moskau", since="letzte Woche")


def test_per_article_limits_passages_of_one_article(seed_index):
    question = "Was sagte Kerry über Syrien?"
    capped = seed_index.search(question, k=8, per_article=1)
    assert len({h.source for h in capped}) == len(capped)
    assert len(seed_index.search(question, k=8, per_article=2)) == 8
    with pytest.raises(QueryError, match="per_article"):
        seed_index.search(question, per_article=0)


def test_outlet_choices(archive):
    assert archive.outlets() == ["Common Times", "Rare Gazette"]
    assert np.count_nonzero(archive.columns.mask(SearchFilter.make(outlet="rare"))) == 10
