"""Tests for diploqa.articles.readers: encodings, headers, parse_article, the readers."""

from __future__ import annotations

import codecs
import hashlib
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from test_cleaning import TEXTS

from diploqa.articles import (
    ARTICLE_SUFFIXES,
    READERS,
    CsvReader,
    HtmlReader,
    JsonLinesReader,
    JsonReader,
    TextReader,
    clean_text,
    decode_bytes,
    parse_article,
    reader_for,
)
from diploqa.articles.article import content_hash
from diploqa.errors import ArticlesError

# --- encodings -----------------------------------------------------------------------------
SAMPLE = "Gespräche über Außenminister – „Zitat“ kostet 5 €."


def test_decode_utf8_and_bom() -> None:
    assert decode_bytes(SAMPLE.encode()) == SAMPLE
    assert decode_bytes(codecs.BOM_UTF8 + SAMPLE.encode()) == SAMPLE


def test_decode_cp1252() -> None:
    assert decode_bytes(SAMPLE.encode("cp1252")) == SAMPLE


def test_decode_latin1_fallback() -> None:
    data = "Grüße aus München".encode("latin-1") + b"\x81"  # 0x81 is undefined in cp1252
    assert clean_text(decode_bytes(data)) == "Grüße aus München"


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_decode_utf16_with_bom(bom: bytes, codec: str) -> None:
    assert decode_bytes(bom + SAMPLE.encode(codec)) == SAMPLE


def test_decode_rejects_binary() -> None:
    png = b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(256)
    for data in (png, b"Text\x00mit NUL", bytes(range(1, 32)) * 4, b"%PDF-1.4 xyz"):
        with pytest.raises(ArticlesError, match="binary"):
            decode_bytes(data)
    with pytest.raises(ArticlesError, match="UTF-16"):
        decode_bytes(codecs.BOM_UTF16_LE + b"abc")


def test_decode_accepts_form_feed_and_tabs() -> None:
    assert decode_bytes(b"Seite 1\fSeite 2\tEnde") == "Seite 1\fSeite 2\tEnde"


def test_parse_article_empty_raises_with_id() -> None:
    with pytest.raises(ArticlesError, match=r"^x/y\.txt: empty after cleaning$"):
        parse_article("title: Nur Kopf\ndate: 2016\n\nTeilen\n", "x/y.txt")


# --- headers -------------------------------------------------------------------------------
HEADER_CASES = [
    # raw, (date, title, outlet, url), text start
    ("date: 2016-10-21\n\nText hier.", ("2016-10-21", "Text hier.", None, None), "Text hier."),
    (
        " date 2016-10 Erster Satz. Zweiter.",
        ("2016-10", "Erster Satz. Zweiter.", None, None),
        "Erster Satz.",
    ),
    ("Date 2017 Erster Satz.", ("2017", "Erster Satz.", None, None), "Erster Satz."),
    ("  DATE: 21.10.2016\nText.", ("2016-10-21", "Text.", None, None), "Text."),
    ("date 1.2.2017 Text.", ("2017-02-01", "Text.", None, None), "Text."),
    ("date: 2016-10-21T12:30:00+02:00\nText.", ("2016-10-21", "Text.", None, None), "Text."),
    ("date: Oktober 2016\nText.", ("2016-10", "Text.", None, None), "Text."),
    ("date: 14. Oktober 2016\nText.", ("2016-10-14", "Text.", None, None), "Text."),
    ("date: 21.10.2016 Berlin\nText.", ("2016-10-21", "Text.", None, None), "Text."),
    ("date: irgendwann\nText.", (None, "Text.", None, None), "Text."),
    (
        "title: Kerry in Moskau\nsource: Süddeutsche Zeitung\nurl: https://www.sueddeutsche.de/x\n\nText.",
        (None, "Kerry in Moskau", "Süddeutsche Zeitung", "https://www.sueddeutsche.de/x"),
        "Text.",
    ),
    (
        "url https://www.spiegel.de/a.html\nText.",
        (None, "Text.", "DER SPIEGEL", "https://www.spiegel.de/a.html"),
        "Text.",
    ),
    (
        "URL: https://example.org/a\nText.",
        (None, "Text.", "example.org", "https://example.org/a"),
        "Text.",
    ),
    (
        "source: Tagesspiegel\nurl: https://www.zeit.de/x\nText.",
        (None, "Text.", "Tagesspiegel", "https://www.zeit.de/x"),
        "Text.",
    ),
    (
        "url: https://www.zeit.de/x\nText.\nZur SZ-Startseite",
        (None, "Text.", "Süddeutsche Zeitung", "https://www.zeit.de/x"),
        "Text.",
    ),
    ("title Ohne Doppelpunkt\nText.", (None, "Ohne Doppelpunkt", None, None), "Text."),
    ("Title : Mit Leerzeichen\nText.", (None, "Mit Leerzeichen", None, None), "Text."),
    (
        "---\ntitle: Front\ndate: 2017-04-12\n---\n# Überschrift\nText.",
        ("2017-04-12", "Front", None, None),
        "# Überschrift",
    ),
]


@pytest.mark.parametrize(("raw", "fields", "start"), HEADER_CASES)
def test_header_parsing(raw: str, fields: tuple, start: str) -> None:
    article = parse_article(raw, "x.txt")
    assert (article.date, article.title, article.outlet, article.url) == fields
    assert article.text.startswith(start)
    for key in ("date", "title:", "source", "url"):
        assert key not in article.text.lower()


@pytest.mark.parametrize(
    "raw",
    [
        "Date palms wachsen in Oman.\nText.",
        "Title IX ist ein US-Gesetz.\nText.",
        "Source code ist offen.\nText.",
        "Dateien wurden gelöscht.",
        "URL-Kürzel sind beliebt.",
    ],
)
def test_header_lookalikes_at_top_are_text(raw: str) -> None:
    article = parse_article(raw, "x.txt")
    assert article.text == clean_text(raw)
    assert article.date is None and article.url is None and article.outlet is None


def test_header_keys_not_recognised_mid_text() -> None:
    raw = "Erster Satz.\ndate: 2016-10\ntitle: Falsch\nDate 2017 war ein Jahr."
    article = parse_article(raw, "x.txt")
    assert article.date is None
    assert article.title == "Erster Satz."
    assert article.text == raw


def test_title_header_overrides_derived_title() -> None:
    article = parse_article("title: Eigener Titel\n\nErste Zeile.\n\nZweite.", "x.txt")
    assert article.title == "Eigener Titel"
    assert article.text == "Erste Zeile.\n\nZweite."


# --- content hash --------------------------------------------------------------------------
def test_content_hash_stable_and_sensitive() -> None:
    raw = "date 2016-10 Kerry trifft Lawrow.\n\nSie reden."
    first = parse_article(raw, "a.txt")
    assert parse_article(raw, "b.txt").content_hash == first.content_hash
    assert parse_article(raw.replace("\n", "\r\n"), "a.txt").content_hash == first.content_hash
    assert parse_article(raw + " Lange.", "a.txt").content_hash != first.content_hash
    assert (
        parse_article(raw.replace("2016-10", "2016-11"), "a.txt").content_hash != first.content_hash
    )
    expected = hashlib.sha256(f"{first.title}\n2016-10\n{first.text}".encode()).hexdigest()
    assert first.content_hash == expected


# --- properties ----------------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(TEXTS)
def test_parse_article_only_raises_articles_error(raw: str) -> None:
    try:
        article = parse_article(raw, "x.txt")
    except ArticlesError as err:
        assert str(err) == "x.txt: empty after cleaning"
    else:
        assert article.text and article.title


@pytest.mark.parametrize(
    ("header", "date", "date_text"),
    [
        ("date: 14. Oktober 2016", "2016-10-14", "14. Oktober 2016"),
        ("date 21.10.2016", "2016-10-21", "21.10.2016"),
        ("date: 2016-10-21T12:30:00+02:00", "2016-10-21", "2016-10-21T12:30:00+02:00"),
        ("date: irgendwann im Herbst", None, "irgendwann im Herbst"),
        ("title: Ohne Datum", None, None),
    ],
)
def test_header_date_is_iso_and_the_written_form_is_kept(header, date, date_text) -> None:
    article = parse_article(f"{header}\n\nKerry traf Lawrow.", "x.txt")
    assert (article.date, article.date_text) == (date, date_text)


# --- readers -------------------------------------------------------------------------------
def test_reader_for_takes_every_kind_in_any_case() -> None:
    assert ARTICLE_SUFFIXES == (".txt", ".md", ".html", ".htm", ".jsonl", ".json", ".csv")
    assert [type(r) for r in READERS] == [
        TextReader,
        HtmlReader,
        JsonLinesReader,
        JsonReader,
        CsvReader,
    ]
    for name in ("a.txt", "A.TXT", "b.md", "c.Md", Path("x/y.Txt"), "x/ü mit Leerzeichen.md"):
        assert isinstance(reader_for(name), TextReader), name
    expected = {"a.HTML": HtmlReader, "b.htm": HtmlReader, "c.JSONL": JsonLinesReader}
    expected |= {"d.json": JsonReader, "e.Csv": CsvReader}
    for name, kind in expected.items():
        assert isinstance(reader_for(name), kind), name
    for name in ("a.rst", "txt", "a.txt.bak", "b.markdown", "c.xhtml", "d.ndjson", "e.tsv"):
        assert reader_for(name) is None, name
    assert reader_for(Path("d.txt/e")) is None


def test_text_reader_reads_one_article_and_names_the_file() -> None:
    reader = TextReader()
    data = "title: Kerry\ndate: 2016-10\n\nLawrow traf Kerry.".encode("cp1252")
    assert reader.read(data, "a/b.txt") == [parse_article(decode_bytes(data), "a/b.txt")]
    with pytest.raises(ArticlesError, match=r"^a/b\.txt: not valid text \(binary data\)$"):
        reader.read(b"\x89PNG\r\n\x1a\n", "a/b.txt")
    with pytest.raises(ArticlesError, match=r"^a/b\.txt: empty after cleaning$"):
        reader.read(b"Teilen\n", "a/b.txt")


def test_content_hash_helper_is_the_articles() -> None:
    article = parse_article("date 2016-10 Kerry trifft Lawrow.\n\nSie reden.", "a.txt")
    assert content_hash(article.title, article.date, article.text) == article.content_hash
    assert content_hash("T", None, "x") == hashlib.sha256(b"T\n\nx").hexdigest()
