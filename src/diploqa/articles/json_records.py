"""JSON Lines (``.jsonl``) and JSON (``.json``) files of records: one article per object.

A JSON Lines file is read one line at a time (:class:`~diploqa.articles.lines.Lines`), so it
may be of any size. A ``.json`` file has no record boundaries to stream by: it is parsed whole
up to the JSON limit (:class:`~diploqa.config.ReadLimits`, 200 MB) and refused above it, with
a hint to convert it to JSON Lines.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from diploqa.config import ReadLimits
from diploqa.errors import ArticlesError

from .article import SkippedFile
from .lines import Lines
from .readers import decode_named
from .records import FIELD_NAMES, Record, RecordReader

_log = logging.getLogger(__name__)

#: Keys of a JSON object under which its list of records may be (else its only list).
LIST_KEYS = ("articles", "data", "items", "records", "documents", "entries")


def _json_problem(err: ValueError | RecursionError) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON ({err.msg}, column {err.colno})"
    return "not valid JSON (nested too deeply)"


class JsonLinesReader(RecordReader):
    """JSON Lines: one JSON object per line; blank lines are ignored."""

    suffixes: tuple[str, ...] = (".jsonl",)

    def records(
        self, stream: BinaryIO, file_id: str, limits: ReadLimits
    ) -> Iterator[Record | SkippedFile]:
        """See :meth:`RecordReader.records`."""
        for line in Lines(stream, file_id, limits.max_article_bytes):
            where = f"line {line.number}"
            if line.text is None:
                yield SkippedFile(f"{file_id}#{line.number}", f"{where}: {line.problem}")
                continue
            if not line.text.strip():
                continue
            try:
                value = json.loads(line.text)
            except (ValueError, RecursionError) as err:
                yield SkippedFile(f"{file_id}#{line.number}", f"{where}: {_json_problem(err)}")
                continue
            if not isinstance(value, dict):
                yield SkippedFile(f"{file_id}#{line.number}", f"{where}: not a JSON object")
                continue
            yield Record(line.number, where, value, line.size)


def _remaining_size(stream: BinaryIO) -> int | None:
    """Bytes left in a file, if the stream is a file."""
    try:
        return os.fstat(stream.fileno()).st_size - stream.tell()
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None


def _record_list(value: object) -> list | None:
    """The list of records in a parsed JSON file (see :class:`JsonReader`), or None."""
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        return None
    lower = {k.lower(): v for k, v in value.items() if isinstance(k, str)}
    for key in LIST_KEYS:
        if isinstance(lower.get(key), list):
            return lower[key]
    if any(name in lower for name in FIELD_NAMES["text"]):
        return [value]  # one article
    lists = [v for v in value.values() if isinstance(v, list)]
    return lists[0] if len(lists) == 1 else None


def _value_bytes(values: Mapping[str, object]) -> int:
    """About what a JSON record takes in a file: its text values' UTF-8 bytes."""
    return sum(len(v.encode("utf-8")) for v in values.values() if isinstance(v, str))


class JsonReader(RecordReader):
    """A JSON file: an array of objects; or an object with the array under one of
    :data:`LIST_KEYS` (or as its only array); or one object that is an article. Parsed whole,
    so at most :attr:`~diploqa.config.ReadLimits.max_json_bytes`."""

    suffixes: tuple[str, ...] = (".json",)

    def records(
        self, stream: BinaryIO, file_id: str, limits: ReadLimits
    ) -> Iterator[Record | SkippedFile]:
        """See :meth:`RecordReader.records`."""
        limit = limits.max_json_bytes
        size = _remaining_size(stream)
        data = b"" if size is not None and size > limit else stream.read(limit + 1)
        if (size is not None and size > limit) or len(data) > limit:
            mb = 1024 * 1024
            raise ArticlesError(
                f"{file_id}: too large for a JSON file ({max(size or 0, len(data)) / mb:.1f} "
                f"MB; a .json file is read whole, up to {limit / mb:.0f} MB, see "
                "DIPLOQA_MAX_JSON_BYTES): convert it to JSON Lines, one article per line, "
                "which is read one record at a time, e.g. jq -c '.[]' file.json > file.jsonl"
            )
        if not data.strip():
            raise ArticlesError(f"{file_id}: empty file")
        try:
            text, encoding = decode_named(data)
        except ArticlesError as err:
            raise ArticlesError(f"{file_id}: {err}") from err
        del data
        if encoding in ("cp1252", "latin-1"):
            _log.warning("%s: not valid UTF-8, read as %s", file_id, encoding)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise ArticlesError(
                f"{file_id}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
            ) from err
        except RecursionError as err:
            raise ArticlesError(f"{file_id}: not valid JSON (nested too deeply)") from err
        del text
        items = _record_list(value)
        if items is None:
            raise ArticlesError(
                f"{file_id}: no list of articles (expected a JSON array of objects, or an "
                f"object with one under {', '.join(repr(k) for k in LIST_KEYS[:3])})"
            )
        for number, item in enumerate(items, 1):
            where = f"record {number}"
            if isinstance(item, dict):
                yield Record(number, where, item, _value_bytes(item))
            else:
                yield SkippedFile(f"{file_id}#{number}", f"{where}: not a JSON object")
