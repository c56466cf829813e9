"""Tests for diploqa.articles.csv_columns and the ``--csv-columns`` option on every path that
indexes: ``diploqa index``, ``diploqa serve``'s builds (:class:`~diploqa.app.IndexHolder`) and
``build_index`` from Python, each with the real model on a header-less CSV file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import run_cli

import diploqa
from diploqa.app import IndexHolder, Updater
from diploqa.articles import CsvColumns, parse_csv_columns
from diploqa.cli import _parser, main
from diploqa.errors import ArticlesError

HEADERLESS = Path(__file__).parent / "headerless"
#: nachrichten.csv's second line, and a question only it answers.
KISLJAK = "nachrichten.csv#2"
KISLJAK_QUESTION = "Wer soll Nachfolger des russischen Botschafters Kisljak werden?"


# --- the text form -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "columns"),
    [
        ("text=2", CsvColumns(text=2)),
        (" Text = 2 , TITLE=1 ", CsvColumns(text=2, title=1)),
        ("id=1,date=2,outlet=3,title=4,text=5,url=6", CsvColumns(5, 4, 2, 3, 6, 1)),
        ("text=Inhalt,title=Überschrift", CsvColumns(text="Inhalt", title="Überschrift")),
        ("text=Text des Artikels", CsvColumns(text="Text des Artikels")),
    ],
)
def test_columns_from_their_text_form(spec: str, columns: CsvColumns) -> None:
    assert CsvColumns.parse(spec) == columns == parse_csv_columns(spec)
    assert CsvColumns.parse(str(columns)) == columns
    assert columns.numbered == isinstance(columns.text, int)


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("", "'' is not FIELD=COLUMN"),
        ("2", "'2' is not FIELD=COLUMN"),
        ("text=2,", "'' is not FIELD=COLUMN"),
        ("=2", "'=2' is not FIELD=COLUMN"),
        ("text=", "text: no column"),
        ("body=2", "no field 'body' (the fields: text, title, date, outlet, url, id)"),
        ("text=2,text=3", "text given twice"),
        ("title=1", "no text column"),
        ("text=0", "text=0: column numbers count from 1"),
        ("text=-1", "text=-1: column numbers count from 1"),
        ("text=2,title=Titel", "column numbers and header names mixed"),
        ("text=2,title=2", "column 2 given for text and title"),
        ("text=Inhalt,title= inhalt", "column inhalt given for text and title"),
    ],
)
def test_a_bad_text_form_is_one_line_naming_it(spec: str, why: str) -> None:
    with pytest.raises(ArticlesError) as raised:
        CsvColumns.parse(spec)
    message = str(raised.value)
    assert message.startswith(f"CSV columns {spec!r}: {why}; give FIELD=COLUMN pairs, e.g. ")
    assert "\n" not in message


def test_columns_are_checked_however_made() -> None:
    assert parse_csv_columns(None) is None and parse_csv_columns("  ") is None
    columns = CsvColumns(text=2)
    assert parse_csv_columns(columns) is columns
    for bad in ({"text": 0}, {"text": True}, {"text": " "}, {"text": 2.0}, {"text": 2, "id": "a"}):
        with pytest.raises(ArticlesError, match=r"^CSV columns "):
            CsvColumns(**bad)
    with pytest.raises(ArticlesError, match=r"^CSV columns: a text like 'text=2'"):
        parse_csv_columns(2)  # type: ignore[arg-type]


# --- the command line ----------------------------------------------------------------------
def test_index_and_serve_take_the_option() -> None:
    for command in (["index"], ["serve"]):
        args = _parser().parse_args([*command, "--csv-columns", "text=2,title=1"])
        assert args.csv_columns == CsvColumns(text=2, title=1)
        assert _parser().parse_args(command).csv_columns is None


@pytest.mark.parametrize("command", ["index", "serve"])
def test_a_bad_option_is_a_usage_error(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--csv-columns", "text=0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --csv-columns: CSV columns 'text=0': text=0: column numbers count" in err


@pytest.mark.slow
def test_diploqa_index_with_csv_columns(tmp_path: Path) -> None:
    """The command in a fresh process, with the real model, on a 10kGNAD-like file."""
    articles, index_dir = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    shutil.copy(HEADERLESS / "nachrichten.csv", articles)
    folders = ["--articles", str(articles), "--index", str(index_dir)]
    done = run_cli("index", *folders, "--csv-columns", "text=2")
    assert done.returncode == 0, done.stderr
    assert "4 added" in done.stdout and "0 skipped" in done.stdout
    index = diploqa.load_index(index_dir)
    assert sorted(index.manifest.articles) == [f"nachrichten.csv#{n}" for n in (1, 2, 3, 4)]
    assert index.search(KISLJAK_QUESTION, k=1)[0].source == KISLJAK


def test_diploqa_index_without_the_option_points_to_it(tmp_path: Path, embedder, capsys) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(HEADERLESS / "nachrichten.csv", articles)
    assert main(["index", "--articles", str(articles), "--index", str(tmp_path / "i")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no readable article in") and "\n" not in err
    assert "nachrichten.csv (no text column (the header, line 1, names none of" in err
    assert "with --csv-columns, e.g. text=2" in err


# --- Python --------------------------------------------------------------------------------
def test_build_index_with_csv_columns(tmp_path: Path, embedder) -> None:
    articles, index_dir = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    shutil.copy(HEADERLESS / "nachrichten.csv", articles)
    index = diploqa.build_index(articles, index_dir, csv_columns="text=2")
    assert len(index.build_report.added) == 4 and not index.build_report.skipped
    assert index.search(KISLJAK_QUESTION, k=1)[0].source == KISLJAK

    again = diploqa.build_index(articles, index_dir, csv_columns=CsvColumns(text=2))
    assert len(again.build_report.unchanged) == 4 and not again.build_report.changed

    with pytest.raises(ArticlesError, match=r"^CSV columns 'text=zwei,title=1': "):
        diploqa.build_index(articles, tmp_path / "other", csv_columns="text=zwei,title=1")
    assert not (tmp_path / "other").exists()  # refused before anything is made


def test_the_servers_builds_use_the_columns(tmp_path: Path, embedder) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(HEADERLESS / "meldungen.csv", articles)
    columns = CsvColumns.parse("id=1,date=2,outlet=3,title=4,text=5")
    updater = Updater(IndexHolder(tmp_path / "index"), articles, csv_columns=columns)
    report = updater.update()
    assert report.added == ["meldungen.csv#genf-2021", "meldungen.csv#helsinki-2018"]
    assert updater.holder.index.article("meldungen.csv#genf-2021").outlet == "Genfer Tagesbote"

    with (articles / "meldungen.csv").open("a", encoding="utf-8", newline="") as out:
        out.write('bonn-2017,16.02.2017,Rheinische Rundschau,Tillerson in Bonn,"Rex Tillerson '
                  'und Sergej Lawrow trafen sich in Bonn zum ersten Mal."\r\n')  # fmt: skip
    holder = IndexHolder(tmp_path / "index")
    holder.load()
    reloaded = Updater(holder, articles, csv_columns=columns)
    reloaded.check_articles()
    assert reloaded.pending is not None and reloaded.pending.startswith("1 neue")
    assert reloaded.update().added == ["meldungen.csv#bonn-2017"]


def test_the_index_remembers_the_columns_for_later_builds(tmp_path: Path) -> None:
    """A later ``diploqa index`` or ``serve`` without the option reads the CSV files as the
    first build did (else its articles would be dropped as unreadable); other columns read
    them again and are recorded."""
    from deterministic_encoder import DeterministicEncoder

    from diploqa.build import build

    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(HEADERLESS / "nachrichten.csv", articles)
    index_dir, encoder = tmp_path / "index", DeterministicEncoder()
    first, stored = build(articles, index_dir, encoder=encoder, csv_columns="text=2")
    assert first.added and stored.manifest.csv_columns == "text=2"

    again, stored = build(articles, index_dir, encoder=encoder)  # no option: the recorded one
    assert not (again.added or again.removed or again.updated) and again.unchanged == first.added
    assert stored.manifest.csv_columns == "text=2"

    changed, stored = build(articles, index_dir, encoder=encoder, csv_columns="text=2,outlet=1")
    assert not (changed.removed or changed.added)
    assert stored.manifest.csv_columns == "text=2,outlet=1"
    # read again with the new columns (the text is the same: its vectors are kept)
    assert stored.articles[first.added[0]].outlet == "International"
    assert encoder.passages_encoded == first.embedded

    rebuilt, stored = build(articles, index_dir, encoder=encoder, rebuild=True)
    assert sorted(rebuilt.added) == sorted(first.added)  # --rebuild keeps the columns too
    assert stored.manifest.csv_columns == "text=2,outlet=1"


def test_a_server_without_the_option_uses_the_recorded_columns(tmp_path: Path) -> None:
    from deterministic_encoder import DeterministicEncoder

    from diploqa.app.pending import compare
    from diploqa.build import build
    from diploqa.index import Index

    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(HEADERLESS / "nachrichten.csv", articles)
    encoder = DeterministicEncoder()
    _, stored = build(articles, tmp_path / "index", encoder=encoder, csv_columns="text=2")
    index = Index(stored, encoder)
    assert compare(articles, index) == compare(articles, index, CsvColumns.parse("text=2"))
    assert not compare(articles, index).stale  # nothing to do: the files are read alike
    assert compare(articles, index, CsvColumns.parse("text=2,outlet=1")).stale
