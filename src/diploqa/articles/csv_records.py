"""CSV files (``.csv``): one article per row.

Choices and why:

* **Columns**: by default the first non-blank line is the header, and its names say which
  column holds which field (:data:`~.records.FIELD_NAMES`); a file whose header names no text
  column is skipped whole, with a hint to ``--csv-columns``. With
  :class:`~.csv_columns.CsvColumns` the user says it, for every CSV file of the folder: by
  header name, or by number for files without a header line (every line a row). A row with
  more or fewer fields than the header (or, without a header, than the first row) is skipped.
* **Quote character**: ``"`` (RFC 4180), or ``'`` if the first lines (:data:`SNIFF_BYTES`)
  hold more whole fields quoted with ``'`` than with ``"`` (10kGNAD's ``label;'text'``). A
  quote counts only where it opens a field and closes one, so an apostrophe or a quotation
  inside a text does not.
* **Separator**: ``,``, ``;`` or tab. With a header, the one the header line holds most, outside
  quoted fields: a header is only names, so this does not guess wrong like a sniffer on text.
  Without one, the one that every line of the first lines holds equally often (outside quoted
  fields), most often; texts hold commas, but a different number on each line.
* Quoted fields may span lines. A row is read past, never held, once it is larger than the
  article limit: its lines are skipped until its quotes balance.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from diploqa.config import ReadLimits
from diploqa.errors import ArticlesError

from .article import SkippedFile
from .csv_columns import CsvColumns
from .lines import Line, Lines
from .readers import too_large as _too_large
from .records import FIELD_NAMES, Record, RecordReader

#: Bytes of a file's first lines looked at to find its quote character and separator.
SNIFF_BYTES = 256 * 1024
_SEPARATORS = (",", ";", "\t")
#: A whole quoted field: after a line start or a separator, up to a closing quote that a
#: separator or the line end follows (a doubled quote inside is an escaped one).
_QUOTED = {
    q: re.compile(rf"(^|[,;\t]){q}[^{q}]*(?:{q}{q}[^{q}]*)*{q}(?=[,;\t]|\r?$)", re.MULTILINE)
    for q in ('"', "'")
}
_OPENING = {q: re.compile(rf"(^|[,;\t]){q}", re.MULTILINE) for q in ('"', "'")}


def _sample(lines: Lines) -> list[Line]:
    """The first lines of a file, about :data:`SNIFF_BYTES` (a line over the limit is held as
    none of its text, like any other)."""
    sample: list[Line] = []
    size = 0
    for line in lines:
        sample.append(line)
        size += line.size
        if size >= SNIFF_BYTES:
            break
    return sample


def _quote_char(texts: Sequence[str]) -> str:
    """``'`` if the lines hold more whole fields quoted with it than with ``"``, else ``"``."""
    text = "".join(texts)
    single, double = (len(_QUOTED[q].findall(text)) for q in ("'", '"'))
    return "'" if single > double else '"'


def _unquoted(texts: Sequence[str], quote: str) -> list[str]:
    """The non-blank lines of ``texts`` with every quoted field taken out (its separators
    kept), up to the line where a quoted field opens that they do not close."""
    text = _QUOTED[quote].sub(r"\1", "".join(texts))
    opening = _OPENING[quote].search(text)
    if opening is not None:
        text = text[: text.rfind("\n", 0, opening.start()) + 1]
    return [line for line in text.split("\n") if line.strip()]


def _separator(lines: Sequence[str]) -> str:
    """The separator that every line holds equally often, and most often; if none does, the
    one they hold most; ``,`` on a tie."""
    counts = {sep: [line.count(sep) for line in lines] for sep in _SEPARATORS}
    steady = [sep for sep in _SEPARATORS if lines and min(counts[sep]) == max(counts[sep]) > 0]
    return max(steady or _SEPARATORS, key=lambda sep: sum(counts[sep]))


class _BadRow(Exception):
    """A CSV row that was read past instead of parsed (too large or binary)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line, self.problem = line, problem


class _RowFeed:
    """Feeds lines to ``csv.reader`` one row at a time and counts each row's bytes.

    A row that grows over the article limit (or holds a binary line) is not handed on: its
    remaining lines are read past until its quotes balance (RFC 4180: an odd number of quote
    characters so far means a quoted field is still open) and :class:`_BadRow` is raised, so
    that the reader, which starts afresh on its next row, is not fed the rest of it as rows of
    its own.
    """

    def __init__(self, lines: Iterator[Line], limit: int, quote: str) -> None:
        self._lines, self._limit, self._quote = lines, limit, quote
        self.first_line = 0
        self.size = 0
        self._quotes = 0

    def start_row(self) -> None:
        self.first_line, self.size, self._quotes = 0, 0, 0

    def __iter__(self) -> _RowFeed:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.first_line = self.first_line or line.number
        self.size += line.size
        self._quotes += line.quotes(self._quote)
        if line.text is not None and self.size <= self._limit:
            return line.text
        problem = line.problem
        while self._quotes % 2:
            more = next(self._lines, None)
            if more is None:
                break
            self.size += more.size
            self._quotes += more.quotes(self._quote)
        if problem is None:
            problem = _too_large(self.size, self._limit, "records")
        raise _BadRow(self.first_line, problem)


def _allow_long_fields(limit: int) -> None:
    """Let ``csv`` read fields up to the article limit (its default stops at 128 kB); the
    setting is process-wide, and only ever raised."""
    if csv.field_size_limit() < limit + 1:
        csv.field_size_limit(limit + 1)


def _names(names: Sequence[str], most: int = 12) -> str:
    shown = ", ".join(repr(name) for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


class CsvReader(RecordReader):
    """CSV, its separator (``,``, ``;``, tab) and quote character (``"``, ``'``) detected;
    columns by the header's names, or as ``columns`` says (see the module docstring)."""

    suffixes: tuple[str, ...] = (".csv",)

    def __init__(self, columns: CsvColumns | None = None) -> None:
        self.columns = columns

    def no_text(self) -> str:
        """See :meth:`RecordReader.no_text`."""
        if self.columns is None:
            return super().no_text()
        return f"no text ({self.columns.describe('text')} is empty)"

    def records(
        self, stream: BinaryIO, file_id: str, limits: ReadLimits
    ) -> Iterator[Record | SkippedFile]:
        """See :meth:`RecordReader.records`."""
        limit = limits.max_article_bytes
        _allow_long_fields(limit)
        lines = Lines(stream, file_id, limit)
        sample = _sample(lines)
        texts = [line.text for line in sample if line.text is not None]
        quote = _quote_char(texts)
        rest = itertools.chain(sample, lines)
        keys: list[str | None] | None = None  # each column's field name; None: not read
        if self.columns is not None and self.columns.numbered:
            if not sample:
                raise ArticlesError(f"{file_id}: empty file")
            separator = _separator(_unquoted(texts, quote))
        else:
            header = next((line for line in rest if line.text is None or line.text.strip()), None)
            if header is None:
                raise ArticlesError(f"{file_id}: empty file")
            if header.text is None:
                raise ArticlesError(f"{file_id}: line {header.number}: header {header.problem}")
            separator = _separator(_unquoted([header.text], quote))
            row = next(csv.reader([header.text], delimiter=separator, quotechar=quote))
            keys = self._header_keys([name.strip() for name in row], file_id, header.number)
        yield from self._rows(rest, file_id, limit, separator, quote, keys)

    def _header_keys(self, names: list[str], file_id: str, line: int) -> list[str | None]:
        """The field name each column is read as: its header name, or the field
        :attr:`columns` gives it; None for a column whose name a given field replaces."""
        if self.columns is None:
            if not any(name.lower() in FIELD_NAMES["text"] for name in names):
                raise ArticlesError(
                    f"{file_id}: no text column (the header, line {line}, names none of "
                    f"{', '.join(FIELD_NAMES['text'])}): say which column holds the text with "
                    "--csv-columns, e.g. text=2 (by number, for a file without a header line) "
                    "or text=Inhalt (by the header's name)"
                )
            return list(names)
        given = {f: str(column).strip().lower() for f, column in self.columns.given().items()}
        lower = [name.lower() for name in names]
        for field, wanted in given.items():
            if wanted not in lower:
                raise ArticlesError(
                    f"{file_id}: no column {self.columns.given()[field]!r} for the {field} "
                    f"(--csv-columns) in the header, line {line}: {_names(names)}"
                )
        replaced = {name for field in given for name in FIELD_NAMES[field]}
        by_name = {wanted: field for field, wanted in given.items()}
        return [
            by_name.get(low, None if low in replaced else name)
            for name, low in zip(names, lower, strict=True)
        ]

    def _rows(
        self,
        lines: Iterator[Line],
        file_id: str,
        limit: int,
        separator: str,
        quote: str,
        keys: list[str | None] | None,
    ) -> Iterator[Record | SkippedFile]:
        """The records of the rows in ``lines``; ``keys`` as :meth:`_header_keys` gives them,
        or None for a file without a header (from :attr:`columns` and the first row)."""
        feed = _RowFeed(lines, limit, quote)
        rows = csv.reader(feed, delimiter=separator, quotechar=quote)
        has_header = keys is not None
        number = 0
        while True:
            feed.start_row()
            try:
                row = next(rows)
            except StopIteration:
                break
            except _BadRow as bad:
                number += 1
                yield SkippedFile(f"{file_id}#{number}", f"line {bad.line}: {bad.problem}")
                continue
            except csv.Error as err:
                number += 1
                where = f"line {feed.first_line}"
                yield SkippedFile(f"{file_id}#{number}", f"{where}: not a valid CSV row ({err})")
                continue
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            number += 1
            where = f"line {feed.first_line}"
            if keys is None:
                keys = self._numbered_keys(len(row), file_id, where, separator)
            if len(row) != len(keys):
                has = "the header has" if has_header else "the first row has"
                reason = f"{where}: {len(row)} fields, {has} {len(keys)}"
                yield SkippedFile(f"{file_id}#{number}", reason)
                continue
            values: dict[str, str] = {}
            for key, cell in zip(keys, row, strict=True):
                if key is not None:
                    values.setdefault(key, cell)
            yield Record(number, where, values, feed.size)

    def _numbered_keys(
        self, count: int, file_id: str, where: str, separator: str
    ) -> list[str | None]:
        """The field each of ``count`` columns is read as, by :attr:`columns`' numbers."""
        assert self.columns is not None
        given = self.columns.given()
        highest = max(given.values())
        if count < int(highest):
            raise ArticlesError(
                f"{file_id}: {where} has {count} field(s) separated by {separator!r}, "
                f"--csv-columns names column {highest}"
            )
        keys: list[str | None] = [None] * count
        for field, column in given.items():
            keys[int(column) - 1] = field
        return keys
