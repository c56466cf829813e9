"""A result list as CSV or JSON Lines (diploqa.export): read back with the csv and json
modules, umlauts through the byte order mark, and no cell a spreadsheet would run."""

from __future__ import annotations

import codecs
import csv
import io
import json

import pytest

from diploqa.errors import QueryError
from diploqa.export import COLUMNS, export, file_name, neutralise, to_csv, to_jsonl
from diploqa.hits import Copy, Hit

TEXT = "Außenminister Lawrow äußerte sich. „Grüße“ aus Sotschi, sagte er; dann ging er."


def hit(rank: int = 1, **fields) -> Hit:
    values = dict(
        text=TEXT, score=0.87654, source="sz/kerry.txt", title="Kerry in Sotschi: Gespräche",
        date="2015-05-12", start=0, end=len(TEXT), outlet="Süddeutsche Zeitung",
        url="https://example.org/kerry", rank=rank, highlight=(0, 34),
        duplicates=(Copy("zeit/k.txt", "Kerry", "ZEIT ONLINE", None, None),
                    Copy("x.txt", "Kerry bei Putin", None, None, None)),
    )  # fmt: skip
    values.update(fields)
    return Hit(**values)


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_reads_back_with_every_column():
    data = to_csv([hit(1), hit(2, url=None, outlet=None, date=None, duplicates=())])
    rows = read_csv(data)
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0] == {
        "rank": "1", "score": "0.8765", "title": "Kerry in Sotschi: Gespräche",
        "outlet": "Süddeutsche Zeitung", "date": "2015-05-12",
        "url": "https://example.org/kerry", "source": "sz/kerry.txt", "passage": TEXT,
        "answer_sentence": "Außenminister Lawrow äußerte sich.",
        "also_in": "ZEIT ONLINE; Kerry bei Putin",
    }  # fmt: skip
    assert (rows[1]["url"], rows[1]["outlet"], rows[1]["date"], rows[1]["also_in"]) == (
        "", "", "", "",
    )  # fmt: skip


def test_csv_is_utf8_with_a_byte_order_mark_and_crlf_lines():
    data = to_csv([hit()])
    assert data.startswith(codecs.BOM_UTF8)
    assert "Gespräche".encode() in data and "Gespräche".encode("cp1252") not in data
    assert data.count(b"\r\n") == 2 and b"\n" not in data.replace(b"\r\n", b"")
    # what Excel and LibreOffice do with a BOM: decode as UTF-8, the mark itself dropped
    assert data.decode("utf-8-sig").startswith("rank,score,title")


def test_a_passage_with_line_breaks_and_quotes_stays_one_cell():
    text = 'Erste Zeile\nzweite Zeile mit "Zitat", Komma; Semikolon'
    rows = read_csv(to_csv([hit(text=text, end=len(text), highlight=(0, 11))]))
    assert len(rows) == 1 and rows[0]["passage"] == text


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_no_cell_can_run_as_a_formula(start):
    evil = f'{start}HYPERLINK("http://evil.example","klick")'
    rows = read_csv(to_csv([hit(title=evil, outlet=evil, source=evil, text=evil, end=len(evil),
                                highlight=(0, len(evil)))]))  # fmt: skip
    for column in ("title", "outlet", "source", "passage", "answer_sentence"):
        assert rows[0][column] == "'" + evil, column
        assert not rows[0][column].startswith(("=", "+", "-", "@", "\t", "\r"))
    assert rows[0]["score"] == "0.8765"  # numbers stay numbers


def test_neutralise_leaves_ordinary_text():
    assert neutralise("Lawrow: 3-2 = Sieg") == "Lawrow: 3-2 = Sieg"
    assert neutralise("-3 Grad") == "'-3 Grad"


def test_jsonl_one_object_per_hit():
    lines = to_jsonl([hit(1), hit(2, url=None)]).decode("utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [list(r) for r in rows] == [list(COLUMNS)] * 2
    assert rows[0]["also_in"] == ["ZEIT ONLINE", "Kerry bei Putin"]
    assert rows[0]["title"] == "Kerry in Sotschi: Gespräche" and rows[1]["url"] is None
    assert "Gespräche" in lines[0]  # not \u-escaped
    assert to_jsonl([]) == b""


def test_formats_and_file_names():
    assert export([hit()], "CSV ").startswith(codecs.BOM_UTF8)
    assert export([hit()], "jsonl").startswith(b"{")
    with pytest.raises(QueryError, match="format must be one of json, csv, jsonl, not 'xlsx'"):
        export([hit()], "xlsx")
    assert (
        file_name("Wer traf Lawrow in Sotschi?", "csv") == "diploqa-wer-traf-lawrow-in-sotschi.csv"
    )
    assert file_name("Grüße aus Düsseldorf & Straße", "jsonl") == (
        "diploqa-grusse-aus-dusseldorf-strasse.jsonl"
    )
    assert file_name("???", "csv") == "diploqa-results.csv"
    assert len(file_name("lang " * 50, "csv")) <= len("diploqa-") + 48 + len(".csv")
