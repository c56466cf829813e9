"""The results area's events: asking from the page, narrowing by a bar of the timeline or an
outlet chip, the chart's interval, the export download, opening a link to a search, and
answering a question the page asked before there was an index.

Every way of asking gives the same three outputs (:data:`ANSWER_OUTPUTS` order): the overview
beside the answers (:mod:`.chart`), the query answered (a ``gr.State``: what the export
downloads) and the answer cards. What is shown comes from :func:`~.handlers.page_answer`;
this module only connects it to the page's components.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import QueryError
from ..query import DEFAULT_K, Query, per_article_limit
from ..timeline import check_interval
from . import messages
from .handlers import MAX_K, PageAnswer, page_answer
from .layout import Page, gr
from .live import IndexHolder
from .permalink import DEFAULT_INTERVAL, open_link
from .render import render_message

#: Searches that may run at once; index updates always run one at a time.
SEARCH_CONCURRENCY = 4
#: Questions asked before there was an index, kept to answer them when it comes (one per
#: page; the oldest is forgotten beyond this many).
MAX_UNANSWERED = 1000
#: After an export: click the hidden download button, which now holds the file.
DOWNLOAD_JS = "() => { document.getElementById('export-file')?.click(); }"

#: What every way of asking returns (the overview, the query answered, the cards).
Outputs = tuple[Any, Any, Any]


class ResultEvents:
    """The results area's events on ``holder``'s live index. ``per_article``: the server's
    limit where a search names none; ``export``: what the export buttons call
    (:meth:`.events.Events.export`), which returns the file's path."""

    def __init__(
        self,
        holder: IndexHolder,
        per_article: int | None,
        export: Callable[..., str],
        label: Callable[..., Any],
    ) -> None:
        self.holder = holder
        self.per_article = per_article
        self._export = export
        #: The folded filters' label for (k, outlet, since, until, source, per_article, sort):
        #: an opened link or a pick sets it with the fields (their change events may come
        #: late, or not at all).
        self._label = label
        #: Page session → a question it asked before there was an index (see on_tick).
        self._unanswered: dict[str, tuple[str, Any, dict[str, Any], str]] = {}

    def on_ask(
        self,
        question: str,
        k: int = DEFAULT_K,
        outlet: list[str] | None = None,
        since: str = "",
        until: str = "",
        source: str = "",
        per_article: int | None = None,
        sort: str = "relevance",
        interval: str = DEFAULT_INTERVAL,
        request: gr.Request | None = None,
    ) -> Outputs:
        """The page's question (the ask button, Enter in a field): cards and overview."""
        try:
            limit = per_article_limit(per_article, self.per_article)
        except QueryError as err:
            return self._outputs(PageAnswer(render_message(messages.error(err), "error")))
        fields = dict(outlet=outlet, since=since, until=until, source=source, per_article=limit,
                      sort=sort)  # fmt: skip
        session = request.session_hash if request is not None else None
        if session:
            self._remember(session, (question, k, fields, interval))
        return self._answer(question, k, fields, interval)

    def _answer(self, question: str, k: Any, fields: dict[str, Any], interval: str) -> Outputs:
        shown = page_answer(self.holder, question, k, interval, self.per_article, **fields)
        return self._outputs(shown)

    @staticmethod
    def _outputs(shown: PageAnswer) -> Outputs:
        overview = gr.HTML(value=shown.overview, visible=bool(shown.overview))
        return overview, shown.query, shown.results

    def on_pick(
        self,
        question: str,
        k: int,
        outlet: list[str] | None,
        since: str,
        until: str,
        source: str,
        per_article: int | None,
        sort: str,
        interval: str,
        evt: gr.EventData,
        request: gr.Request | None = None,
    ) -> tuple:
        """A bar (``{since, until}``: that period), an outlet chip (``{outlet}``: only that
        outlet; empty: all), or an interval (``{interval}``) was picked in the overview: set
        that filter and ask again. Returns the outlet, since, until and interval (unchanged
        ones skipped), what :meth:`on_ask` returns, and the folded filters' label."""
        data = evt._data if isinstance(evt._data, dict) else {}
        changed: list[Any] = [gr.skip()] * 4
        if "since" in data:
            since, until = str(data.get("since") or ""), str(data.get("until") or "")
            changed[1:3] = since, until
        elif "outlet" in data:
            name = str(data.get("outlet") or "").strip()
            outlet = [name] if name else []
            changed[0] = outlet
        elif "interval" in data:
            try:
                interval = check_interval(data.get("interval"))
            except QueryError:
                return (gr.skip(),) * 8
            changed[3] = interval
        else:
            return (gr.skip(),) * 8
        asked = self.on_ask(question, k, outlet, since, until, source, per_article, sort,
                            interval, request)  # fmt: skip
        label = self._label(k, outlet, since, until, source, per_article, sort)
        return (*changed, *asked, label)

    def on_export(self, asked: Query | None, evt: gr.EventData) -> str:
        """An export button: the query last answered as a file (``{export: fmt}``)."""
        data = evt._data if isinstance(evt._data, dict) else {}
        if asked is None:
            raise gr.Error(messages.NOTHING_ASKED_TEXT, print_exception=False)
        return self._export(asked.question, asked.k, list(asked.outlet), asked.since or "",
                            asked.until or "", asked.source or "", asked.per_article or 0,
                            asked.sort, fmt=str(data.get("export") or "csv"))  # fmt: skip

    def on_open(self, request: gr.Request | None = None) -> tuple:
        """The page was opened with a search in its address (:mod:`.permalink`): fill the
        question and every filter, and answer at once. Returns the eight search fields, the
        interval, what :meth:`on_ask` returns and the folded filters' label (everything
        skipped without a search; the texts and the error where the link is invalid)."""
        params = request.query_params if request is not None else {}
        opened = open_link(params, self.per_article, MAX_K)
        skip = gr.skip()
        if opened is None:
            return (skip,) * 13
        query = opened.query
        if query is None:
            error = render_message(messages.error(opened.error), "error")
            texts = (opened.question, skip, skip, opened.since, opened.until, opened.source)
            return (*texts, skip, skip, skip, *self._outputs(PageAnswer(error)), skip)
        outlets = self._known_outlets(query.outlet)
        limit = query.per_article or 0
        fields = (query.question, query.k, outlets, query.since or "", query.until or "",
                  query.source or "", limit, query.sort)  # fmt: skip
        answer = self.on_ask(*fields, opened.interval, request)
        return (*fields, opened.interval, *answer, self._label(*fields[1:]))

    def _known_outlets(self, names: tuple[str, ...]) -> list[str]:
        """``names`` as the index spells them (the outlet filter ignores case; the choices
        of the outlet field do not)."""
        index = self.holder.index
        known = {name.casefold(): name for name in (index.outlets() if index else [])}
        return [known.get(name.casefold(), name) for name in names]

    def _remember(self, session: str, asked: tuple[str, Any, dict[str, Any], str]) -> None:
        """Keep the question a page asked while there is no index (forget an older one);
        :meth:`answer_unanswered` answers it once there is one."""
        self._unanswered.pop(session, None)
        if self.holder.index is None:
            if len(self._unanswered) >= MAX_UNANSWERED:
                self._unanswered.pop(next(iter(self._unanswered)), None)
            self._unanswered[session] = asked

    def answer_unanswered(self, request: gr.Request | None) -> Outputs:
        """The answer to the question this page asked before there was an index, once there
        is one; else nothing to send."""
        if request is None or self.holder.index is None:
            return gr.skip(), gr.skip(), gr.skip()
        asked = self._unanswered.pop(request.session_hash or "", None)
        if asked is None:
            return gr.skip(), gr.skip(), gr.skip()
        question, k, fields, interval = asked
        return self._answer(question, k, fields, interval)

    def outputs(self, page: Page) -> list:
        """The components every way of asking writes, in the order of its outputs."""
        return [page.overview, page.asked, page.results]

    def bind(self, demo: gr.Blocks, page: Page) -> list[Any]:
        """Connect the question, the overview, the export and opening a link (inside
        ``demo``, still open). Returns the events that set the filter fields (opening a
        link, picking in the overview), for what must run after them."""
        controls = page.search
        inputs = [*controls.inputs(), page.interval]
        answers = self.outputs(page)
        private: dict[str, Any] = {
            "api_visibility": "private",
            "concurrency_limit": SEARCH_CONCURRENCY,
            "concurrency_id": "search",
        }
        gr.on(
            triggers=[page.ask.click, controls.question.submit, controls.since.submit,
                      controls.until.submit, controls.source.submit],
            fn=self.on_ask, inputs=inputs, outputs=answers, show_progress="minimal", **private,
        )  # fmt: skip
        picked = [controls.outlet, controls.since, controls.until, page.interval]
        on_pick = page.overview.select(self.on_pick, inputs=inputs,
                                       outputs=[*picked, *answers, page.filters],
                                       show_progress="minimal", **private)  # fmt: skip
        page.overview.click(
            self.on_export, inputs=page.asked, outputs=page.download, **private
        ).success(None, js=DOWNLOAD_JS, api_visibility="private")
        on_open = demo.load(self.on_open, outputs=[*inputs, *answers, page.filters],
                            show_progress="hidden", **private)  # fmt: skip
        return [on_open, on_pick]
