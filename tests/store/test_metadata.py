"""``metadata.json`` written in pieces: the same bytes the one-string writer wrote."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import copy_seeds
from deterministic_encoder import DeterministicEncoder

from diploqa.build import build
from diploqa.config import Settings
from diploqa.store.metadata import METADATA_FILE, Stories, dump_metadata, metadata_pieces


def _one_string(articles, chunks, stories: Stories) -> bytes:
    """The writer before the metadata was streamed: the whole file as one string."""
    meta = {
        "articles": [vars(a) for a in articles],
        "chunks": [vars(c) for c in chunks],
        "stories": {
            "kind": stories.kind,
            "signatures": stories.signatures,
            "groups": stories.groups,
        },
    }
    return json.dumps(meta, ensure_ascii=False).encode("utf-8")


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("metadata")
    articles = copy_seeds(folder / "articles")
    first = sorted(articles.iterdir())[0].read_text(encoding="utf-8")
    (articles / "zz_gleich.txt").write_text(first + "\nNachtrag.\n", encoding="utf-8")  # a story
    encoder = DeterministicEncoder()
    return build(articles, folder / "index", encoder=encoder, settings=Settings())[1]


def test_the_written_file_is_what_the_one_string_writer_wrote(small_index):
    stored = small_index
    articles, chunks, stories = list(stored.articles.values()), stored.chunks, stored.stories
    assert stories.groups and len(stories.signatures) == len(articles) > 2  # every section
    assert any(not a.text.isascii() for a in articles)
    written = (stored.path / stored.manifest.generation / METADATA_FILE).read_bytes()
    assert written == _one_string(articles, chunks, stories)
    assert stored.manifest.files[METADATA_FILE] == hashlib.sha256(written).hexdigest()


@pytest.mark.parametrize("records", [1, 2, 3, 1024])
def test_pieces_of_any_size_join_to_the_same_bytes(small_index, records):
    stored = small_index
    articles, chunks, stories = list(stored.articles.values()), stored.chunks, stored.stories
    pieces = list(metadata_pieces(articles, chunks, stories, records=records))
    assert b"".join(pieces) == _one_string(articles, chunks, stories)
    if records == 1:  # one record a piece: no piece holds two articles' texts
        assert max(map(len, pieces)) <= max(len(a.text.encode()) for a in articles) * 2


@pytest.mark.parametrize("signature", [None, 'x"ü'], ids=["no-stories", "no-groups"])
def test_empty_sections_are_written_as_before(small_index, signature):
    one = list(small_index.articles.values())[:1]
    stories = Stories("minhash", {one[0].id: signature}, []) if signature else Stories()
    for articles, chunks in [([], []), (one, []), (one, small_index.chunks[:1])]:
        expected = _one_string(articles, chunks, stories)
        assert dump_metadata(articles, chunks, stories) == expected
        assert b"".join(metadata_pieces(articles, chunks, stories, records=1)) == expected


def test_a_write_failing_midway_leaves_the_live_index_as_it_was(tmp_path, monkeypatch):
    """A disk that fills up after part of the file was written: the build fails with one
    line, the half-written generation is removed and the live index still loads."""
    from diploqa import DiploqaError
    from diploqa.store import commit, open_location

    articles, index_dir = copy_seeds(tmp_path / "articles"), tmp_path / "index"
    encoder = DeterministicEncoder()
    build(articles, index_dir, encoder=encoder, settings=Settings())
    before = sorted(p.name for p in index_dir.iterdir())
    (articles / "aa_neu.txt").write_text("title: Neu\n\nEin neuer Artikel über Genf.\n")

    def filling_up(*args):
        yield from list(metadata_pieces(*args, records=1))[:3]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(commit, "metadata_pieces", filling_up)
    with pytest.raises(DiploqaError, match="No space left on device") as failed:
        build(articles, index_dir, encoder=encoder, settings=Settings())
    assert "\n" not in str(failed.value)
    assert sorted(p.name for p in index_dir.iterdir()) == before
    assert "aa_neu.txt" not in open_location(index_dir).load().articles
