"""The keyword index saved with a generation, and read back."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from keyword_samples import MIXED, TITLES, same_scores

from diploqa.config import Settings
from diploqa.lexical import KEYWORDS_FILE, KEYWORDS_VERSION, Bm25Index, passage_digests

CONFIGURED = Settings.from_env().dictionary
SYSTEM_DICTIONARY = CONFIGURED.path  # /usr/share/trans/de-en unless set


def test_saved_keyword_index_scores_like_the_one_it_was_built_from(tmp_path):
    built = Bm25Index.build(MIXED, dictionary=None, shared_titles=TITLES)
    checksums = built.save(tmp_path)
    assert KEYWORDS_FILE in checksums and "keywords.body.rows.npy" in checksums
    loaded = Bm25Index.load(tmp_path, checksums, len(MIXED), dictionary=None)
    assert loaded is not None
    same_scores(built, loaded)
    np.testing.assert_array_equal(loaded.digests, passage_digests(MIXED))
    # the shared title is still no keyword evidence once read back
    assert loaded.score("Liveblog").coverage == 0


@pytest.mark.skipif(
    SYSTEM_DICTIONARY is None or not SYSTEM_DICTIONARY.is_file(),
    reason="no Ding dictionary installed (Debian package trans-de-en)",
)
def test_saved_keyword_index_takes_the_query_settings_of_the_ranking(tmp_path):
    checksums = Bm25Index.build(MIXED, dictionary=None, shared_titles=TITLES).save(tmp_path)
    loaded = Bm25Index.load(tmp_path, checksums, len(MIXED), dictionary=CONFIGURED)
    built = Bm25Index.build(MIXED, dictionary=CONFIGURED, shared_titles=TITLES)
    same_scores(built, loaded)
    plain = loaded.with_query_settings(None)
    assert plain.translations(["ceasefire"]) == {} and loaded.translations(["ceasefire"])


def test_a_keyword_index_without_keywords_round_trips(tmp_path):
    built = Bm25Index.build(["und der die", "the and of"], dictionary=None)
    checksums = built.save(tmp_path)
    loaded = Bm25Index.load(tmp_path, checksums, 2, dictionary=None)
    same_scores(built, loaded)


@pytest.mark.parametrize(
    "damage",
    [
        "missing from the manifest",
        "checksum",
        "truncated",
        "other version",
        "passage count",
        "crafted settings",
        "crafted postings",
        "crafted languages",
        "crafted digests",
    ],
)
def test_a_damaged_or_foreign_keyword_index_is_not_read(tmp_path, damage, caplog):
    checksums = Bm25Index.build(MIXED, dictionary=None, shared_titles=TITLES).save(tmp_path)
    passages = len(MIXED)
    state = tmp_path / KEYWORDS_FILE
    segment = next(n for n in checksums if n.startswith("keywords.seg-"))
    if damage == "missing from the manifest":
        checksums.pop(KEYWORDS_FILE)
    elif damage == "checksum":
        checksums[segment] = "0" * 64
    elif damage == "truncated":
        (tmp_path / segment).write_bytes(b"PK\x03\x04")
    elif damage == "other version":
        text = state.read_text().replace('"version": 3', '"version": 999')
        state.write_text(text)
        checksums[KEYWORDS_FILE] = diploqa_sha(state)
    elif damage == "passage count":
        passages += 1
    elif damage in ("crafted settings", "crafted languages"):  # wrong, but matching checksums
        saved = json.loads(state.read_text())
        if damage == "crafted settings":
            saved["k1"] = "eins"
        else:
            saved["languages"] = "7" * passages
        state.write_text(json.dumps(saved))
        checksums[KEYWORDS_FILE] = diploqa_sha(state)
    elif damage == "crafted digests":
        digests = tmp_path / "keywords.digests.npy"
        np.save(digests, np.zeros(passages + 1, np.uint64))
        checksums[digests.name] = diploqa_sha(digests)
    else:
        rows = tmp_path / "keywords.body.rows.npy"
        np.save(rows, np.load(rows) + 1000)
        checksums[rows.name] = diploqa_sha(rows)
    with caplog.at_level(logging.INFO, logger="diploqa.lexical"):
        assert Bm25Index.load(tmp_path, checksums, passages, dictionary=None) is None
    assert caplog.records or damage == "missing from the manifest"  # said why


def diploqa_sha(path: Path) -> str:
    from diploqa.files import sha256_file

    return sha256_file(path)


def test_a_loaded_index_updated_and_saved_again_scores_like_a_fresh_one(tmp_path):
    """The next generation of a saved keyword index, made in a new process from the
    files, is what a build from nothing gives, and shares the unchanged segment's file."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    many = MIXED * 10
    first = Bm25Index.build(many, dictionary=None, shared_titles=TITLES * 10)
    checksums = first.save(one)
    loaded = Bm25Index.load(one, checksums, len(many), dictionary=None)
    new = [*many, "Lawrow sprach in Genf über Sanktionen."]
    updated = loaded.updated(new, np.r_[np.arange(len(many)), -1], [*TITLES * 10, ""])
    again = Bm25Index.load(two, updated.save(two), len(new), dictionary=None)
    same_scores(again, Bm25Index.build(new, dictionary=None, shared_titles=[*TITLES * 10, ""]), new)
    shared = set(checksums) & set(updated.save(two)) - {KEYWORDS_FILE}
    assert any(n.startswith("keywords.seg-") for n in shared)


#: Keyword files of format 3 as diploqa wrote them before the keyword index became a package:
#: ``Bm25Index(MIXED, dictionary=None, shared_titles=TITLES).save(folder)``.
FORMAT_3 = Path(__file__).parent / "format3"


def test_keyword_files_an_earlier_diploqa_wrote_load_and_are_written_again_alike(tmp_path):
    checksums = {p.name: diploqa_sha(p) for p in FORMAT_3.iterdir()}
    assert KEYWORDS_FILE in checksums and KEYWORDS_VERSION == 3
    loaded = Bm25Index.load(FORMAT_3, checksums, len(MIXED), dictionary=None)
    assert loaded is not None
    same_scores(loaded, Bm25Index.build(MIXED, dictionary=None, shared_titles=TITLES))
    assert loaded.save(tmp_path) == checksums  # the same files, byte for byte
