"""The web UI's state: no index, a corrupt index, changed articles, updates and rebuilds."""

from __future__ import annotations

import shutil

import pytest
from conftest import XSS_ARTICLE, assert_no_traceback, first_source, loaded_updater

from diploqa.app import ui
from diploqa.app.handlers import answer_html, search_records, status_record, update_index
from diploqa.app.live import IndexHolder
from diploqa.app.render import render_articles_table, render_status
from diploqa.app.updater import Updater
from diploqa.errors import DiploqaError


def _status(updater: Updater) -> str:
    holder = updater.holder
    return render_status(holder.index, holder.problem, updater.pending)


def test_no_index_yet_state(tmp_path, seed_copy):
    updater = loaded_updater(IndexHolder(tmp_path / "no-index"), seed_copy)
    holder = updater.holder
    assert holder.index is None
    for page in (_status(updater), answer_html(holder, "Kerry?", 5)):
        assert "No index yet" in page and "diploqa index" in page
    assert "No index yet" in render_articles_table(None)
    with pytest.raises(DiploqaError, match="No index yet"):
        search_records(holder, "Kerry?", 5)
    assert ui.create_app(updater).get_api_info()["named_endpoints"]  # UI still starts


def test_no_index_then_build_in_the_ui(tmp_path, seed_copy):
    articles = shutil.copytree(seed_copy, tmp_path / "a")
    updater = loaded_updater(IndexHolder(tmp_path / "index"), articles)
    # A question asked before there is an index is marked, for the page to ask it again once
    # the status's generation changes.
    early = answer_html(updater.holder, "Who did Kerry meet in Sochi?", 3)
    assert 'class="dq-unanswered" data-state="no-index"' in early and "No index yet" in early
    assert status_record(updater)["generation"] is None
    calls = []
    report = update_index(updater, rebuild=False, progress=lambda d, t: calls.append((d, t)))
    assert 'data-state="done"' in report and "5 added" in report
    assert calls and calls[-1][0] == calls[-1][1]
    again = answer_html(updater.holder, "Who did Kerry meet in Sochi?", 3)
    assert first_source(again) and 'data-state="no-index"' not in again
    assert status_record(updater)["generation"] is not None


def test_corrupt_index_shows_error_not_traceback(tmp_path, seed_index, seed_copy):
    index = shutil.copytree(seed_index.path, tmp_path / "index")
    (index / "manifest.json").write_text("{ not json", encoding="utf-8")
    holder = IndexHolder(index)
    holder.load()
    page = answer_html(holder, "Kerry?", 5)
    assert "dq-error" in page and "unreadable" in page and "--rebuild" in page
    assert_no_traceback(page)


def test_changed_articles_offer_update_without_rebuilding(app_updater):
    updater, holder = app_updater, app_updater.holder
    (updater.articles_dir / "neu.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    holder.load()
    updater.check_articles()
    assert len(holder.index.articles) == 5  # not rebuilt at start
    assert "1 new or changed" in _status(updater)
    report = update_index(updater, rebuild=False)
    assert "1 added" in report and "5 unchanged" in report
    assert updater.pending is None and len(holder.index.articles) == 6


def test_rebuild_button_reembeds_everything(app_updater):
    report = update_index(app_updater, rebuild=True)
    everything = len(app_updater.holder.index.stored.chunks)  # passages and sections
    assert "full build" in report and f"{everything} embedded" in report


def test_update_error_is_reported(app_updater):
    holder = app_updater.holder
    old = holder.index
    for path in app_updater.articles_dir.iterdir():
        path.write_bytes(b"\x89PNG\r\n")
    report = update_index(app_updater, rebuild=False)
    assert 'data-state="error"' in report and "no readable article" in report
    assert holder.index is old  # the old index stays live


def test_reading_the_live_index_does_no_io(app_holder, monkeypatch):
    """Only an explicit :meth:`IndexHolder.latest` (what a search or a status request calls)
    looks at the disk for another process's index; reading :attr:`IndexHolder.index` and
    everything the page derives from it does not."""
    looked = []
    signature = app_holder.location.signature
    monkeypatch.setattr(app_holder.location, "signature", lambda: looked.append(1) or signature())
    for _ in range(3):
        assert app_holder.index is not None and app_holder.problem is None
    assert looked == []
    assert app_holder.latest() is app_holder.index and looked == [1]


def test_the_holder_hands_on_the_generation_it_serves(app_updater, monkeypatch):
    """An update starts from the served generation and its keyword index (nothing is read
    back); a reload of another process's generation whose keyword files cannot be read makes
    its keyword index from the one served (not from every passage)."""
    import diploqa
    from diploqa.lexical import Bm25Index

    updater, holder = app_updater, app_updater.holder
    location = holder.location
    reads = []
    real_load = location.load
    monkeypatch.setattr(location, "load", lambda *a: reads.append("load") or real_load(*a))
    monkeypatch.setattr(location, "read_keywords", lambda *_: reads.append("keywords"))
    (updater.articles_dir / "neu.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    updater.update()
    assert reads == [] and len(holder.index.articles) == 6

    served = holder.index.stored.known_keywords
    (updater.articles_dir / "neu.txt").unlink()
    diploqa.build_index(updater.articles_dir, holder.index_dir)  # another process's build
    made_from = []
    matching = Bm25Index.matching
    monkeypatch.setattr(
        Bm25Index, "matching", lambda self, *a: made_from.append(self) or matching(self, *a)
    )
    monkeypatch.setattr(Bm25Index, "build", classmethod(lambda *_, **__: pytest.fail("built")))
    assert len(holder.latest().articles) == 5  # reloaded
    assert reads == ["load", "keywords"] and made_from == [served]
    assert first_source(answer_html(holder, "Who did Kerry meet in Sochi?", 3))


def test_every_index_that_goes_live_is_announced_at_once(app_updater):
    """Listeners (the standing questions' check) hear of each index this process installs and
    of each one another process committed, right after the swap; an update that changed
    nothing announces nothing."""
    import diploqa

    updater, holder = app_updater, app_updater.holder
    heard = []
    holder.on_live(lambda index: heard.append((index, holder.index)))
    updater.update()  # nothing changed: the same generation stays
    assert heard == []
    (updater.articles_dir / "neu.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    updater.update()
    assert len(heard) == 1 and heard[0][0] is heard[0][1] is holder.index  # already live
    (updater.articles_dir / "neu.txt").unlink()
    diploqa.build_index(updater.articles_dir, holder.index_dir)  # another process's build
    holder.latest()
    assert len(heard) == 2 and len(heard[1][0].articles) == 5
