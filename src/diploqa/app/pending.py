"""The article diff: which articles on disk the index does not have yet (new, changed or
removed), for the status line and for deciding whether an update is due."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..articles import CsvColumns, load_articles
from ..articles.csv_columns import columns_to_read_with, from_csv_file
from ..config import ReadLimits
from ..errors import ArticlesError
from ..index import Index
from . import messages


@dataclass(frozen=True)
class Pending:
    """The articles folder compared with an index."""

    #: One line for the status area (changes to index, or why the folder cannot be read);
    #: None when the index is current.
    text: str | None
    #: Whether an update would change the index.
    stale: bool


def compare(
    articles_dir: Path,
    index: Index,
    csv_columns: CsvColumns | None = None,
    limits: ReadLimits | None = None,
) -> Pending:
    """Compare the articles on disk with ``index`` (CSV files read with ``csv_columns``, every
    file within ``limits``, as a build would read them).

    Reads the files but cleans only those whose bytes differ from the indexed ones (no
    embedding), so it is cheap enough for start-up (docs/benchmarks.md). A folder that
    cannot be read is reported, not raised, and asks for no update.
    """
    recorded = index.manifest.csv_columns
    known = index.stored.articles
    try:
        columns = columns_to_read_with(csv_columns, recorded)
        other_columns = str(columns or "") != (recorded or "")
        if other_columns:  # the CSV files are read again, and their articles with them
            known = {aid: a for aid, a in known.items() if not from_csv_file(aid)}
        articles, _ = load_articles(articles_dir, known, columns, limits)
    except ArticlesError as err:
        return Pending(messages.articles_folder_problem(err), False)
    indexed = index.manifest.articles
    on_disk = {a.id: a.content_hash for a in articles}
    new_or_changed = sum(
        1
        for aid, h in on_disk.items()
        if indexed.get(aid) != h or (other_columns and aid in indexed and from_csv_file(aid))
    )
    removed = sum(1 for aid in indexed if aid not in on_disk)
    if not (new_or_changed or removed):
        return Pending(None, False)
    return Pending(messages.pending_changes(new_or_changed, removed), True)
