"""Which columns of a CSV file hold which article field, as the user says (``--csv-columns``).

A CSV file is read by the names in its header line (:data:`~.records.FIELD_NAMES`). An export
without a header, or with one that names no text column (10kGNAD's ``label;'text'`` lines),
cannot be read that way: the user names the columns instead, ``FIELD=COLUMN`` pairs:

* by number from 1, ``text=2`` or ``text=2,title=1``: the files have no header line, every
  line is a record;
* by header name, ``text=Inhalt,title=Überschrift``: the first line is the header; fields not
  given are still found by their usual names.

The text form is parsed once where it enters (the CLI, :func:`diploqa.build.build`) and passed
down as a :class:`CsvColumns`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from diploqa.errors import ArticlesError

#: The fields a column can be given for, in the order they are written back.
FIELDS = ("text", "title", "date", "outlet", "url", "id")
#: A column: its number from 1, or its name in the header line.
Column = int | str

_USAGE = "give FIELD=COLUMN pairs, e.g. text=2,title=1 (numbers from 1) or text=Inhalt (names)"


def _error(spec: str, why: str) -> ArticlesError:
    return ArticlesError(f"CSV columns {spec!r}: {why}; {_USAGE}")


def _problem(given: dict[str, object]) -> str | None:
    """What is wrong with the columns given for these fields, or None."""
    for field, column in given.items():
        if isinstance(column, bool) or not isinstance(column, int | str):
            return f"{field}: a column number or name, not {column!r}"
        if isinstance(column, int) and column < 1:
            return f"{field}={column}: column numbers count from 1"
        if isinstance(column, str) and not column.strip():
            return f"{field}: an empty column name"
    if len({type(column) for column in given.values()}) > 1:
        return "column numbers and header names mixed"
    seen: dict[object, str] = {}
    for field, column in given.items():
        key = column.strip().lower() if isinstance(column, str) else column
        if key in seen:
            return f"column {column} given for {seen[key]} and {field}"
        seen[key] = field
    return None


@dataclass(frozen=True)
class CsvColumns:
    """The columns that hold an article's fields; ``text`` is required.

    All columns are numbers from 1 (:attr:`numbered`: no header line) or all names in the
    header line (matched ignoring case and surrounding spaces); no column serves two fields.

    Raises:
        ArticlesError: one line naming what is wrong, if the columns are not so.
    """

    text: Column
    title: Column | None = None
    date: Column | None = None
    outlet: Column | None = None
    url: Column | None = None
    id: Column | None = None

    def __post_init__(self) -> None:
        why = _problem(self.given())
        if why is not None:
            raise _error(str(self), why)

    @property
    def numbered(self) -> bool:
        """True if the columns are numbers: the files have no header line."""
        return isinstance(self.text, int)

    def given(self) -> dict[str, Column]:
        """The fields a column is given for, and their columns, in :data:`FIELDS` order."""
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        return {field: column for field, column in given.items() if column is not None}

    def describe(self, field: str) -> str:
        """How a message names the column of ``field``: ``column 2`` or ``column 'Inhalt'``."""
        column = self.given()[field]
        return f"column {column}" if isinstance(column, int) else f"column {column!r}"

    def __str__(self) -> str:
        return ",".join(f"{field}={column}" for field, column in self.given().items())

    @classmethod
    def parse(cls, spec: str) -> CsvColumns:
        """Columns from their text form, ``text=2,title=1`` or ``text=Inhalt,title=Titel``.

        Raises:
            ArticlesError: one line naming what is wrong and the form expected.
        """
        columns: dict[str, Column] = {}
        for part in spec.split(","):
            field, equals, column = (s.strip() for s in part.partition("="))
            field = field.lower()
            if not equals or not field:
                raise _error(spec, f"{part.strip()!r} is not FIELD=COLUMN")
            if field not in FIELDS:
                raise _error(spec, f"no field {field!r} (the fields: {', '.join(FIELDS)})")
            if field in columns:
                raise _error(spec, f"{field} given twice")
            if not column:
                raise _error(spec, f"{field}: no column")
            columns[field] = int(column) if re.fullmatch(r"[+-]?[0-9]+", column) else column
        if "text" not in columns:
            raise _error(spec, "no text column")
        why = _problem(columns)
        if why is not None:
            raise _error(spec, why)
        return cls(**columns)


def parse_csv_columns(value: str | CsvColumns | None) -> CsvColumns | None:
    """:class:`CsvColumns` from their text form (None or blank: read CSV files by their header).

    Raises:
        ArticlesError: the text is not ``FIELD=COLUMN`` pairs with a text column.
    """
    if value is None or isinstance(value, CsvColumns):
        return value
    if not isinstance(value, str):
        raise ArticlesError(f"CSV columns: a text like 'text=2' or CsvColumns, not {value!r}")
    return CsvColumns.parse(value) if value.strip() else None


def columns_to_read_with(
    requested: CsvColumns | None, recorded: str | None, where: str = "the index"
) -> CsvColumns | None:
    """The columns a build reads CSV files with: ``requested`` (``--csv-columns``) where given,
    else those the index recorded at its last build, so that a later ``diploqa index`` or
    ``serve`` without the option reads the files as the first one did (and does not drop
    their articles as unreadable). A recorded spec that does not parse is reported as coming
    from ``where``."""
    if requested is not None or recorded is None:
        return requested
    try:
        return CsvColumns.parse(recorded)
    except ArticlesError as err:
        raise ArticlesError(f"{where} records CSV columns that cannot be used: {err}") from None


def from_csv_file(article_id: str) -> bool:
    """Whether an article id names a record of a CSV file (``news.csv#12``): the articles a
    change of columns reads again."""
    return article_id.split("#", 1)[0].lower().endswith(".csv")
