"""A result list as a file to work with elsewhere: CSV (spreadsheets) or JSON Lines (programs).

Both have the same columns (:data:`COLUMNS`). The CSV is UTF-8 with a byte order mark, which
Excel needs to read umlauts as UTF-8 (LibreOffice reads it either way), comma-separated with
CRLF line ends and quotes where a cell needs them (RFC 4180). Article text is data from the
archive: a text cell that begins with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return)
would be run as a formula by a spreadsheet (CSV injection), so it gets a leading ``'``, which
spreadsheets show as text.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from .errors import QueryError
from .hits import Hit

#: The columns of an export, in order.
COLUMNS = (
    "rank", "score", "title", "outlet", "date", "url", "source", "passage", "answer_sentence",
    "also_in",
)  # fmt: skip
#: Export format → (media type, file name suffix).
FORMATS = {
    "csv": ("text/csv; charset=utf-8", ".csv"),
    "jsonl": ("application/x-ndjson; charset=utf-8", ".jsonl"),
}
#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def check_format(value: object) -> str:
    """``value`` as one of :data:`FORMATS`.

    Raises:
        QueryError: it is none of them.
    """
    name = value.strip().lower() if isinstance(value, str) else value
    if name not in FORMATS:
        raise QueryError(f"format must be one of json, {', '.join(FORMATS)}, not {value!r}")
    return name


def export_row(hit: Hit) -> dict[str, Any]:
    """One hit as an export row (``also_in``: the outlets, else titles, of the other
    printings of its story)."""
    return {
        "rank": hit.rank,
        "score": round(hit.score, 4),
        "title": hit.title,
        "outlet": hit.outlet,
        "date": hit.date,
        "url": hit.url,
        "source": hit.source,
        "passage": hit.text,
        "answer_sentence": hit.highlighted_sentence,
        "also_in": [c.outlet or c.title or c.source for c in hit.duplicates],
    }


def neutralise(cell: str) -> str:
    """``cell`` as text a spreadsheet will not run: a leading ``'`` where it begins like a
    formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def to_csv(hits: Iterable[Hit]) -> bytes:
    """``hits`` as CSV: UTF-8 with a byte order mark, a header line, then one line per hit;
    text cells are neutralised (:func:`neutralise`), ``also_in`` is joined by "; "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for hit in hits:
        row = export_row(hit)
        row["also_in"] = "; ".join(row["also_in"])
        writer.writerow(
            neutralise(value) if isinstance(value, str) else ("" if value is None else value)
            for value in (row[c] for c in COLUMNS)
        )
    return (BOM + out.getvalue()).encode("utf-8")


def to_jsonl(hits: Iterable[Hit]) -> bytes:
    """``hits`` as JSON Lines: one object per hit with the :data:`COLUMNS` (``also_in`` a
    list), UTF-8 without escapes."""
    lines = (json.dumps(export_row(hit), ensure_ascii=False) + "\n" for hit in hits)
    return "".join(lines).encode("utf-8")


def export(hits: Iterable[Hit], fmt: str) -> bytes:
    """``hits`` in the format ``fmt`` (``csv`` or ``jsonl``).

    Raises:
        QueryError: ``fmt`` is neither.
    """
    return to_csv(hits) if check_format(fmt) == "csv" else to_jsonl(hits)


def file_name(question: str, fmt: str) -> str:
    """A file name for the export of ``question``: ``diploqa-`` and its first words in plain
    ASCII (``wer-traf-lawrow-in-sotschi``), then the format's suffix."""
    ascii_text = unicodedata.normalize("NFKD", question.replace("ß", "ss"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode().lower()
    slug = "-".join(re.findall(r"[a-z0-9]+", ascii_text))[:48].rstrip("-")
    return f"diploqa-{slug or 'results'}{FORMATS[check_format(fmt)][1]}"
