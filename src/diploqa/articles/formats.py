"""Which file kinds an articles folder can hold, and which reader takes a file.

The one list of readers (:data:`READERS`); the file name endings accepted everywhere (the
folder walk, uploads, the web UI's file picker) follow from it (:data:`ARTICLE_SUFFIXES`).
A new kind is one more reader here.
"""

from __future__ import annotations

from pathlib import PurePath

from .csv_columns import CsvColumns
from .csv_records import CsvReader
from .html import HtmlReader
from .json_records import JsonLinesReader, JsonReader
from .readers import ArticleReader, TextReader

#: Every file kind an articles folder can hold.
READERS: tuple[ArticleReader, ...] = (
    TextReader(),
    HtmlReader(),
    JsonLinesReader(),
    JsonReader(),
    CsvReader(),
)
#: The file name endings some reader takes:
#: ``(".txt", ".md", ".html", ".htm", ".jsonl", ".json", ".csv")``.
ARTICLE_SUFFIXES: tuple[str, ...] = tuple(suffix for r in READERS for suffix in r.suffixes)


def reader_for(path: str | PurePath, csv_columns: CsvColumns | None = None) -> ArticleReader | None:
    """The reader that takes ``path`` by its name's ending (any case), or None.
    ``csv_columns``: a CSV file's columns as the user gave them (``--csv-columns``)."""
    name = PurePath(path).name.lower()
    reader = next((reader for reader in READERS if name.endswith(reader.suffixes)), None)
    if csv_columns is not None and isinstance(reader, CsvReader):
        return CsvReader(csv_columns)
    return reader
