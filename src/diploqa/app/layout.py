"""The page's components: what the Gradio Blocks show, and nothing they do.

:func:`lay_out` places the components inside an open ``gr.Blocks`` and returns them as a
:class:`Page`, for :mod:`.events` to bind. Ids (``elem_id``) name every control for the
browser tests and for scripts. The words come from :mod:`.messages`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..articles import ARTICLE_SUFFIXES
from ..query import DEFAULT_K, SORTS
from . import messages
from .chart import CHART_CSS, OVERVIEW_JS
from .handlers import MAX_K
from .page_texts import MAX_EXAMPLES

# No telemetry: Gradio reads this when it is imported.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
import gradio as gr

from .following import FollowControls, lay_out_follow, lay_out_inbox

#: How often an open page asks for the index status (seconds): while an update runs, and
#: while none does (an update started by a button elsewhere or by ``--watch`` shows up then).
STATUS_POLL_BUSY, STATUS_POLL_IDLE = 1.0, 5.0
#: The file kinds an upload may be, for the label.
_KINDS = ", ".join(ARTICLE_SUFFIXES)

_PAGE_CSS = """
.dq-intro h1 { font-size: 1.45em; margin: 0; line-height: 1.25; }
.dq-intro .dq-about { margin: .15em 0 0; color: var(--body-text-color-subdued); }
#index-status .dq-msg { padding: .25em .7em; margin: .15em 0; font-size: .92em; }
.dq-msg { padding: .6em .9em; border-radius: 8px; margin: .4em 0;
          border: 1px solid var(--border-color-primary); }
.dq-warning { background: #fff4d6; border-color: #e0b43a; color: #5a4300; }
.dq-error { background: #fde2e1; border-color: #d9534f; color: #6b1513; }
.dq-summary { color: var(--body-text-color-subdued); margin: .3em 0; }
.dq-card { border: 1px solid var(--border-color-primary); border-radius: 10px;
           padding: .8em 1em; margin: .7em 0; background: var(--block-background-fill); }
.dq-card-head { display: flex; align-items: center; gap: .8em; margin-bottom: .3em; }
.dq-rank { font-weight: 700; font-size: 1.1em; }
.dq-score { display: inline-flex; align-items: center; gap: .4em; }
.dq-bar { display: inline-block; width: 120px; height: 8px; border-radius: 4px;
          background: var(--border-color-primary); overflow: hidden; }
.dq-bar-fill { display: block; height: 100%; background: var(--color-accent); }
.dq-pct { font-variant-numeric: tabular-nums; color: var(--body-text-color-subdued); }
.dq-passage { line-height: 1.5; margin: .3em 0; white-space: pre-wrap; }
.dq-passage mark { background: #fff1a8; color: inherit; padding: 0 .1em; }
.dq-source { font-size: .92em; color: var(--body-text-color-subdued); }
.dq-context summary { cursor: pointer; margin-top: .4em; }
.dq-context-text { white-space: pre-wrap; line-height: 1.5; font-size: .95em;
                   color: var(--body-text-color-subdued); padding: .4em 0; }
.dq-context-passage { color: var(--body-text-color); background: #eef3ff; }
.dq-table { width: 100%; border-collapse: collapse; }
.dq-table th, .dq-table td { text-align: left; padding: .3em .5em;
                             border-bottom: 1px solid var(--border-color-primary); }
.dq-num { text-align: right; }
.dq-copies { font-size: .9em; color: var(--body-text-color-subdued); margin-top: .2em; }
.dq-uploads { list-style: none; padding-left: 0; }
.dq-upload-rejected { color: #b52a25; }
.dq-new { font-size: .8em; font-weight: 700; color: var(--color-accent); }
"""
#: The page's styles: its own and the overview's.
CSS = _PAGE_CSS + CHART_CSS


def theme() -> gr.themes.Base:
    """A theme with system fonts only: the page loads nothing from third-party servers."""
    return gr.themes.Soft(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )


@dataclass(frozen=True)
class SearchControls:
    """The question and every parameter of a search, in the order of
    :class:`~diploqa.query.Query`'s fields."""

    question: gr.Textbox
    k: gr.Slider
    outlet: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox
    source: gr.Textbox
    per_article: gr.Number
    sort: gr.Radio

    def inputs(self) -> list[gr.components.Component]:
        return [self.question, self.k, self.outlet, self.since, self.until, self.source,
                self.per_article, self.sort]  # fmt: skip


@dataclass(frozen=True)
class EditingControls:
    """The upload field, the update and rebuild buttons and their report (editors only)."""

    files: gr.File
    update: gr.Button
    rebuild: gr.Button
    report: gr.HTML


@dataclass(frozen=True)
class Page:
    """Every component an event reads or writes."""

    intro: gr.HTML
    status: gr.HTML
    status_seen: gr.State
    status_timer: gr.Timer
    search: SearchControls
    ask: gr.Button
    filters: gr.Accordion
    results: gr.HTML
    overview: gr.HTML
    download: gr.DownloadButton
    asked: gr.State
    interval: gr.State
    examples: gr.Dataset
    table: gr.HTML
    editing: EditingControls | None
    following: FollowControls | None = None  # standing questions (issue #26)


@dataclass(frozen=True)
class Initial:
    """What the page shows before its first event: HTML for the heading, the status, the
    results and the articles table, the examples, the outlet choices, and the default
    per-article limit (0: none)."""

    intro: str
    status: str
    results: str
    table: str
    examples: tuple[str, ...]
    outlets: list[str]
    per_article: int


def lay_out(initial: Initial, editing: bool, sign_out: bool, following: bool = False) -> Page:
    """Place the page's components in the open Blocks. ``editing`` False: no upload, update
    or rebuild component at all (readers, ``--public``). ``sign_out``: a sign-out link.
    ``following``: the follow button and the "New" tab (not with ``--public``).

    The answers come right under the question: the filters and the order are folded into
    one row whose label says which are set, and the examples follow the answers (before
    the first question they are in view; after it, the answers are). Beside the answers
    (below them on a phone) the overview of the matching articles (:mod:`.chart`), shown
    once there is an answer."""
    intro = gr.HTML(initial.intro, elem_id="intro")
    if sign_out:
        gr.HTML(
            '<p style="text-align:right;margin:0"><a href="/logout" id="sign-out">'
            f"{messages.SIGN_OUT_TEXT}</a></p>"
        )
    status = gr.HTML(initial.status, elem_id="index-status")
    status_seen = gr.State(None)
    status_timer = gr.Timer(STATUS_POLL_BUSY)
    editing_controls = None
    with gr.Tabs():
        with gr.Tab(messages.ASK_TAB, id="ask-tab"):
            search, ask, filters = _search_controls(initial)
            with gr.Row(equal_height=False, elem_id="answers"):
                results = gr.HTML(initial.results, elem_id="results", scale=3, min_width=320)
                overview = gr.HTML("", elem_id="overview", scale=2, min_width=300, visible=False,
                                   js_on_load=OVERVIEW_JS)  # fmt: skip
            follow = lay_out_follow() if following else None  # after the answers it follows
            download = gr.DownloadButton(elem_id="export-file", visible="hidden")
            asked, interval = gr.State(None), gr.State("auto")
            examples = gr.Examples(
                examples=[[q] for q in initial.examples],
                inputs=[search.question],
                label=messages.EXAMPLES_LABEL,
                examples_per_page=MAX_EXAMPLES,
                elem_id="examples",
                visible=bool(initial.examples),
            ).dataset
        inbox = lay_out_inbox() if following else None
        with gr.Tab(messages.ARTICLES_TAB, id="articles-tab"):
            table = gr.HTML(initial.table, elem_id="articles-table")
            if editing:
                editing_controls = _editing_controls()
    controls = FollowControls(*follow, *inbox) if follow and inbox else None
    return Page(intro, status, status_seen, status_timer, search, ask, filters, results,
                overview, download, asked, interval, examples, table, editing_controls,
                controls)  # fmt: skip


def _search_controls(initial: Initial) -> tuple[SearchControls, gr.Button, gr.Accordion]:
    with gr.Row(equal_height=True):
        question = gr.Textbox(
            label=messages.QUESTION_LABEL,
            placeholder=messages.QUESTION_PLACEHOLDER,
            lines=1,
            max_lines=4,
            scale=6,
            autofocus=True,
            elem_id="question",
        )
        ask = gr.Button(messages.ASK_BUTTON, variant="primary", scale=1, elem_id="ask")
    with gr.Accordion(messages.filters_label(""), open=False, elem_id="filters") as filters:
        with gr.Row(equal_height=True):
            outlet = gr.Dropdown(
                choices=initial.outlets,
                value=[],
                multiselect=True,
                label=messages.OUTLETS_LABEL,
                info=messages.OUTLETS_INFO,
                scale=3,
                elem_id="outlet",
            )
            since = gr.Textbox(
                value="",
                label=messages.SINCE_LABEL,
                placeholder="2016 · 2016-10 · 2016-10-14",
                scale=1,
                elem_id="since",
            )
            until = gr.Textbox(value="", label=messages.UNTIL_LABEL, placeholder="2016-12-31",
                               scale=1, elem_id="until")  # fmt: skip
            source = gr.Textbox(
                value="",
                label=messages.SOURCE_LABEL,
                placeholder=messages.SOURCE_INFO,
                scale=1,
                elem_id="source",
            )
        with gr.Row(equal_height=True):
            k = gr.Slider(
                1, MAX_K, value=DEFAULT_K, step=1, label=messages.K_LABEL, scale=3, elem_id="k"
            )
            per_article = gr.Number(
                value=initial.per_article,
                minimum=0,
                precision=0,
                label=messages.PER_ARTICLE_LABEL,
                info=messages.PER_ARTICLE_INFO,
                scale=1,
                elem_id="per-article",
            )
            sort = gr.Radio(
                messages.ORDER_CHOICES,
                value=SORTS[0],
                label=messages.ORDER_LABEL,
                scale=2,
                elem_id="sort",
            )
    controls = SearchControls(question, k, outlet, since, until, source, per_article, sort)
    return controls, ask, filters


def _editing_controls() -> EditingControls:
    files = gr.File(
        label=messages.upload_label(_KINDS),
        file_count="multiple",
        file_types=list(ARTICLE_SUFFIXES),
        type="filepath",
        elem_id="upload",
    )
    with gr.Row():
        update = gr.Button(messages.UPDATE_BUTTON, elem_id="update")
        rebuild = gr.Button(messages.REBUILD_BUTTON, variant="stop", elem_id="rebuild")
    report = gr.HTML(elem_id="upload-report")
    return EditingControls(files, update, rebuild, report)
