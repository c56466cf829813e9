"""Tests for diploqa.articles.folder: which files are articles, loading, skipping."""

from __future__ import annotations

import codecs
import logging
import os
import random
from pathlib import Path

import pytest

from diploqa.articles import (
    SkippedFile,
    article_files,
    check_articles_dir,
    load_articles,
    read_article,
)
from diploqa.errors import ArticlesError


# --- loading -------------------------------------------------------------------------------
def _write_tree(root: Path) -> None:
    files: dict[str, bytes] = {
        "a.txt": b"Erster Artikel\n\nLawrow sagte etwas.",
        "b cp1252.txt": "Zweiter Artikel\n\nGespräche über Außenpolitik.".encode("cp1252"),
        "c utf16.md": codecs.BOM_UTF16_LE + "# Dritter Artikel\n\nKerry.".encode("utf-16-le"),
        "d Ümläut mit Leerzeichen.md": b"Vierter Artikel\n\nPutin.",
        "e twin.txt": b"Erster Artikel\n\nLawrow sagte etwas.",
        "image.txt": b"\x89PNG\r\n\x1a\n" + random.Random(7).randbytes(512),
        "empty.txt": b"",
        "blank.md": b"  \n\t\n\r\n   ",
        "debris.txt": b"Zum Inhalt springen\n\nZur SZ-Startseite\n\nGutscheine:\nTeilen",
        "sub/deeper/f.TXT": "Fünfter Artikel\n\nSotschi.".encode(),
        "notes.rst": b"ignored",
        ".hidden.txt": b"Versteckt",
        ".git/g.txt": b"Versteckt",
        "sub/.cache/h.md": b"Versteckt",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_load_folder_mixed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _write_tree(tmp_path)
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == [
        "a.txt",
        "b cp1252.txt",
        "c utf16.md",
        "d Ümläut mit Leerzeichen.md",
        "sub/deeper/f.TXT",
    ]
    assert [a.title for a in articles] == [
        "Erster Artikel",
        "Zweiter Artikel",
        "Dritter Artikel",
        "Vierter Artikel",
        "Fünfter Artikel",
    ]
    assert articles[1].text == "Zweiter Artikel\n\nGespräche über Außenpolitik."
    assert skipped == [
        SkippedFile("blank.md", "empty after cleaning"),
        SkippedFile("debris.txt", "empty after cleaning"),
        SkippedFile("e twin.txt", "same title, date and text as a.txt"),  # a copy
        SkippedFile("empty.txt", "empty after cleaning"),
        SkippedFile("image.txt", "not valid text (binary data)"),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5
    for item in skipped:
        assert any(item.path in message for message in warnings), item.path


def test_load_accepts_str_path_and_is_deterministic(tmp_path: Path) -> None:
    _write_tree(tmp_path)
    assert load_articles(str(tmp_path)) == load_articles(tmp_path)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_broken_symlink_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "ok.txt").write_text("Titel\n\nText.", encoding="utf-8")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["ok.txt"]
    assert [s.path for s in skipped] == ["dangling.txt"]
    assert skipped[0].reason.startswith("cannot read file")
    assert "dangling.txt" in caplog.text


def test_a_copy_under_another_name_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "title: Lawrow in Genf\ndate: 2022-01-21\n\nLawrow traf Blinken in Genf."
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "kopie.md").write_text(text + "\n\n", encoding="utf-8")  # same once cleaned
    (tmp_path / "b.txt").write_text(text.replace("2022-01-21", "2022-01-22"), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["a.txt", "b.txt"]  # another date is another article
    assert skipped == [SkippedFile("sub/kopie.md", "same title, date and text as a.txt")]
    assert "sub/kopie.md" in caplog.text
    (tmp_path / "a.txt").unlink()  # the copy takes the original's place
    assert [a.id for a in load_articles(tmp_path)[0]] == ["b.txt", "sub/kopie.md"]


def test_all_skipped_returns_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert load_articles(tmp_path) == ([], [SkippedFile("empty.txt", "empty after cleaning")])


def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ArticlesError, match="not found") as err:
        load_articles(missing)
    assert str(missing) in str(err.value)


def test_folder_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "file.txt"
    file.write_text("Text", encoding="utf-8")
    with pytest.raises(ArticlesError, match="not a folder") as err:
        load_articles(file)
    assert str(file) in str(err.value)


def test_folder_without_articles(tmp_path: Path) -> None:
    (tmp_path / "notes.rst").write_text("x", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(ArticlesError, match=r"No article files \(\.txt, \.md") as err:
        load_articles(tmp_path)
    assert str(tmp_path) in str(err.value)
    assert "\n" not in str(err.value)


def test_read_article_names_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "bild.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ArticlesError, match=r"^sub/bild\.txt: .*binary"):
        read_article(path, tmp_path)
    good = tmp_path / "sub" / "gut.md"
    good.write_text("Titel\n\nText.", encoding="utf-8")
    assert read_article(good, tmp_path).id == "sub/gut.md"


# --- which files are articles ----------------------------------------------------------------
def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Titel\n\nText.", encoding="utf-8")


def test_article_files_suffix_any_case_sorted_by_id(tmp_path: Path) -> None:
    _touch(tmp_path, "b.Md", "a.TXT", "sub/c.txt", "d.md.bak", "e.rst", "txt", "f.markdown")
    found = article_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.TXT", "b.Md", "sub/c.txt"]
    assert check_articles_dir(tmp_path) == found


def test_article_files_ignores_hidden_files_and_folders(tmp_path: Path) -> None:
    _touch(tmp_path, "ok.txt", ".hidden.txt", ".git/g.txt", "sub/.cache/h.md", "sub/.x.md")
    assert [p.name for p in article_files(tmp_path)] == ["ok.txt"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_article_files_does_not_follow_symlinked_folders(tmp_path: Path) -> None:
    _touch(tmp_path, "sub/a.txt")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "link").symlink_to(tmp_path / "sub", target_is_directory=True)
    assert [p.relative_to(tmp_path).as_posix() for p in article_files(tmp_path)] == ["sub/a.txt"]
