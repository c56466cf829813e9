"""Uploads in the web UI: file names, sizes, duplicates, never overwriting, then searching."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import XSS_ARTICLE, first_source

from diploqa.app import uploads
from diploqa.app.handlers import answer_html, upload_articles
from diploqa.app.render import render_articles_table
from diploqa.articles import CsvColumns

XSS_QUESTION = "Was wurde beim Zitronenfalter-Gipfel in Reykjavík über Leuchttürme vereinbart?"
GOOD = b"Kerry traf Lawrow in Genf. Sie sprachen lange ueber Syrien und die Waffenruhe.\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("artikel.txt", "artikel.txt"),
        ("../evil.txt", "evil.txt"),
        ("..\\..\\evil.md", "evil.md"),
        ("/etc/passwd.txt", "passwd.txt"),
        (".x.txt", "x.txt"),
        ("Gespräch über Syrien.TXT", "Gespräch über Syrien.txt"),
        ("a<b>|c?.txt", "a_b_c_.txt"),
        ("a..b...txt", "a.b.txt"),
    ],
)
def test_sanitize_filename(name, expected):
    assert uploads.sanitize_filename(name) == expected


@pytest.mark.parametrize("name", ["bild.png", "noext", "x.txt.exe", "..", ".txt", "dir/", "..."])
def test_sanitize_filename_rejects(name):
    with pytest.raises(ValueError):
        uploads.sanitize_filename(name)


def test_upload_bad_extension_is_rejected(tmp_path):
    for name in ("evil.exe", "seite.xhtml", "daten.tsv", "notes.rst"):
        out = uploads.save_upload(tmp_path, name, GOOD)
        assert out.kind == "rejected" and ".txt" in out.message and ".jsonl" in out.message
    assert list(tmp_path.iterdir()) == []


PAGE = (Path(__file__).parents[1] / "articles" / "pages" / "rundschau_lausanne.html").read_bytes()
RECORDS = Path(__file__).parents[1] / "articles" / "records"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("seite.html", PAGE),
        ("Seite.HTM", PAGE),
        ("export.jsonl", (RECORDS / "news.jsonl").read_bytes()),
        ("export.json", (RECORDS / "news.json").read_bytes()),
        ("export.csv", (RECORDS / "news.csv").read_bytes()),
    ],
)
def test_upload_of_every_article_kind_is_saved(tmp_path, name, data):
    out = uploads.save_upload(tmp_path, name, data)
    assert out.kind in ("saved", "renamed") and out.saved_as == name[:-4] + name[-4:].lower()
    assert (tmp_path / out.saved_as).read_bytes() == data


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.jsonl", b'{"title": "Nur ein Titel"}\n{"text": \n', "line 1: no text"),
        ("b.jsonl", b'{"title": "x"}\n{"text": \n', ", and 1 more"),
        ("c.csv", b"id,titel\n1,x\n", "no text column"),
        ("d.json", b'{"articles": [', "not valid JSON"),
        ("e.html", b"<html><body><nav><a href='/'>Start</a></nav></body></html>", "no article"),
        ("f.jsonl", b"", "no records"),
    ],
)
def test_upload_without_a_usable_article_is_rejected_with_the_reason(tmp_path, name, data, reason):
    out = uploads.save_upload(tmp_path, name, data)
    assert out.kind == "rejected" and "not a readable article" in out.message
    assert reason in out.message
    assert list(tmp_path.iterdir()) == []


def test_upload_of_records_with_some_bad_ones_is_saved(tmp_path):
    data = b'{"id": 1, "text": "Kerry traf Lawrow in Genf."}\nkaputt\n'
    assert uploads.save_upload(tmp_path, "teils.jsonl", data).kind == "saved"


def test_upload_too_big_is_rejected(tmp_path):
    out = uploads.save_upload(tmp_path, "big.txt", b"a " * (uploads.MAX_UPLOAD_BYTES // 2 + 1))
    assert out.kind == "rejected" and "too large" in out.message
    assert list(tmp_path.iterdir()) == []


def test_upload_too_big_file_is_not_read(tmp_path):
    big = tmp_path / "upload" / "big.txt"
    big.parent.mkdir()
    with big.open("wb") as fh:
        fh.truncate(uploads.MAX_UPLOAD_BYTES + 1)
    out = uploads.save_uploaded_path(tmp_path / "articles", big)
    assert out.kind == "rejected" and "too large" in out.message
    assert not (tmp_path / "articles").exists()


def test_upload_path_traversal_stays_inside(tmp_path):
    articles = tmp_path / "articles"
    out = uploads.save_upload(articles, "../evil.txt", GOOD)
    assert out.kind == "renamed" and out.saved_as == "evil.txt"
    assert (articles / "evil.txt").read_bytes() == GOOD
    assert not (tmp_path / "evil.txt").exists()


def test_upload_hidden_name_is_made_visible(tmp_path):
    out = uploads.save_upload(tmp_path, ".x.txt", GOOD)
    assert out.saved_as == "x.txt" and "saved as x.txt" in out.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]


def test_upload_same_name_other_content_is_renamed(tmp_path):
    (tmp_path / "a.txt").write_bytes(GOOD)
    out = uploads.save_upload(tmp_path, "a.txt", GOOD + b"Noch ein Satz.\n")
    assert out.kind == "renamed" and out.saved_as == "a-2.txt"
    assert "a-2.txt" in out.message
    assert (tmp_path / "a.txt").read_bytes() == GOOD  # never overwritten
    out = uploads.save_upload(tmp_path, "a.txt", GOOD + b"Ein dritter Satz.\n")
    assert out.saved_as == "a-3.txt"


def test_upload_identical_content_is_reported(tmp_path):
    (tmp_path / "a.txt").write_bytes(GOOD)
    for name in ("a.txt", "other.txt"):
        out = uploads.save_upload(tmp_path, name, GOOD)
        assert out.kind == "duplicate" and "already there as a.txt" in out.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"\x89PNG\r\n\x1a\nrest", "binary"), (b"   \n\n***\n", "empty"), (b"", "empty")],
)
def test_upload_unreadable_article_is_rejected(tmp_path, data, reason):
    out = uploads.save_upload(tmp_path, "x.txt", data)
    assert out.kind == "rejected" and reason in out.message
    assert list(tmp_path.iterdir()) == []


def test_upload_leaves_no_temporary_files(tmp_path):
    uploads.save_upload(tmp_path, "a.txt", GOOD)
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_upload_then_search_finds_it_escaped(app_updater, tmp_path):
    holder = app_updater.holder
    incoming = tmp_path / "gradio-upload"
    incoming.mkdir()
    (incoming / "reykjavik.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    (incoming / "bild.png").write_bytes(b"\x89PNG")
    progress = []
    old_index = holder.index
    report = upload_articles(
        app_updater,
        [str(incoming / "reykjavik.txt"), str(incoming / "bild.png")],
        progress=lambda done, total: progress.append((done, total)),
    )
    assert 'data-state="done"' in report
    assert "reykjavik.txt: gespeichert / saved" in report
    assert "bild.png: nur .txt" in report
    assert "1 added" in report and "5 unchanged" in report
    assert progress and progress[-1][0] == progress[-1][1]
    assert holder.index is not old_index and len(holder.index.articles) == 6
    assert old_index.search("Leuchttürme", 1)  # a search holding the old index still works

    page = answer_html(holder, XSS_QUESTION, 3)
    assert first_source(page) == "reykjavik.txt"
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    table = render_articles_table(holder.index)
    assert "<script" not in table and "Geheimtreffen &lt;script&gt;" in table


def test_upload_of_only_rejected_files_does_not_build(app_updater, tmp_path):
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ")
    old = app_updater.holder.index
    report = upload_articles(app_updater, [str(bad)])
    assert "✗" in report and "Nothing new to index" in report
    assert app_updater.holder.index is old


def test_upload_never_follows_or_replaces_a_symlink(tmp_path):
    articles, outside = tmp_path / "articles", tmp_path / "outside.txt"
    articles.mkdir()
    outside.write_bytes(b"do not touch")
    (articles / "a.txt").symlink_to(outside)
    out = uploads.save_upload(articles, "a.txt", GOOD)
    assert out.saved_as == "a-2.txt"
    assert outside.read_bytes() == b"do not touch"


def test_upload_into_unwritable_folder_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = uploads.save_upload(blocker / "articles", "a.txt", GOOD)
    assert out.kind == "rejected" and "not saved" in out.message


OWN_COLUMNS_CSV = (
    "nr;ueberschrift;inhalt\n"
    '7;Leuchtturm-Abkommen;"In Reykjavík vereinbarten die Minister, alle Leuchttürme '
    'der Küste gemeinsam zu betreiben."\n'
).encode()


def test_upload_of_a_csv_file_is_checked_with_the_index_columns(tmp_path):
    assert uploads.save_upload(tmp_path, "a.csv", OWN_COLUMNS_CSV).kind == "rejected"
    columns = CsvColumns.parse("text=inhalt,title=ueberschrift")
    saved = uploads.save_upload(tmp_path, "a.csv", OWN_COLUMNS_CSV, csv_columns=columns)
    assert saved.kind == "saved", saved.message


def test_upload_of_a_csv_file_in_the_columns_the_server_reads_is_indexed(app_updater, tmp_path):
    app_updater.csv_columns = CsvColumns.parse("text=inhalt,title=ueberschrift")
    upload = tmp_path / "eigene.csv"
    upload.write_bytes(OWN_COLUMNS_CSV)
    report = upload_articles(app_updater, [str(upload)])
    assert "eigene.csv: gespeichert / saved" in report and "1 added" in report, report
    assert app_updater.holder.index.manifest.csv_columns == "text=inhalt,title=ueberschrift"

    app_updater.csv_columns = None  # a later start without --csv-columns: the recorded ones
    assert app_updater.upload_columns() == CsvColumns.parse("text=inhalt,title=ueberschrift")
    page = answer_html(app_updater.holder, "Wer betreibt die Leuchttürme?", 1)
    assert first_source(page) == "eigene.csv#1"  # no id column named: the row
