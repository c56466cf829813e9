"""Load German news articles from a folder and clean away scraping debris.

articles/ is the one place that turns files into :class:`Article` records. Pipeline per file:
the reader for its kind (:func:`~.formats.reader_for`) reads it: text files by
:func:`decode_bytes` and :func:`parse_article` (header lines at the top, then
:func:`clean_text`); web pages by trafilatura, then :func:`clean_text`; JSON Lines, JSON and CSV
files one record at a time, each record one article. :func:`load_articles` walks a folder and
turns files and records it cannot use into :class:`SkippedFile` entries plus a warning.

One concept per module: :mod:`.article` (the record and its hashes), :mod:`.dates` (dates as
written to ISO), :mod:`.cleaning` (debris rules, titles, outlets), :mod:`.readers` (the reader
interface, decoding, header lines, text files), :mod:`.html` (web pages), :mod:`.records`
(what files of records share), :mod:`.lines` (their lines, one at a time), :mod:`.json_records`
(JSON Lines and JSON), :mod:`.csv_records` (CSV), :mod:`.csv_columns` (which CSV column is
which field, as ``--csv-columns`` says), :mod:`.formats` (which reader takes which file) and
:mod:`.folder` (which files of a folder are articles, and reading them safely). Each module's
docstring gives the choices made there and why.
"""

from __future__ import annotations

from .article import CLEANING_VERSION, Article, SkippedFile, record_source_hash, source_hash
from .cleaning import RULES, Rule, clean_text
from .csv_columns import CsvColumns, parse_csv_columns
from .csv_records import CsvReader
from .dates import find_date, normalise_date
from .folder import article_files, check_articles_dir, load_articles, read_article, read_file
from .formats import ARTICLE_SUFFIXES, READERS, reader_for
from .html import HtmlReader
from .json_records import JsonLinesReader, JsonReader
from .readers import ArticleReader, DocumentReader, TextReader, decode_bytes, parse_article
from .records import FIELD_NAMES, RecordReader

__all__ = [
    "ARTICLE_SUFFIXES",
    "CLEANING_VERSION",
    "FIELD_NAMES",
    "READERS",
    "RULES",
    "Article",
    "ArticleReader",
    "CsvColumns",
    "CsvReader",
    "DocumentReader",
    "HtmlReader",
    "JsonLinesReader",
    "JsonReader",
    "RecordReader",
    "Rule",
    "SkippedFile",
    "TextReader",
    "article_files",
    "check_articles_dir",
    "clean_text",
    "decode_bytes",
    "find_date",
    "load_articles",
    "normalise_date",
    "parse_article",
    "parse_csv_columns",
    "read_article",
    "read_file",
    "reader_for",
    "record_source_hash",
    "source_hash",
]
