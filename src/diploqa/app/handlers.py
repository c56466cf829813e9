"""Handlers: what the buttons and the API endpoints do, as plain functions of an IndexHolder.

Kept free of Gradio so that they can be tested (and reused) without a browser: a question
becomes HTML (:func:`answer_html`) or dicts (:func:`search_records`), an upload or an update
button becomes an HTML report. No handler shows a traceback; unexpected errors are logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..articles import Article
from ..build import Progress
from ..errors import DiploqaError, QueryError
from ..search import Hit, Index
from .render import (
    LOW_SCORE_THRESHOLD,
    render_message,
    render_results,
    render_status,
    render_upload_report,
)
from .state import NO_INDEX_TEXT, IndexHolder
from .uploads import UploadOutcome, save_uploaded_path

log = logging.getLogger(__name__)

#: Default and maximum number of passages.
DEFAULT_K, MAX_K = 5, 20

EMPTY_QUESTION_TEXT = "Bitte eine Frage eingeben. / Please type a question."
UNEXPECTED_TEXT = (
    "Unerwarteter Fehler – Details im Server-Log. / Unexpected error – see the server log."
)


def _article_lookup(index: Index) -> Callable[[str], Article | None]:
    return lambda source: index.stored.articles.get(source)


SORTS = ("relevance", "date")


def find(
    index: Index,
    question: str,
    k: int | float = DEFAULT_K,
    *,
    outlet: str | Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    sort: str = "relevance",
    per_article: int | None = None,
) -> list[Hit]:
    """The hits for a question as every front end asks it: the index's filters, then the
    order (``relevance``, or ``date``: newest first, undated last; ranks stay relevance
    ranks).

    Raises:
        QueryError: a bad question, ``k``, filter or sort.
    """
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    hits = index.search(
        question, k, outlet=outlet or None, since=since or None, until=until or None,
        source=source or None, per_article=per_article,
    )  # fmt: skip
    if sort == "date":
        hits.sort(key=lambda h: (h.date is not None, h.date or ""), reverse=True)
    return hits


def answer_html(
    holder: IndexHolder,
    question: str,
    k: int | float = DEFAULT_K,
    *,
    per_article: int | None = None,
    **filters: Any,
) -> str:
    """What the results area shows for a question: cards, a state or an error, never a
    traceback. ``filters``: as :func:`find` takes them."""
    index = holder.index
    if index is None:
        return render_status(holder)
    try:
        hits = find(index, question, k, per_article=per_article, **filters)
    except QueryError as err:
        if isinstance(question, str) and not question.strip():
            return render_message(EMPTY_QUESTION_TEXT, "error")
        return render_message(f"Fehler / Error: {err}", "error")
    except DiploqaError as err:
        return render_message(f"Fehler / Error: {err}", "error")
    except Exception:
        log.exception("search failed")
        return render_message(UNEXPECTED_TEXT, "error")
    question = " ".join(question.split())
    low_score = index.ranking.low_score_threshold
    described = describe_filters(**filters)
    return render_results(question, hits, _article_lookup(index), low_score, described)


def describe_filters(
    outlet: str | Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    sort: str = "relevance",
) -> str:
    """The active filters in a few words, for the line above the results."""
    parts = []
    if outlet:
        parts.append(", ".join([outlet] if isinstance(outlet, str) else outlet))
    if since or until:
        parts.append(f"{since or '…'} – {until or '…'}")
    if source:
        parts.append(source)
    if sort == "date":
        parts.append("nach Datum / by date")
    return "; ".join(parts)


def hit_record(hit: Hit, low_score: float = LOW_SCORE_THRESHOLD) -> dict[str, Any]:
    """A hit as a JSON-ready dict for the API (``low_score``: the index's threshold)."""
    return {
        "rank": hit.rank,
        "score": round(hit.score, 4),
        "title": hit.title,
        "source": hit.source,
        "date": hit.date,
        "date_text": hit.date_text,
        "outlet": hit.outlet,
        "url": hit.url,
        "text": hit.text,
        "answer_sentence": hit.highlighted_sentence,
        "duplicates": [
            {"source": c.source, "title": c.title, "outlet": c.outlet, "url": c.url, "date": c.date}
            for c in hit.duplicates
        ],
        "low_score": hit.score < low_score,
    }


def search_records(
    holder: IndexHolder, question: str, k: int | float = DEFAULT_K, **filters: Any
) -> list[dict[str, Any]]:
    """The ranked passages as dicts (``filters``: as :func:`find` takes them).

    Raises:
        DiploqaError: there is no index (:class:`NoIndexError`), or the question, ``k`` or a
            filter is invalid (:class:`~diploqa.errors.QueryError`).
    """
    index = holder.index
    if index is None:
        raise NoIndexError(holder.problem or NO_INDEX_TEXT)
    low_score = index.ranking.low_score_threshold
    return [hit_record(hit, low_score) for hit in find(index, question, k, **filters)]


class NoIndexError(DiploqaError):
    """There is no index to search yet (or it cannot be read)."""


def upload_articles(
    holder: IndexHolder, paths: Iterable[str | Path] | None, progress: Progress | None = None
) -> str:
    """Store uploaded files, update the index if any was stored, and report both."""
    outcomes = [save_uploaded_path(holder.articles_dir, p) for p in paths or []]
    if not any(o.saved_as for o in outcomes):
        return render_upload_report(outcomes, None)
    return _run_update(holder, outcomes, rebuild=False, progress=progress)


def update_index(holder: IndexHolder, rebuild: bool, progress: Progress | None = None) -> str:
    """The "update" and "rebuild" buttons: rebuild the index from the articles folder."""
    return _run_update(holder, [], rebuild=rebuild, progress=progress)


def _run_update(
    holder: IndexHolder,
    outcomes: list[UploadOutcome],
    rebuild: bool,
    progress: Progress | None,
) -> str:
    try:
        report = holder.update(rebuild=rebuild, progress=progress)
    except DiploqaError as err:
        return render_upload_report(outcomes, None, str(err))
    except Exception:
        log.exception("index update failed")
        return render_upload_report(outcomes, None, UNEXPECTED_TEXT)
    return render_upload_report(outcomes, report)
