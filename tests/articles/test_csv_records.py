"""Tests for diploqa.articles.csv_records: CSV files without a header that names the text,
read by the columns the user gives (``--csv-columns``), and the separator and quote character
found for them.

tests/articles/headerless/ holds two small exports written for these tests: nachrichten.csv
is written like 10kGNAD (``label;'text'``: ``;`` separates, ``'`` quotes the fields that need
it, no header), meldungen.csv is a comma CSV without a header (id, date, outlet, title, text).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from diploqa.articles import (
    Article,
    CsvColumns,
    CsvReader,
    SkippedFile,
    load_articles,
    read_file,
    reader_for,
)
from diploqa.articles import csv_records as csv_module
from diploqa.config import ReadLimits
from diploqa.errors import ArticlesError

HEADERLESS = Path(__file__).parent / "headerless"
TEXT = "Lawrow traf Kerry in Genf. Sie sprachen lange über eine Waffenruhe in Syrien."


def read(columns: CsvColumns | None, data: bytes, limits=None) -> list[Article | SkippedFile]:
    return list(CsvReader(columns).read_stream(io.BytesIO(data), "f.csv", limits=limits))


def texts(items: list) -> list[str]:
    return [i.text if isinstance(i, Article) else f"skipped: {i.reason}" for i in items]


# --- the fixture exports -------------------------------------------------------------------
def test_a_10kgnad_like_file_needs_the_columns_and_says_so(tmp_path: Path) -> None:
    shutil.copy(HEADERLESS / "nachrichten.csv", tmp_path)
    articles, skipped = load_articles(tmp_path)
    assert articles == [] and [s.path for s in skipped] == ["nachrichten.csv"]
    reason = skipped[0].reason
    assert reason.startswith("no text column (the header, line 1, names none of")
    assert "--csv-columns" in reason and "text=2" in reason and "\n" not in reason


def test_a_10kgnad_like_file_by_column_number(tmp_path: Path) -> None:
    shutil.copy(HEADERLESS / "nachrichten.csv", tmp_path)
    articles, skipped = load_articles(tmp_path, csv_columns=CsvColumns(text=2))
    assert skipped == []
    assert [a.id for a in articles] == [f"nachrichten.csv#{n}" for n in (1, 2, 3, 4)]
    first, second, third, fourth = (a.text for a in articles)
    # ' quotes a field holding ; or ', '' in it is one ', and the quotes are not kept
    assert first.startswith("Lawrow und Tillerson vereinbaren neue Gespräche über die Ukraine;")
    assert "man habe 'konstruktiv' gesprochen" in first and first.endswith("offen.")
    # unquoted fields keep their commas and their "quotes"
    assert "Sein Nachfolger soll, so heißt es aus Moskau, der" in second
    assert 'als "Hardliner" gilt.' in second and not second.startswith("Inland")
    assert third.startswith("Neue Sanktionen treffen russische Banken und Energiefirmen.")
    assert fourth.endswith("verzichtete überraschend auf Gegenmaßnahmen.")
    assert articles[0].title.startswith("Lawrow und Tillerson vereinbaren")
    assert all(a.outlet is None and a.date is None for a in articles)  # only the text given


def test_a_headerless_comma_file_with_every_field(tmp_path: Path) -> None:
    shutil.copy(HEADERLESS / "meldungen.csv", tmp_path)
    columns = CsvColumns.parse("id=1,date=2,outlet=3,title=4,text=5")
    articles, skipped = load_articles(tmp_path, csv_columns=columns)
    assert skipped == []
    genf, helsinki = articles
    assert (genf.id, genf.date, genf.outlet, genf.title) == (
        "meldungen.csv#genf-2021",
        "2021-06-16",
        "Genfer Tagesbote",
        "Biden und Putin in Genf",
    )
    assert "zurückzuschicken.\n\nPutin nannte" in genf.text  # a quoted field over lines
    assert helsinki.id == "meldungen.csv#helsinki-2018" and helsinki.date == "2018-07-16"
    assert "ersten Gipfel; das Gespräch" in helsinki.text  # ; inside quotes, not a separator


def test_columns_apply_to_csv_files_only(tmp_path: Path) -> None:
    shutil.copy(HEADERLESS / "nachrichten.csv", tmp_path)
    (tmp_path / "f.jsonl").write_text(f'{{"id": "a", "text": "{TEXT}"}}\n', encoding="utf-8")
    articles, skipped = load_articles(tmp_path, csv_columns=CsvColumns(text=2))
    assert len(articles) == 5 and articles[0].id == "f.jsonl#a" and skipped == []
    assert reader_for("x.CSV", CsvColumns(text=2)).columns == CsvColumns(text=2)
    assert reader_for("x.csv").columns is None and reader_for("x.jsonl", CsvColumns(text=2))


# --- columns by number (no header line) ----------------------------------------------------
def test_numbered_rows_are_checked_against_the_first() -> None:
    data = (
        f"1;Politik;{TEXT}\n"
        "2;Politik\n"  # a field short
        f"3;Politik;{TEXT} Drei.;zu viel\n"
        "\n"
        "4;Politik;\n"  # no text
        f"5;Politik;{TEXT} Fünf.\n"
    ).encode()
    items = read(CsvColumns(text=3, id=1), data)
    assert [i.id if isinstance(i, Article) else i for i in items] == [
        "f.csv#1",
        SkippedFile("f.csv#2", "line 2: 2 fields, the first row has 3"),
        SkippedFile("f.csv#3", "line 3: 4 fields, the first row has 3"),
        SkippedFile("f.csv#4", "line 5: no text (column 3 is empty)"),
        "f.csv#5",
    ]


def test_a_column_beyond_the_first_row_skips_the_file_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text(f"Politik;{TEXT}\n", encoding="utf-8")
    articles, skipped = load_articles(tmp_path, csv_columns=CsvColumns(text=3))
    assert articles == []
    assert skipped == [
        SkippedFile("f.csv", "line 1 has 2 field(s) separated by ';', --csv-columns names column 3")
    ]


def test_numbered_columns_read_the_first_line_as_a_row() -> None:
    (article,) = read(CsvColumns(text=1), f"{TEXT}\n".encode())
    assert (article.id, article.text) == ("f.csv#1", TEXT)
    with pytest.raises(ArticlesError, match=r"^f\.csv: empty file$"):
        read(CsvColumns(text=1), b"")
    with pytest.raises(ArticlesError, match=r"^f\.csv: no records$"):
        read(CsvColumns(text=1), b"\n \n")


# --- columns by header name ----------------------------------------------------------------
def test_columns_by_header_name_replace_the_usual_names() -> None:
    data = (
        "Kategorie;text;Überschrift;Inhalt;URL\n"
        f"Politik;ein Rest;Genfer Gespräche;{TEXT};https://example.org/genf\n"
    ).encode()
    (article,) = read(CsvColumns.parse("text=inhalt, title=Überschrift"), data)
    assert (article.text, article.title) == (TEXT, "Genfer Gespräche")  # not "text"
    assert article.url == "https://example.org/genf"  # a field not given: by its usual name
    assert article.id == "f.csv#1"


def test_a_named_column_missing_from_the_header_skips_the_file(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text(f"Titel;Text\nGenf;{TEXT}\n", encoding="utf-8")
    articles, skipped = load_articles(tmp_path, csv_columns=CsvColumns.parse("text=Inhalt"))
    assert articles == []
    assert skipped == [
        SkippedFile(
            "f.csv",
            "no column 'Inhalt' for the text (--csv-columns) in the header, line 1: "
            "'Titel', 'Text'",
        )
    ]


def test_an_empty_named_text_column_is_named() -> None:
    items = read(CsvColumns(text="Inhalt"), f"Inhalt,Titel\n,Genf\n{TEXT},Genf 2\n".encode())
    assert texts(items) == ["skipped: line 2: no text (column 'Inhalt' is empty)", TEXT]


# --- separator and quote character ---------------------------------------------------------
@pytest.mark.parametrize("separator", [",", ";", "\t"])
@pytest.mark.parametrize("quote", ['"', "'"])
def test_separator_and_quote_are_found_without_a_header(separator: str, quote: str) -> None:
    other = ";" if separator != ";" else ","
    field = f"{quote}Er sagte{other} {quote * 2}Nein{quote * 2}{separator} und ging.{quote}"
    rows = [
        separator.join(["1", field]),
        separator.join(["2", f"{TEXT} Ohne Anführung{other} zwei{other} drei."]),
        separator.join(["3", f"{TEXT} Noch eine{other} Zeile."]),
    ]
    items = read(CsvColumns(text=2, id=1), ("\r\n".join(rows) + "\r\n").encode())
    kept = "" if separator == "\t" else separator  # cleaning takes a tab in a text out
    assert texts(items) == [
        f"Er sagte{other} {quote}Nein{quote}{kept} und ging.",
        f"{TEXT} Ohne Anführung{other} zwei{other} drei.",
        f"{TEXT} Noch eine{other} Zeile.",
    ]


def test_single_quotes_with_a_header() -> None:
    data = f"id;title;text\na;'Genf; Lausanne';'{TEXT} Sie sagten: ''Nein''.'\n".encode()
    (article,) = read(None, data)
    assert (article.title, article.text) == ("Genf; Lausanne", f"{TEXT} Sie sagten: 'Nein'.")


def test_apostrophes_in_a_text_are_not_quotes() -> None:
    """' counts only where it opens and closes a field; here the fields are quoted with "."""
    data = (
        "id,title,text\n"
        f'a,\'s-Hertogenbosch,"{TEXT} Ein Satz, mit Komma."\n'
        f"b,Rock 'n' Roll,\"{TEXT} Nummer zwei.\"\n"
    ).encode()
    first, second = read(None, data)
    assert (first.title, second.title) == ("'s-Hertogenbosch", "Rock 'n' Roll")
    assert first.text == f"{TEXT} Ein Satz, mit Komma."


def test_quote_and_separator_detection() -> None:
    quoted = ["1;'a, b; c'\n", "2;'d'\n"]
    assert csv_module._quote_char(quoted) == "'"
    assert csv_module._quote_char(['1,"a, b",c\n', "2,it's,x\n"]) == '"'
    assert csv_module._quote_char(["1,2\n"]) == '"'
    assert csv_module._unquoted(quoted, "'") == ["1;", "2;"]
    # a quoted field that the lines do not close: the lines from it on are left out
    assert csv_module._unquoted(["1;a,b\n", "2;'c,\n", "d,e\n"], "'") == ["1;a,b"]
    assert csv_module._separator(["1;a, b, c", "2;d", "3;e, f"]) == ";"  # the steady one
    assert csv_module._separator(["id,title;x,text"]) == ","  # a header: the most
    assert csv_module._separator(["a\tb\tc", "d\te\tf"]) == "\t"
    assert csv_module._separator([]) == ","


# --- hostile input -------------------------------------------------------------------------
def test_a_single_quoted_row_over_the_limit_is_read_past() -> None:
    big = "Ein sehr langer Satz über Diplomatie, mit Komma; und Semikolon. " * 20
    data = (
        f"Politik;'{TEXT} Eins.'\n"
        f"Politik;'{big}\n{big}\n\n{big}\n{big}'\n"  # over the limit after two of five lines
        f"Politik;{TEXT} Drei.\n"
    ).encode()
    items = read(CsvColumns(text=2), data, ReadLimits(max_article_bytes=2000))
    assert [type(i) for i in items] == [Article, SkippedFile, Article]
    assert items[1].path == "f.csv#2" and items[1].reason.startswith("line 2: too large (")
    assert items[2].text == f"{TEXT} Drei."


def test_the_sample_is_bounded(tmp_path: Path, monkeypatch) -> None:
    """Only about SNIFF_BYTES are looked at to sniff; the rows after are read all the same."""
    monkeypatch.setattr(csv_module, "SNIFF_BYTES", 200)
    path = tmp_path / "f.csv"
    path.write_text(
        "".join(f"{i};'{TEXT} Nummer {i}; mit Semikolon.'\n" for i in range(50)),
        encoding="utf-8",
    )
    items = list(read_file(path, tmp_path, csv_columns=CsvColumns(text=2, id=1)))
    assert [a.id for a in items] == [f"f.csv#{i}" for i in range(50)]
    assert items[49].text == f"{TEXT} Nummer 49; mit Semikolon."
