"""The lines of a file of records (JSON Lines, CSV), decoded one at a time.

A news export may be gigabytes; it is never read whole. No line longer than the record limit
(:attr:`~diploqa.config.ReadLimits.max_article_bytes`) is ever held: its bytes are read past
and the line reported as too large, so memory does not grow with the file.

Encodings: each line is decoded on its own, UTF-8 first, else cp1252, else latin-1
(:func:`~diploqa.articles.readers.decode_8bit`), with one warning per file and fallback that
names the encoding used; UTF-16 needs its byte order mark. A file that starts like a binary
file is refused; a line that looks binary is reported as such.
"""

from __future__ import annotations

import codecs
import io
import logging
from dataclasses import dataclass
from typing import BinaryIO

from diploqa.errors import ArticlesError

from .readers import _looks_binary, check_not_binary, decode_8bit
from .readers import too_large as _too_large

_log = logging.getLogger(__name__)

#: Bytes looked at to refuse a binary file before reading it line by line.
HEAD_BYTES = 8192


@dataclass(frozen=True)
class Line:
    """One line of a file. ``text`` is None if the line cannot be used (``problem`` says why);
    its bytes were then read past, not held. The quote counts let a CSV reader find where a
    quoted field that spans lines ends without holding them (see
    :class:`~diploqa.articles.csv_records.CsvReader`)."""

    number: int
    text: str | None
    size: int
    double_quotes: int
    single_quotes: int
    problem: str | None = None

    def quotes(self, quote: str) -> int:
        """How many ``quote`` characters (``"`` or ``'``) the line holds."""
        return self.single_quotes if quote == "'" else self.double_quotes


class Lines:
    """The lines of a binary file, decoded one at a time, none longer than ``limit`` held.

    Raises:
        ArticlesError: ``"<file_id>: <why>"`` if the file starts like a binary file, or is
            broken UTF-16.
    """

    def __init__(self, stream: BinaryIO, file_id: str, limit: int) -> None:
        head = stream.read(HEAD_BYTES)
        stream.seek(-len(head), io.SEEK_CUR)
        try:
            check_not_binary(head)
        except ArticlesError as err:
            raise ArticlesError(f"{file_id}: {err}") from err
        self._utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        self._stream: BinaryIO | io.TextIOWrapper = (
            io.TextIOWrapper(stream, encoding="utf-16", newline="") if self._utf16 else stream
        )
        self._file_id, self._limit = file_id, limit
        self._warned: set[str] = set()
        self.number = 0

    def __iter__(self) -> Lines:
        return self

    def _readline(self, size: int) -> str | bytes:
        try:
            return self._stream.readline(size)
        except UnicodeDecodeError as err:
            raise ArticlesError(f"{self._file_id}: broken UTF-16 ({err.reason})") from err

    def __next__(self) -> Line:
        raw = self._readline(self._limit + 1)
        if not raw:
            raise StopIteration
        self.number += 1
        newline, double, single = ("\n", '"', "'") if self._utf16 else (b"\n", b'"', b"'")
        if len(raw) > self._limit and not raw.endswith(newline):
            size, doubles, singles = len(raw), raw.count(double), raw.count(single)
            while raw and not raw.endswith(newline):  # read past the rest, holding none of it
                raw = self._readline(1 << 20)
                size += len(raw)
                doubles, singles = doubles + raw.count(double), singles + raw.count(single)
            problem = _too_large(size, self._limit, "records")
            return Line(self.number, None, size, doubles, singles, problem)
        text = raw if isinstance(raw, str) else self._decode(raw)
        doubles, singles = text.count('"'), text.count("'")
        if "\x00" in text or _looks_binary(text):
            return Line(self.number, None, len(raw), doubles, singles, "not text (binary data)")
        return Line(self.number, text, len(raw), doubles, singles)

    def _decode(self, raw: bytes) -> str:
        text, encoding = decode_8bit(raw)
        if encoding != "utf-8" and encoding not in self._warned:
            self._warned.add(encoding)
            _log.warning(
                "%s: line %d is not valid UTF-8, read as %s (and so is every later such line)",
                self._file_id,
                self.number,
                encoding,
            )
        return text
