"""The page's events: the functions bound to its components, and the binding.

The search is the named API (and MCP) endpoint ``search`` (HTML, as the page shows it) and
``search_json`` (a list of dicts for programs); both take every field of
:class:`~diploqa.query.Query`, and their docstrings are what an MCP client reads. ``timeline``
(API and MCP) counts the articles matching a question per period. Every other event is
private to the page; the results area's (asking, the overview beside the answers, export,
links) are :mod:`.results`'. Everything shown comes from :mod:`.handlers` and
:mod:`.render`; this module only connects them to :class:`~.layout.Page`.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from ..build import Progress
from ..errors import DiploqaError
from ..query import DEFAULT_K, Query, per_article_limit
from . import messages
from .archive import shown_texts
from .following import Following
from .handlers import (
    answer_html,
    save_export,
    search_records,
    status_record,
    timeline_record,
    update_index,
    upload_articles,
)
from .layout import STATUS_POLL_BUSY, STATUS_POLL_IDLE, Page, gr
from .page_texts import PageTexts
from .render import (
    render_articles_table,
    render_intro,
    render_message,
    render_no_index,
    render_status,
    render_status_area,
)
from .results import SEARCH_CONCURRENCY, ResultEvents
from .updater import Updater

__all__ = ["SEARCH_CONCURRENCY", "Events", "status_html", "welcome_html"]

#: Numbers each request for the filters' label in the order the page read its fields (the
#: last two arguments: the stamp field and the label's state, passed on unread).
STAMP_JS = """(...fields) => {
    window.dqLabelReads = (window.dqLabelReads || 0) + 1;
    return [...fields.slice(0, -2), window.dqLabelReads, fields[fields.length - 1]];
}"""


def status_html(updater: Updater) -> str:
    """The status area: the index (or why there is none) and a running update's progress,
    or why the last update failed."""
    holder = updater.holder
    return render_status_area(holder.index, holder.problem, updater.pending, updater.build)


def welcome_html(updater: Updater) -> str:
    """The results area before the first question."""
    holder = updater.holder
    if holder.index is None:
        return render_no_index(holder.problem)
    return render_message(messages.WELCOME_TEXT)


def status_key(updater: Updater) -> tuple:
    """What the status area and the articles table depend on; equal keys: nothing to send."""
    holder, build = updater.holder, updater.build
    index = holder.index
    return (
        (id(index), index.manifest.generation if index is not None else None),
        build.running,
        build.done,
        build.total,
        build.error,
        updater.pending,
        holder.problem,
    )


def describe_choices(
    outlet: list[str] | None,
    since: str,
    until: str,
    source: str,
    k: int,
    per_article: int | None,
    sort: str,
    default_per_article: int,
) -> str:
    """The filters and the order set in the folded panel, in a few words for its label
    (what differs from the defaults; empty: nothing)."""
    parts = []
    if outlet:
        parts.append(", ".join(outlet))
    since, until = (since or "").strip(), (until or "").strip()
    if since or until:
        parts.append(f"{since or '…'} – {until or '…'}")
    if (source or "").strip():
        parts.append(source.strip())
    if k != DEFAULT_K:
        parts.append(messages.passages_wanted(k))
    if per_article is not None and per_article != default_per_article:
        parts.append(messages.per_article_chosen(per_article))
    if sort == "date":
        parts.append(messages.BY_DATE_TEXT)
    return "; ".join(parts)


def _gradio_progress(progress: gr.Progress) -> Progress:
    """Adapt Gradio's progress bar to the ``progress(done, total)`` callback of a build."""

    def report(done: int, total: int) -> None:
        progress((done, total), desc=messages.EMBEDDING_PROGRESS, unit="passages")

    return report


class Events:
    """The functions bound to the page's components, on ``updater`` and its live index.
    ``per_article``: the server's limit when a search names none (None: no limit)."""

    def __init__(
        self,
        updater: Updater,
        per_article: int | None,
        texts: PageTexts | None = None,
        following: Following | None = None,
    ) -> None:
        self.updater = updater
        self.holder = updater.holder
        self.per_article = per_article
        self.texts = texts or PageTexts()
        self.following = following  # standing questions (issue #26)
        self._exports: Path | None = None  # made on the first download
        #: The results area's events (the page's questions, the overview, export, links).
        self.results = ResultEvents(self.holder, per_article, self.export, self.filters_label)

    def search(
        self,
        question: str,
        k: int = DEFAULT_K,
        outlet: list[str] | None = None,
        since: str = "",
        until: str = "",
        source: str = "",
        per_article: int | None = None,
        sort: str = "relevance",
    ) -> str:
        """Find the passages in the news archive that best answer a question, as HTML cards
        (rank, score, passage with the answering sentence marked, source article).

        Args:
            question: the question, in German or English, e.g. "Wer gewann die Wahl?".
            k: how many passages to return (1–20).
            outlet: only articles of these outlets, e.g. ["ZEIT ONLINE"] (empty: all).
            since: only articles dated from this day, month or year, e.g. "2016" (empty: any).
            until: only articles dated up to this day, month or year (inclusive; empty: any).
            source: only article ids matching this glob, e.g. "sz/*" (empty: all).
            per_article: at most this many passages of one article (empty: the server's
                default; 0: no limit).
            sort: "relevance" (default) or "date" (newest first).
        """
        fields = self._fields(outlet, since, until, source, per_article, sort)
        return answer_html(self.holder, question, k, **fields)

    def search_json(
        self,
        question: str,
        k: int = DEFAULT_K,
        outlet: list[str] | None = None,
        since: str = "",
        until: str = "",
        source: str = "",
        per_article: int | None = None,
        sort: str = "relevance",
    ) -> list[dict]:
        """Find the passages in the news archive that best answer a question. Returns a list
        of dicts, best first: rank, score (cosine similarity), title, source (article id),
        date (ISO), date_text (as written), outlet, url, text (the passage),
        answer_sentence, duplicates (the same story in other outlets: source, title, outlet,
        url, date) and low_score (true if the passage probably does not answer the question).

        Args:
            question: the question, in German or English, e.g. "Who won the election?".
            k: how many passages to return (1–20).
            outlet: only articles of these outlets, e.g. ["ZEIT ONLINE"] (empty: all).
            since: only articles dated from this day, month or year, e.g. "2016" (empty: any).
            until: only articles dated up to this day, month or year (inclusive; empty: any).
            source: only article ids matching this glob, e.g. "sz/*" (empty: all).
            per_article: at most this many passages of one article (empty: the server's
                default; 0: no limit).
            sort: "relevance" (default) or "date" (newest first).
        """
        fields = self._fields(outlet, since, until, source, per_article, sort)
        try:
            return search_records(self.holder, question, k, **fields)
        except DiploqaError as err:
            raise gr.Error(str(err), print_exception=False) from None

    def timeline(
        self,
        question: str,
        interval: str = "month",
        outlet: list[str] | None = None,
        since: str = "",
        until: str = "",
        source: str = "",
    ) -> dict:
        """Count the articles of the news archive that match a question, per day, week, month
        or year: when coverage of a subject started, peaked and ended.
        Returns a dict: question, interval, timeline (a list of {period, start, end,
        articles}, oldest first, empty periods included), undated (matching articles without
        a date), imprecise (dated only by a longer period than the interval), matched (all
        matching articles) and capped (true: more articles may match than were counted).

        Args:
            question: the subject or question, in German or English, e.g. "Hochwasser an
                der Donau".
            interval: "day", "week", "month" (default), "year", or "auto" (from the span).
            outlet: only articles of these outlets, e.g. ["ZEIT ONLINE"] (empty: all).
            since: only articles dated from this day, month or year, e.g. "2016" (empty: any).
            until: only articles dated up to this day, month or year (inclusive; empty: any).
            source: only article ids matching this glob, e.g. "sz/*" (empty: all).
        """
        try:
            query = Query(question, outlet=outlet, since=since, until=until, source=source)
            return timeline_record(self.holder, query, interval)
        except DiploqaError as err:
            raise gr.Error(str(err), print_exception=False) from None

    def export(
        self,
        question: str,
        k: int = DEFAULT_K,
        outlet: list[str] | None = None,
        since: str = "",
        until: str = "",
        source: str = "",
        per_article: int | None = None,
        sort: str = "relevance",
        fmt: str = "csv",
    ) -> str:
        """The result list of a search (the fields of :meth:`search`) as a file to download:
        ``fmt`` ``csv`` or ``jsonl`` (:mod:`diploqa.export`). Returns its path, in a temporary
        folder of this server's (for a ``gr.DownloadButton``)."""
        fields = self._fields(outlet, since, until, source, per_article, sort)
        try:
            if self._exports is None:
                self._exports = Path(tempfile.mkdtemp(prefix="diploqa-exports-"))
                # gone with the app (or the process), not left in /tmp
                weakref.finalize(self, shutil.rmtree, self._exports, ignore_errors=True)
            path = save_export(self.holder, Query(question, k, **fields), fmt, self._exports)
        except DiploqaError as err:
            raise gr.Error(str(err), print_exception=False) from None
        return str(path)

    def _fields(self, outlet, since, until, source, per_article, sort) -> dict[str, Any]:
        """The fields of a Query besides question and k, as a web surface gives them."""
        limit = per_article_limit(per_article, self.per_article)
        return dict(outlet=outlet, since=since, until=until, source=source, per_article=limit,
                    sort=sort)  # fmt: skip

    def status_json(self) -> dict:
        """The state of the index: ready (bool), articles, passages, generation, building
        (bool), done and total (passages embedded by the running update), error (why the last
        update failed), message (one line to show), pending and last_update."""
        return status_record(self.updater)

    def on_upload(self, files: list[str] | None, progress: gr.Progress = gr.Progress()):  # noqa: B008
        report = upload_articles(self.updater, files, _gradio_progress(progress))
        return report, *self._index_views(), None

    def on_update(self, rebuild: bool, progress: gr.Progress = gr.Progress()):  # noqa: B008
        """The update button (``rebuild`` False) and the rebuild button (True)."""
        report = update_index(self.updater, rebuild=rebuild, progress=_gradio_progress(progress))
        return report, *self._index_views()

    def _index_views(self) -> tuple[str, str, gr.Dropdown]:
        """The articles table, the status line and the outlet choices after an update."""
        holder = self.holder
        status = render_status(holder.index, holder.problem, self.updater.pending)
        return render_articles_table(holder.index), status, self._outlet_choices()

    def _outlet_choices(self) -> gr.Dropdown:
        index = self.holder.index
        return gr.Dropdown(choices=index.outlets() if index is not None else [])

    def _archive_views(self) -> tuple[str, gr.Dataset]:
        """The heading and the examples: the operator's, or what the live index says."""
        shown = shown_texts(self.texts, self.holder.index)
        samples = [[q] for q in shown.examples]
        return render_intro(shown), gr.Dataset(samples=samples, visible=bool(samples))

    def on_choices(self, k, outlet, since, until, source, per_article, sort, read, shown):
        """The folded filters' label, after a filter or the order changed. ``read`` numbers
        this request in the order the page read the fields; ``shown``, the label's state, is
        the number of the label on the page. An older read is dropped: it may have caught a
        field a link was still setting, and its answer can reach the page after a newer one."""
        if read is None or (shown is not None and read <= shown):
            return gr.skip(), gr.skip()
        return self.filters_label(k, outlet, since, until, source, per_article, sort), read

    def filters_label(self, k, outlet, since, until, source, per_article, sort) -> gr.Accordion:
        """The folded filters' label for these fields."""
        chosen = describe_choices(outlet, since, until, source, k, per_article, sort,
                                  self.per_article or 0)  # fmt: skip
        return gr.Accordion(label=messages.filters_label(chosen))

    def on_load(self):
        self.holder.latest()
        key = status_key(self.updater)
        table = render_articles_table(self.holder.index)
        return (status_html(self.updater), table, key, self._outlet_choices(),
                *self._archive_views())  # fmt: skip

    def on_tick(self, seen: tuple | None, request: gr.Request | None = None):
        """Send the status (and the table, the outlet choices, the heading and the examples,
        after a swap) only when they changed; and the answer to a question this page asked
        before there was an index, once there is one (:meth:`.ResultEvents.answer_unanswered`:
        the overview, the query and the cards, last)."""
        self.holder.latest()  # an index another process committed shows up here
        key = status_key(self.updater)
        answer = self.results.answer_unanswered(request)
        if key == seen:
            return (*(gr.skip(),) * 7, *answer)
        table_changed = seen is None or seen[0] != key[0]
        busy_changed = seen is None or seen[1] != key[1]
        interval = STATUS_POLL_BUSY if self.updater.build.running else STATUS_POLL_IDLE
        return (
            status_html(self.updater),
            render_articles_table(self.holder.index) if table_changed else gr.skip(),
            key,
            gr.Timer(interval) if busy_changed else gr.skip(),
            self._outlet_choices() if table_changed else gr.skip(),
            *(self._archive_views() if table_changed else (gr.skip(), gr.skip())),
            *answer,
        )

    def bind(self, demo: gr.Blocks, page: Page) -> None:
        """Connect ``page``'s components (inside ``demo``, still open) to these functions."""
        controls = page.search
        setters = self.results.bind(demo, page)  # the page's questions
        gr.api(
            self.search,
            api_name="search",
            concurrency_limit=SEARCH_CONCURRENCY,
            concurrency_id="search",
        )
        gr.api(
            self.search_json,
            api_name="search_json",
            concurrency_limit=SEARCH_CONCURRENCY,
            concurrency_id="search",
        )
        gr.api(
            self.timeline,
            api_name="timeline",
            concurrency_limit=SEARCH_CONCURRENCY,
            concurrency_id="search",
        )
        if self.following is not None and page.following is not None:
            self.following.bind(page.following, controls.inputs())
        editing = page.editing
        if editing is not None:
            outputs = [editing.report, page.table, page.status, controls.outlet]
            private: dict[str, Any] = {
                "concurrency_limit": 1,
                "concurrency_id": "index-update",
                "api_visibility": "private",
            }
            editing.files.upload(
                self.on_upload, inputs=editing.files, outputs=[*outputs, editing.files], **private
            )
            editing.update.click(self.on_update, inputs=gr.State(False), outputs=outputs, **private)
            editing.rebuild.click(self.on_update, inputs=gr.State(True), outputs=outputs, **private)
        gr.api(
            self.status_json, api_name="status", concurrency_limit=None,
            api_visibility="undocumented",
        )  # fmt: skip
        archive = [page.intro, page.examples]
        shown = [page.status, page.table, page.status_seen, controls.outlet, *archive]
        demo.load(self.on_load, outputs=shown, api_visibility="private", show_progress="hidden")
        ticked = [page.status, page.table, page.status_seen, page.status_timer, controls.outlet]
        page.status_timer.tick(
            self.on_tick,
            inputs=page.status_seen,
            outputs=[*ticked, *archive, *self.results.outputs(page)],
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        )  # fmt: skip
        choices = controls.inputs()[1:]  # every field but the question
        # A link sets several fields at once, each firing a change event, and the page sends
        # those while it is still setting the others: an early one reads a field stale, and
        # its answer can arrive after a later one's. So every request is numbered in the order
        # the page read the fields (STAMP_JS), and the label keeps the newest read. Once a
        # link or a pick has set them all, the label is asked once more.
        read, shown = gr.Number(visible=False, precision=0), gr.State(None)
        label = dict(fn=self.on_choices, inputs=[*choices, read, shown],
                     outputs=[page.filters, shown], js=STAMP_JS, api_visibility="private",
                     show_progress="hidden", concurrency_id="filters-label",
                     concurrency_limit=1)  # fmt: skip
        gr.on(triggers=[c.change for c in choices], **label)
        for setter in setters:
            setter.then(**label)
