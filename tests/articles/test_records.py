"""Tests for diploqa.articles.records: JSON Lines, JSON and CSV files, one article per record.

tests/articles/records/ holds small realistic exports (written for these tests) with the field
name variants a news export uses; the bad-input cases are generated here.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import shutil
import tracemalloc
from pathlib import Path

import pytest

from diploqa.articles import (
    Article,
    CsvReader,
    JsonLinesReader,
    JsonReader,
    SkippedFile,
    load_articles,
    read_article,
    read_file,
)
from diploqa.articles import records as records_module
from diploqa.articles.article import content_hash
from diploqa.config import ReadLimits
from diploqa.errors import ArticlesError

RECORDS = Path(__file__).parent / "records"
TEXT = "Lawrow traf Kerry in Genf. Sie sprachen lange über eine Waffenruhe in Syrien."


def jsonl(*records: object) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def read(
    reader, data: bytes, file_id: str = "f", known=None, limits=None
) -> list[Article | SkippedFile]:
    return list(reader.read_stream(io.BytesIO(data), file_id, known, limits))


def articles_of(items: list) -> list[Article]:
    return [i for i in items if isinstance(i, Article)]


def skipped_of(items: list) -> list[SkippedFile]:
    return [i for i in items if isinstance(i, SkippedFile)]


# --- the fixture exports -------------------------------------------------------------------
def test_exports_in_a_folder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    shutil.copytree(RECORDS, tmp_path / "a")
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        articles, skipped = load_articles(tmp_path / "a")
    assert skipped == [] and caplog.records == []
    by_id = {a.id: a for a in articles}
    assert list(by_id) == [
        "news.csv#helsinki-2018",
        "news.csv#botschaften-2017",
        "news.csv#genf-2021",
        "news.json#101",
        "news.json#102",
        "news.jsonl#g20-bonn-2017",
        "news.jsonl#minsk-oktober-2016",
        "news.jsonl#3",
        "news.jsonl#abrüstung-2010",
    ]
    helsinki = by_id["news.csv#helsinki-2018"]
    assert (helsinki.title, helsinki.date, helsinki.date_text) == (
        "Trump und Putin in Helsinki",
        "2018-07-16",
        "16.07.2018",
    )
    assert helsinki.outlet == "Nordische Allgemeine"
    assert helsinki.url == "https://www.nordische-allgemeine.fi/trump-putin-helsinki"
    assert helsinki.text.startswith("Im Präsidentenpalast von Helsinki")
    assert (
        "\n\nAuf der anschließenden Pressekonferenz" in helsinki.text
    )  # a quoted multi-line field
    assert by_id["news.csv#genf-2021"].date == "2021-06-16"  # "June 16, 2021"
    assert by_id["news.csv#botschaften-2017"].url is None
    new_start = by_id["news.json#101"]
    assert (new_start.title, new_start.date, new_start.outlet) == (
        "New Start verlängert: Atomwaffen-Vertrag gilt bis 2026",
        "2021-02-03",
        "Rheinische Rundschau",
    )
    # field names: headline/published/publisher {"name"}/body as a list of paragraphs
    minsk = by_id["news.jsonl#minsk-oktober-2016"]
    assert (minsk.title, minsk.date, minsk.date_text, minsk.outlet) == (
        "Normandie-Treffen in Berlin endet spät in der Nacht",
        "2016-10-20",
        "20. Oktober 2016",
        "Märkische Abendpost",
    )
    assert minsk.text.count("\n\n") == 1
    # case-insensitive names (ID, Title, Date, Site, Content); a numeric id
    geneva = by_id["news.jsonl#3"]
    assert (geneva.title, geneva.date, geneva.outlet) == (
        "Kerry und Lawrow vereinbaren Waffenruhe für Syrien",
        "2016-09-10",
        "Genfer Tagesbote",
    )
    start = by_id["news.jsonl#abrüstung-2010"]  # "article" and "link"; a month only
    assert (start.date, start.url) == (
        "2010-04",
        "https://www.prager-zeitung-online.cz/politik/start-vertrag",
    )
    for article in articles:
        assert article.source_hash and article.content_hash == content_hash(
            article.title, article.date, article.text
        )


def test_read_article_refuses_a_file_of_records() -> None:
    with pytest.raises(ArticlesError, match=r"^news\.jsonl: a file of records"):
        read_article(RECORDS / "news.jsonl", RECORDS)


# --- ids -----------------------------------------------------------------------------------
def test_ids_are_the_id_field_or_the_record_number() -> None:
    data = jsonl({"text": TEXT}, {"id": " a  b ", "text": TEXT + " 2"}, {"text": TEXT + " 3"})
    assert [a.id for a in read(JsonLinesReader(), b"\n" + data, "x/f.jsonl")] == [
        "x/f.jsonl#2",  # the line, blank lines counted
        "x/f.jsonl#a b",
        "x/f.jsonl#4",
    ]


def test_duplicate_id_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "f.jsonl").write_bytes(
        jsonl(
            {"id": "x", "text": TEXT},
            {"id": "x", "text": TEXT + " Neu."},
            {"id": 1, "text": TEXT + " Eins."},
            {"text": TEXT + " Vier."},
        )
    )
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["f.jsonl#x", "f.jsonl#1", "f.jsonl#4"]
    assert articles[0].text == TEXT  # the first is kept
    assert skipped == [
        SkippedFile("f.jsonl#x", "line 2: id 'x' again (the record at line 1 is kept)")
    ]
    assert "f.jsonl#x" in caplog.text and "line 2" in caplog.text


def test_record_number_colliding_with_an_id_is_a_duplicate() -> None:
    items = read(JsonLinesReader(), jsonl({"id": "2", "text": TEXT}, {"text": TEXT + " B."}))
    assert [type(i) for i in items] == [Article, SkippedFile]
    assert items[1].path == "f#2" and "again" in items[1].reason


def test_a_copy_of_another_record_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "f.jsonl").write_bytes(jsonl({"id": "a", "text": TEXT}, {"id": "b", "text": TEXT}))
    articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["f.jsonl#a"]
    assert skipped == [SkippedFile("f.jsonl#b", "same title, date and text as f.jsonl#a")]


# --- bad records ---------------------------------------------------------------------------
def test_bad_lines_and_records_are_skipped_the_rest_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [
        json.dumps({"id": "ok1", "text": TEXT}),
        '{"id": "broken", "text": "Lawrow sagte',  # cut off
        json.dumps({"id": "notext", "title": "Nur ein Titel"}),
        json.dumps({"id": "empty", "text": "   "}),
        json.dumps(["eine", "Liste"]),
        json.dumps({"id": "debris", "text": "Teilen\nZum Inhalt springen"}),
        "not json at all",
        json.dumps({"id": "ok2", "body": TEXT + " Zwei."}),
    ]
    (tmp_path / "f.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["f.jsonl#ok1", "f.jsonl#ok2"]
    assert [(s.path, s.reason.split(":")[0]) for s in skipped] == [
        ("f.jsonl#2", "line 2"),
        ("f.jsonl#notext", "line 3"),
        ("f.jsonl#empty", "line 4"),
        ("f.jsonl#5", "line 5"),
        ("f.jsonl#debris", "line 6"),
        ("f.jsonl#7", "line 7"),
    ]
    reasons = [s.reason for s in skipped]
    assert "not valid JSON" in reasons[0] and "no text" in reasons[1] and "no text" in reasons[2]
    assert "not a JSON object" in reasons[3] and "empty after cleaning" in reasons[4]
    assert "not valid JSON" in reasons[5]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 6
    for item, message in zip(skipped, warnings, strict=True):
        assert item.path in message and item.reason.split(":")[0] in message


def test_csv_bad_rows_name_their_line(tmp_path: Path) -> None:
    data = (
        "id,title,text\n"
        f'a,Eins,"{TEXT}"\n'
        "b,Zwei\n"  # a field short
        f'c,Drei,"{TEXT} Drei.",zu viel\n'  # a field too many
        "\n"
        f"d,Vier,\n"  # no text
        f'e,"Fünf, mit Komma","{TEXT} Fünf."\n'
    )
    (tmp_path / "f.csv").write_text(data, encoding="utf-8")
    articles, skipped = load_articles(tmp_path)
    assert [(a.id, a.title) for a in articles] == [
        ("f.csv#a", "Eins"),
        ("f.csv#e", "Fünf, mit Komma"),
    ]
    assert skipped == [
        SkippedFile("f.csv#2", "line 3: 2 fields, the header has 3"),
        SkippedFile("f.csv#3", "line 4: 4 fields, the header has 3"),
        SkippedFile("f.csv#d", "line 6: " + records_module._NO_TEXT),
    ]


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("id,title,text", ","), ("id;title;text", ";"), ("id\ttitle\ttext", "\t")],
)
def test_csv_separator_from_the_header(header: str, delimiter: str) -> None:
    row = delimiter.join(["a", '"Titel, mit; Zeichen"', f'"{TEXT}"'])
    (article,) = read(CsvReader(), f"{header}\r\n{row}\r\n".encode(), "f.csv")
    assert (article.id, article.title, article.text) == ("f.csv#a", "Titel, mit; Zeichen", TEXT)


def test_csv_quotes_and_newlines_in_fields() -> None:
    data = b'Text,Title\n"Er sagte: ""Nein.""\n\nDann ging er.","Ein ""Nein"""\n'
    (article,) = read(CsvReader(), data, "f.csv")
    assert article.text == 'Er sagte: "Nein."\n\nDann ging er.'
    assert article.title == 'Ein "Nein"' and article.id == "f.csv#1"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.jsonl", b"", "no records"),
        ("b.jsonl", b"\n  \n\n", "no records"),
        ("c.csv", b"", "empty file"),
        ("d.csv", b"id,title,text\n", "no records"),
        ("e.csv", b"id,titel,inhalt\n1,a,b\n", "no text column (the header, line 1, names none of"),
        ("f.json", b"", "empty file"),
        ("g.json", b"[]", "no records"),
        ("h.json", b'{"articles": [', "not valid JSON (line 1, column 15"),
        ("i.json", b'{"count": 3, "name": "x"}', "no list of articles"),
        ("j.json", b'"nur ein Text"', "no list of articles"),
        ("k.jsonl", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not valid text (binary data)"),
        ("l.csv", b"PK\x03\x04" + bytes(100), "not valid text (binary data)"),
        ("m.json", b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_unusable_files_are_skipped_whole(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "ok.txt").write_text("Titel\n\n" + TEXT, encoding="utf-8")
    articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["ok.txt"]
    assert [s.path for s in skipped] == [name]
    assert skipped[0].reason.startswith(reason), skipped[0].reason


def test_json_shapes() -> None:
    record = {"id": "a", "title": "T", "text": TEXT}
    for value in (
        [record],
        {"data": [record]},
        {"Items": [record]},
        {"x": 1, "liste": [record]},
        record,
    ):
        (article,) = read(JsonReader(), json.dumps(value).encode(), "f.json")
        assert (article.id, article.title) == ("f.json#a", "T"), value
    items = read(JsonReader(), json.dumps([record, "text", 5, {"text": TEXT + " B"}]).encode())
    assert [i.path if isinstance(i, SkippedFile) else i.id for i in items] == [
        "f#a",
        "f#2",
        "f#3",
        "f#4",
    ]
    assert items[1].reason == "record 2: not a JSON object"


def test_json_over_its_limit_asks_for_json_lines(tmp_path: Path) -> None:
    limits = ReadLimits(max_json_bytes=1000)
    records = [{"id": i, "text": f"{TEXT} {i}"} for i in range(20)]
    (tmp_path / "big.json").write_text(json.dumps(records), encoding="utf-8")
    (tmp_path / "big.jsonl").write_bytes(jsonl(*records))
    articles, skipped = load_articles(tmp_path, limits=limits)
    assert len(articles) == 20 and all(a.id.startswith("big.jsonl#") for a in articles)
    assert [s.path for s in skipped] == ["big.json"]
    assert "too large for a JSON file" in skipped[0].reason
    assert "convert it to JSON Lines" in skipped[0].reason
    with pytest.raises(ArticlesError, match="too large for a JSON file"):  # not from a file too
        read(JsonReader(), (tmp_path / "big.json").read_bytes(), limits=limits)


# --- size limit ----------------------------------------------------------------------------
def test_a_record_over_the_limit_is_skipped_the_rest_read(tmp_path: Path) -> None:
    big = "Ein sehr langer Satz über Diplomatie. " * 200  # ~7.6 kB
    (tmp_path / "f.jsonl").write_bytes(
        jsonl(
            {"id": "a", "text": TEXT}, {"id": "big", "text": big}, {"id": "c", "text": TEXT + " D."}
        )
    )
    (tmp_path / "f.csv").write_text(
        f'id,text\na,"{TEXT} A."\nbig,"{big}\n\n{big}"\nc,"{TEXT} C."\n', encoding="utf-8"
    )
    (tmp_path / "f.json").write_text(
        json.dumps([{"id": "a", "text": TEXT + " J."}, {"id": "big", "text": big}]),
        encoding="utf-8",
    )
    articles, skipped = load_articles(tmp_path, limits=ReadLimits(max_article_bytes=2000))
    assert [a.id for a in articles] == ["f.csv#a", "f.csv#c", "f.json#a", "f.jsonl#a", "f.jsonl#c"]
    assert [(s.path, s.reason.split(":")[0]) for s in skipped] == [
        ("f.csv#2", "line 3"),  # read past, not parsed: its id is not known
        ("f.json#big", "record 2"),
        ("f.jsonl#2", "line 2"),
    ]
    assert all(" too large (" in s.reason for s in skipped)


def test_a_file_of_records_may_be_larger_than_the_article_limit(
    tmp_path: Path,
) -> None:
    (tmp_path / "f.jsonl").write_bytes(jsonl(*({"text": f"{TEXT} {i}"} for i in range(30))))
    assert (tmp_path / "f.jsonl").stat().st_size > 500
    articles, skipped = load_articles(tmp_path, limits=ReadLimits(max_article_bytes=500))
    assert len(articles) == 30 and skipped == []


# --- encodings -----------------------------------------------------------------------------
def test_jsonl_encoding_fallback_is_named(caplog: pytest.LogCaptureFixture) -> None:
    good = json.dumps({"id": "u", "text": "Gespräch über Außenpolitik."}, ensure_ascii=False)
    cp = json.dumps({"id": "c", "text": "Grüße aus München – 5 €."}, ensure_ascii=False)
    lat = json.dumps({"id": "l", "text": "Grüße aus Köln."}, ensure_ascii=False)
    data = (
        codecs.BOM_UTF8
        + good.encode()
        + b"\n"
        + cp.encode("cp1252")
        + b"\n"
        + lat.encode("latin-1")[:-2]
        + b"\x81"
        + lat.encode("latin-1")[-2:]
        + b"\n"
    )
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        items = read(JsonLinesReader(), data, "f.jsonl")
    assert [a.text for a in items] == [
        "Gespräch über Außenpolitik.",
        "Grüße aus München – 5 €.",
        "Grüße aus Köln.",  # 0x81: undefined in cp1252; a latin-1 control character, removed
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "f.jsonl: line 2 is not valid UTF-8, read as cp1252 (and so is every later such line)",
        "f.jsonl: line 3 is not valid UTF-8, read as latin-1 (and so is every later such line)",
    ]


def test_csv_and_json_in_cp1252_and_utf16(caplog: pytest.LogCaptureFixture) -> None:
    csv_text = f"Titel;Text\nÄrger in Genf;{TEXT} Für Ärger sorgte das.\n"
    for encoding, warned in (("cp1252", True), ("utf-16", False), ("utf-8-sig", False)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="diploqa"):
            (article,) = read(CsvReader(), csv_text.encode(encoding), "f.csv")
            data = json.dumps({"text": "Ärger"}, ensure_ascii=False).encode(encoding)
            (other,) = read(JsonReader(), data, "f.json")
        assert article.text.endswith("Für Ärger sorgte das.") and other.text == "Ärger"
        assert ("read as cp1252" in caplog.text) == warned, encoding


def test_a_binary_line_is_skipped() -> None:
    data = (
        jsonl({"text": TEXT})
        + b"\x01\x02\x03\x04\x05\x06 Steuerzeichen\n"
        + jsonl({"text": TEXT + " B"})
    )
    items = read(JsonLinesReader(), data, "f.jsonl")
    assert [type(i) for i in items] == [Article, SkippedFile, Article]
    assert items[1].reason == "line 2: not text (binary data)"


# --- unchanged records ---------------------------------------------------------------------
def test_unchanged_records_are_taken_from_known_without_cleaning(monkeypatch) -> None:
    records = [{"id": i, "title": f"Titel {i}", "text": f"{TEXT} Nummer {i}."} for i in range(5)]
    first = read(JsonLinesReader(), jsonl(*records), "f.jsonl")
    known = {a.id: a for a in first}
    cleaned: list[str] = []
    real = records_module.make_article
    monkeypatch.setattr(
        records_module, "make_article", lambda i, *a, **kw: cleaned.append(i) or real(i, *a, **kw)
    )
    records[2]["text"] += " Geändert."
    records[3]["extra"] = "ein Feld, das kein Artikel-Feld ist"
    again = read(JsonLinesReader(), jsonl(*records), "f.jsonl", known)
    assert cleaned == ["f.jsonl#2"]
    assert [a is b for a, b in zip(again, first, strict=True)] == [True, True, False, True, True]
    assert again[2].text.endswith("Geändert.")


# --- streaming -----------------------------------------------------------------------------
def _cheap_article(article_id: str, raw_text: str, **fields) -> Article:
    """make_article without the cleaning (which this test does not measure)."""
    return Article(article_id, fields.get("title") or "", raw_text, None, None, None, "h")


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_a_big_file_is_streamed_not_held(tmp_path: Path, monkeypatch, kind: str) -> None:
    """A 50 MB file (one 20 MB record, 3,500 of 8 kB) is read with a peak that follows the
    record limit (here 500 kB), not the file: neither the file nor the big record is held."""
    monkeypatch.setattr(records_module, "make_article", _cheap_article)
    path = tmp_path / f"big.{kind}"
    n, text = 3_500, TEXT * 100
    with path.open("w", encoding="utf-8") as out:
        if kind == "jsonl":
            out.write(json.dumps({"id": "huge", "text": "x" * 20_000_000}) + "\n")
            for i in range(n):
                out.write(json.dumps({"id": i, "title": f"T{i}", "text": text}) + "\n")
        else:
            out.write("id,title,text\n")
            out.write('huge,T,"' + ("x" * 999 + "\n") * 20_000 + '"\n')
            for i in range(n):
                out.write(f'{i},T{i},"{text}"\n')
    size = path.stat().st_size
    assert size > 45_000_000
    count = skipped = 0
    tracemalloc.start()
    try:
        for item in read_file(path, tmp_path, limits=ReadLimits(max_article_bytes=500_000)):
            if isinstance(item, Article):
                count += 1
            else:
                skipped += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (count, skipped) == (n, 1)
    assert peak < 6_000_000, f"peak {peak / 1e6:.1f} MB reading a {size / 1e6:.0f} MB file"


# --- real data, where this machine has it ----------------------------------------------------
NEWS = Path(__file__).resolve().parents[3] / "shared" / "data" / "news_de"


@pytest.mark.skipif(not (NEWS / "dewikinews_quotes").is_dir(), reason="no shared news data")
def test_wikinews_jsonl(tmp_path: Path) -> None:
    """German Wikinews as it is distributed (id, title, date, text): every record an article."""
    shutil.copy(NEWS / "dewikinews_quotes" / "articles.jsonl", tmp_path / "wikinews.jsonl")
    articles, skipped = load_articles(tmp_path)
    lines = (tmp_path / "wikinews.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(articles) + len(skipped) == len(lines) and len(articles) > 0.95 * len(lines)
    assert all(a.id.startswith("wikinews.jsonl#dewikinews-") for a in articles)
    assert sum(a.date is not None for a in articles) > 0.99 * len(articles)
