"""Handlers: what the page, its buttons and the API endpoints do, as plain functions.

Kept free of Gradio so that they can be tested (and reused) without a browser: a question
becomes HTML (:func:`answer_html`) or dicts (:func:`search_records`), an upload or an update
button becomes an HTML report. Searches take a :class:`~diploqa.query.Query` or its fields,
as :meth:`~diploqa.index.Index.search` does. No handler shows a traceback; unexpected errors
are logged. Every search counts itself in flight (the holder's
:class:`~.activity.SearchActivity`) while it runs, so that a check of the standing questions
waits meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..build import Progress
from ..errors import ArticlesError, DiploqaError, QueryError
from ..export import FORMATS, check_format, export, file_name
from ..hits import Hit
from ..index import Index
from ..query import DEFAULT_K, Query
from ..timeline import check_interval
from . import messages
from .chart import render_overview
from .live import IndexHolder
from .permalink import page_link
from .render import render_message, render_results, render_unanswered, render_upload_report
from .updater import Updater
from .uploads import UploadOutcome, save_uploaded_path

log = logging.getLogger(__name__)

#: The most passages a web surface returns at once.
MAX_K = 20


class NoIndexError(DiploqaError):
    """There is no index to search yet (or it cannot be read)."""


def answer_html(
    holder: IndexHolder, query: Query | str, k: object = DEFAULT_K, **fields: Any
) -> str:
    """What the results area shows for a question: cards, a state or an error, never a
    traceback. ``query``, ``k`` and ``fields``: as :meth:`~diploqa.index.Index.search`
    takes them."""
    return page_answer(holder, query, k, interval=None, **fields).results


@dataclass(frozen=True)
class PageAnswer:
    """What the page shows for a question.

    Attributes:
        results: the results area (cards, a state or an error).
        overview: the timeline, outlets, export and link beside them ("" without an answer).
        query: the question answered (None: it was not, see ``results``).
    """

    results: str
    overview: str = ""
    query: Query | None = None


def page_answer(
    holder: IndexHolder,
    query: Query | str,
    k: object = DEFAULT_K,
    interval: str | None = "auto",
    per_article_default: int | None = None,
    **fields: Any,
) -> PageAnswer:
    """The answer cards and, with ``interval`` (``auto``, ``day``, ``week``, ``month`` or
    ``year``), the overview of the articles matching the question, from one reading of it
    (:meth:`~diploqa.index.Index.ask`); never a traceback. ``per_article_default``: the
    server's per-article limit, left out of the overview's link (:mod:`.permalink`)."""
    with holder.searches.searching():
        return _page_answer(holder, query, k, interval, per_article_default, **fields)


def _page_answer(
    holder: IndexHolder,
    query: Query | str,
    k: object,
    interval: str | None,
    per_article_default: int | None,
    **fields: Any,
) -> PageAnswer:
    index = holder.latest()
    if index is None:  # marked: the page asks again once an index is installed
        return PageAnswer(render_unanswered(holder.problem))
    try:
        asked = Query.of(query, k, **fields)
        interval = check_interval(interval) if interval is not None else None
    except QueryError as err:
        if isinstance(query, str) and not query.strip():
            return PageAnswer(render_message(messages.EMPTY_QUESTION_TEXT, "error"))
        return PageAnswer(render_message(messages.error(err), "error"))
    try:
        answer = index.ask(asked, timeline=interval, facets=interval is not None)
    except DiploqaError as err:
        return PageAnswer(render_message(messages.error(err), "error"))
    except Exception:
        log.exception("search failed")
        return PageAnswer(render_message(messages.UNEXPECTED_TEXT, "error"))
    low_score = index.ranking.low_score_threshold
    described = describe_filters(asked)
    results = render_results(
        asked.question, answer.hits, _article_lookup(index), low_score, described
    )
    if interval is None:
        return PageAnswer(results, "", asked)
    link = page_link(asked, interval, per_article_default)
    return PageAnswer(results, render_overview(answer, asked, interval, link), asked)


def _article_lookup(index: Index):
    return lambda source: index.stored.articles.get(source)


def describe_filters(query: Query) -> str:
    """The active filters (and a date order) in a few words, for the line above the
    results."""
    parts = []
    if query.outlet:
        parts.append(", ".join(query.outlet))
    if query.since or query.until:
        parts.append(f"{query.since or '…'} – {query.until or '…'}")
    if query.source:
        parts.append(query.source)
    if query.sort == "date":
        parts.append(messages.BY_DATE_TEXT)
    return "; ".join(parts)


def hit_record(hit: Hit, low_score: float) -> dict[str, Any]:
    """A hit as a JSON-ready dict for the APIs (``low_score``: the index's
    ``RankingConfig.low_score_threshold``)."""
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
        "sentence_url": hit.sentence_url,
        "duplicates": [
            {"source": c.source, "title": c.title, "outlet": c.outlet, "url": c.url, "date": c.date}
            for c in hit.duplicates
        ],
        "low_score": hit.score < low_score,
    }


def search_records(
    holder: IndexHolder, query: Query | str, k: object = DEFAULT_K, **fields: Any
) -> list[dict[str, Any]]:
    """The ranked passages as dicts (``query``, ``k`` and ``fields``: as
    :meth:`~diploqa.index.Index.search` takes them).

    Raises:
        DiploqaError: there is no index (:class:`NoIndexError`), or the question, ``k`` or a
            filter is invalid (:class:`~diploqa.errors.QueryError`).
    """
    with _live(holder) as index:
        low_score = index.ranking.low_score_threshold
        hits = index.search(Query.of(query, k, **fields))
        return [hit_record(hit, low_score) for hit in hits]


@contextlib.contextmanager
def _live(holder: IndexHolder) -> Iterator[Index]:
    """The live index for one search, counted in flight meanwhile (the holder's
    :class:`~.activity.SearchActivity`: a check of the standing questions waits).

    Raises:
        NoIndexError: there is no usable index.
    """
    with holder.searches.searching():
        index = holder.latest()
        if index is None:
            raise NoIndexError(holder.problem or messages.NO_INDEX_TEXT)
        yield index


#: The facets a search can count its matching articles by.
FACETS = ("outlet",)


def answer_record(
    holder: IndexHolder,
    query: Query,
    timeline: str | None = None,
    facets: Iterable[str] = (),
) -> dict[str, Any]:
    """The JSON API's answer: ``question`` and ``hits``; with ``timeline`` (an interval) the
    :meth:`~diploqa.timeline.Timeline.fields` of the matching articles; with ``facets``
    (``outlet``) their counts per outlet as ``{"facets": {"outlet": {name: count}}}``; and
    with either, ``matched`` (how many articles match) and ``capped`` (more may match).

    Raises:
        DiploqaError: no index, an invalid query, interval or facet.
    """
    wanted = [f.strip().lower() for f in facets if f and f.strip()]
    for name in wanted:
        if name not in FACETS:
            raise QueryError(f"facets must be {' or '.join(FACETS)}, not {name!r}")
    with _live(holder) as index:
        answer = index.ask(query, timeline=timeline or None, facets=bool(wanted))
        low_score = index.ranking.low_score_threshold
        body: dict[str, Any] = {
            "question": query.question,
            "hits": [hit_record(hit, low_score) for hit in answer.hits],
        }
    if answer.timeline is not None:
        body.update(answer.timeline.fields())
    if answer.facets is not None:
        body["facets"] = {"outlet": answer.facets}
    if answer.matches is not None:
        body["matched"], body["capped"] = len(answer.matches), answer.matches.capped
    return body


def timeline_record(holder: IndexHolder, query: Query, interval: str = "month") -> dict:
    """A question's timeline for the Gradio API and MCP: its
    :meth:`~diploqa.timeline.Timeline.fields`, plus ``question``, ``matched`` and ``capped``.

    Raises:
        DiploqaError: no index, an invalid query or interval.
    """
    with _live(holder) as index:
        answer = index.ask(query, timeline=interval, hits=False)
    assert answer.timeline is not None and answer.matches is not None
    return {
        "question": query.question,
        **answer.timeline.fields(),
        "matched": len(answer.matches),
        "capped": answer.matches.capped,
    }


@dataclass(frozen=True)
class Export:
    """A result list as a file: its bytes, media type and file name."""

    data: bytes
    media_type: str
    name: str


def export_results(holder: IndexHolder, query: Query, fmt: str) -> Export:
    """The hits of ``query`` as a CSV or JSON Lines file (:mod:`diploqa.export`).

    Raises:
        DiploqaError: no index, an invalid query or format.
    """
    fmt = check_format(fmt)  # before the search
    with _live(holder) as index:
        hits = index.search(query)
    return Export(export(hits, fmt), FORMATS[fmt][0], file_name(query.question, fmt))


#: How long an export's file stays in the server's folder. The browser fetches it at once
#: (Gradio copies it into its own cache, which the app empties too), so files older than this
#: are removed when the next export is written instead of piling up while the server runs.
EXPORT_KEEP_SECONDS = 600


def save_export(
    holder: IndexHolder, query: Query, fmt: str, folder: Path, keep: float = EXPORT_KEEP_SECONDS
) -> Path:
    """:func:`export_results` written to a new file in ``folder`` (what a download button
    hands the browser); the name is the export's, in a subfolder of its own so that
    downloads of the same question never overwrite each other. Exports older than ``keep``
    seconds are removed from ``folder`` first."""
    result = export_results(holder, query, fmt)
    cutoff = time.time() - keep
    for old in folder.glob("export-*"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
    target = Path(tempfile.mkdtemp(prefix="export-", dir=folder)) / result.name
    target.write_bytes(result.data)
    return target


def status_record(updater: Updater) -> dict[str, Any]:
    """The state of the index and of its updates as a JSON-ready dict (the ``status`` API
    endpoint)."""
    holder = updater.holder
    index = holder.latest()
    build = updater.build
    report = updater.last_report
    return {
        "ready": index is not None,
        "articles": len(index.articles) if index is not None else 0,
        "passages": len(index) if index is not None else 0,
        "generation": index.manifest.generation if index is not None else None,
        "building": build.running,
        "done": build.done,
        "total": build.total,
        "error": build.error,
        "message": build.describe() or holder.problem,
        "pending": updater.pending,
        "last_update": report.summary() if report else None,
    }


def upload_articles(
    updater: Updater, paths: Iterable[str | Path] | None, progress: Progress | None = None
) -> str:
    """Store uploaded files, update the index if any was stored, and report both."""
    limits = updater.settings.limits
    try:
        columns = updater.upload_columns()
    except ArticlesError as err:
        return render_message(str(err), "error")
    outcomes = [save_uploaded_path(updater.articles_dir, p, limits, columns) for p in paths or []]
    if not any(o.saved_as for o in outcomes):
        return render_upload_report(outcomes, None)
    return _run_update(updater, outcomes, rebuild=False, progress=progress)


def update_index(updater: Updater, rebuild: bool, progress: Progress | None = None) -> str:
    """The "update" and "rebuild" buttons: bring the index up to date with the articles
    folder, or re-embed everything."""
    return _run_update(updater, [], rebuild=rebuild, progress=progress)


def _run_update(
    updater: Updater,
    outcomes: list[UploadOutcome],
    rebuild: bool,
    progress: Progress | None,
) -> str:
    try:
        report = updater.update(rebuild=rebuild, progress=progress)
    except DiploqaError as err:
        return render_upload_report(outcomes, None, str(err))
    except Exception:
        log.exception("index update failed")
        return render_upload_report(outcomes, None, messages.UNEXPECTED_TEXT)
    return render_upload_report(outcomes, report)
