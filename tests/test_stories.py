"""One story once: an agency story printed by two outlets is one hit naming the other
(``Hit.duplicates``) in Python, the JSON API and the page; grouping survives updates."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from test_duplicates import DPA_SPIEGEL, DPA_ZEIT, FOLLOW_UP, REUTERS_SAME_SUMMIT

import diploqa
from diploqa import duplicates
from diploqa.app.handlers import hit_record
from diploqa.app.render import render_card

QUESTION = "Worauf haben sich Lawrow und Blinken in Genf zur Abrüstung verständigt?"


def _write(folder, name: str, text: str, outlet: str, url: str) -> None:
    (folder / name).write_text(f"source: {outlet}\nurl: {url}\ndate: 2022-01-21\n\n{text}", "utf-8")


@pytest.fixture(scope="module")
def story_index(tmp_path_factory, embedder):
    articles = tmp_path_factory.mktemp("stories") / "articles"
    articles.mkdir()
    _write(articles, "zeit.txt", DPA_ZEIT, "ZEIT ONLINE", "https://www.zeit.de/genf")
    _write(articles, "spiegel.txt", DPA_SPIEGEL, "DER SPIEGEL", "https://www.spiegel.de/genf")
    _write(articles, "reuters.txt", REUTERS_SAME_SUMMIT, "Reuters", "https://reuters.example/g")
    _write(articles, "folge.txt", FOLLOW_UP, "taz", "javascript:alert(1)")
    return diploqa.build_index(articles, articles.parent / "index")


def test_the_story_is_one_hit_naming_the_other_outlet(story_index):
    assert story_index.stored.stories.groups == [["spiegel.txt", "zeit.txt"]]
    hits = story_index.search(QUESTION, k=10)
    sources = [h.source for h in hits]
    assert len({s for s in sources if s in ("zeit.txt", "spiegel.txt")}) == 1  # one printing
    shown = next(h for h in hits if h.source in ("zeit.txt", "spiegel.txt"))
    other = "spiegel.txt" if shown.source == "zeit.txt" else "zeit.txt"
    assert [c.source for c in shown.duplicates] == [other]
    assert shown.duplicates[0].outlet in ("ZEIT ONLINE", "DER SPIEGEL")
    assert shown.duplicates[0].url.startswith("https://www.")
    assert {"reuters.txt", "folge.txt"} <= set(sources)  # other reports are not merged
    assert all(not h.duplicates for h in hits if h.source in ("reuters.txt", "folge.txt"))


def test_grouping_can_be_switched_off(story_index):
    both = story_index.with_ranking(replace(story_index.ranking, group_duplicates=False))
    sources = {h.source for h in both.search(QUESTION, k=20)}
    assert {"zeit.txt", "spiegel.txt"} <= sources
    assert all(not h.duplicates for h in both.search(QUESTION, k=20))


def test_api_record_page_and_json_carry_the_copies(story_index):
    shown = next(h for h in story_index.search(QUESTION, k=10) if h.duplicates)
    record = hit_record(shown, story_index.ranking.low_score_threshold)
    assert record["duplicates"][0]["source"] == shown.duplicates[0].source
    json.dumps(record)  # JSON-ready
    card = render_card(shown, story_index.article(shown.source))
    assert "Auch in / also in:" in card and "href='https://www." in card
    taz = next(h for h in story_index.search("Welche Bedingungen nennt Moskau?", k=10)
               if h.source == "folge.txt")  # fmt: skip
    assert "javascript:" not in render_card(taz, None)  # an archive's URL is never a script


def test_updates_keep_signatures_and_regroup(story_index, tmp_path):
    import shutil

    articles = shutil.copytree(story_index.path.parent / "articles", tmp_path / "articles")
    index_dir = shutil.copytree(story_index.path, tmp_path / "index")
    (articles / "spiegel.txt").unlink()
    updated = diploqa.build_index(articles, index_dir)
    assert updated.build_report.removed == ["spiegel.txt"] and updated.build_report.embedded == 0
    assert updated.stored.stories.groups == []
    kept = updated.stored.stories.signatures
    assert kept["zeit.txt"] == story_index.stored.stories.signatures["zeit.txt"]
    assert kept.keys() == {"zeit.txt", "reuters.txt", "folge.txt"}
    assert duplicates.decode_signature(kept["zeit.txt"]).shape == (duplicates.NUM_PERM,)


def test_an_index_without_stories_gets_them_without_embedding(story_index, tmp_path):
    """Indexes built before grouping existed: the next build adds the stories, embeds
    nothing and keeps every vector."""
    import hashlib
    import shutil

    articles = shutil.copytree(story_index.path.parent / "articles", tmp_path / "articles")
    index_dir = shutil.copytree(story_index.path, tmp_path / "index")
    manifest = json.loads((index_dir / "manifest.json").read_text())
    meta_path = index_dir / manifest["generation"] / "metadata.json"
    meta = json.loads(meta_path.read_text())
    del meta["stories"]
    data = json.dumps(meta).encode()
    meta_path.write_bytes(data)
    manifest["files"]["metadata.json"] = hashlib.sha256(data).hexdigest()
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    old = diploqa.load_index(index_dir)
    assert old.stored.stories.groups == [] and all(not h.duplicates for h in old.search(QUESTION))
    again = diploqa.build_index(articles, index_dir)
    assert again.build_report.embedded == 0 and not again.build_report.changed
    assert again.stored.stories.groups == [["spiegel.txt", "zeit.txt"]]
    assert (again.stored.all_vectors() == old.stored.all_vectors()).all()


def test_a_renamed_file_is_not_embedded_again(story_index, tmp_path, embedder):
    import shutil

    articles = shutil.copytree(story_index.path.parent / "articles", tmp_path / "articles")
    index_dir = shutil.copytree(story_index.path, tmp_path / "index")
    (articles / "reuters.txt").rename(articles / "reuters-2022-01-21.txt")
    before = embedder.passages_encoded
    moved = diploqa.build_index(articles, index_dir)
    assert embedder.passages_encoded == before and moved.build_report.embedded == 0
    assert moved.build_report.added == ["reuters-2022-01-21.txt"]
    assert moved.build_report.removed == ["reuters.txt"]
    hits = moved.search("Welche Fortschritte sah Blinken nach dem Treffen?", k=3)
    assert "reuters-2022-01-21.txt" in {h.source for h in hits}
