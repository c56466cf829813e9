"""The web UI's state: no index, a corrupt index, changed articles, updates and rebuilds."""

from __future__ import annotations

import shutil

import pytest
from conftest import XSS_ARTICLE, assert_no_traceback, first_source

from diploqa import app
from diploqa.errors import DiploqaError


def test_no_index_yet_state(tmp_path, seed_copy):
    holder = app.IndexHolder(tmp_path / "no-index", seed_copy)
    holder.load()
    assert holder.index is None
    for page in (app.render_status(holder), app.answer_html(holder, "Kerry?", 5)):
        assert "No index yet" in page and "diploqa index" in page
    assert "No index yet" in app.render_articles_table(None)
    with pytest.raises(DiploqaError, match="No index yet"):
        app.search_records(holder, "Kerry?", 5)
    assert app.create_app(holder=holder).get_api_info()["named_endpoints"]  # UI still starts


def test_no_index_then_build_in_the_ui(tmp_path, seed_copy):
    holder = app.IndexHolder(tmp_path / "index", shutil.copytree(seed_copy, tmp_path / "a"))
    holder.load()
    calls = []
    report = app.update_index(holder, rebuild=False, progress=lambda d, t: calls.append((d, t)))
    assert 'data-state="done"' in report and "5 added" in report
    assert calls and calls[-1][0] == calls[-1][1]
    assert first_source(app.answer_html(holder, "Who did Kerry meet in Sochi?", 3))


def test_corrupt_index_shows_error_not_traceback(tmp_path, seed_index, seed_copy):
    index = shutil.copytree(seed_index.path, tmp_path / "index")
    (index / "manifest.json").write_text("{ not json", encoding="utf-8")
    holder = app.IndexHolder(index, seed_copy)
    holder.load()
    page = app.answer_html(holder, "Kerry?", 5)
    assert "dq-error" in page and "unreadable" in page and "--rebuild" in page
    assert_no_traceback(page)


def test_changed_articles_offer_update_without_rebuilding(app_mutable_holder):
    holder = app_mutable_holder
    (holder.articles_dir / "neu.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    holder.load()
    assert len(holder.index.articles) == 5  # not rebuilt at start
    assert "1 new or changed" in app.render_status(holder)
    report = app.update_index(holder, rebuild=False)
    assert "1 added" in report and "5 unchanged" in report
    assert holder.pending is None and len(holder.index.articles) == 6


def test_rebuild_button_reembeds_everything(app_mutable_holder):
    report = app.update_index(app_mutable_holder, rebuild=True)
    everything = len(app_mutable_holder.index.stored.chunks)  # passages and sections
    assert "full build" in report and f"{everything} embedded" in report


def test_update_error_is_reported(app_mutable_holder):
    holder = app_mutable_holder
    old = holder.index
    for path in holder.articles_dir.iterdir():
        path.write_bytes(b"\x89PNG\r\n")
    report = app.update_index(holder, rebuild=False)
    assert 'data-state="error"' in report and "no readable article" in report
    assert holder.index is old  # the old index stays live
