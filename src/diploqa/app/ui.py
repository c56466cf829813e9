"""The Gradio wiring: the page, its events and the named API endpoints; the only Gradio user.

:func:`create_app` lays out the Blocks and :func:`server_app` mounts them beside the JSON
endpoint; :mod:`.server` serves them. Everything the page
shows comes from the handlers and renderers, so this module only connects them. The search
is the named API (and MCP) endpoint ``search`` (HTML, as the page shows it) and
``search_json`` (a list of dicts for programs). Gradio is the optional ``ui`` extra and is
imported here only.
"""

from __future__ import annotations

import html
import importlib.util
import os
from pathlib import Path
from typing import Any

from .. import config
from ..articles import ARTICLE_SUFFIXES
from ..build import Progress
from ..errors import DiploqaError
from .handlers import (
    DEFAULT_K,
    MAX_K,
    answer_html,
    search_records,
    update_index,
    upload_articles,
)
from .render import render_articles_table, render_message, render_status
from .state import NO_INDEX_TEXT, IndexHolder
from .uploads import MAX_UPLOAD_BYTES

# No telemetry: Gradio reads this when it is imported.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
import gradio as gr
from fastapi import FastAPI

from ..auth.middleware import EDITOR_PATH
from .api import json_routes

#: Searches that may run at once; index updates always run one at a time.
SEARCH_CONCURRENCY = 4
#: How often an open page asks for the index status (seconds): while an update runs, and
#: while none does (an update started by a button elsewhere or by ``--watch`` shows up then).
STATUS_POLL_BUSY, STATUS_POLL_IDLE = 1.0, 5.0
#: The file kinds an upload may be, for the label.
_KINDS = ", ".join(ARTICLE_SUFFIXES)

EXAMPLES = [
    "Mit wem sprach Kerry in Sotschi?",
    "Who did Kerry meet in Sochi?",
    "Wer schätzte die Chance auf eine Waffenruhe auf 49 Prozent?",
    "What did Tillerson say about Assad?",
    "Worum ging es bei den Gesprächen in Lausanne?",
    "Worüber telefonierten Obama und Putin?",
    "Why did the US stop the talks about a ceasefire?",
]

CSS = """
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
"""

_INTRO = (
    "<h1 style='margin-bottom:0'>diploqa</h1><p style='margin-top:.2em'>Fragen auf Deutsch "
    "oder Englisch zu deutschen Nachrichtenartikeln über US-russische Diplomatie. / Ask in "
    "German or English about German news articles on US–Russian diplomacy.</p>"
)


def _theme() -> gr.themes.Base:
    """A theme with system fonts only: the page loads nothing from third-party servers."""
    return gr.themes.Soft(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )


def _welcome(holder: IndexHolder) -> str:
    if holder.index is None:
        return render_status(holder)
    return render_message(
        "Frage eingeben und „Fragen / Ask“ klicken. / Type a question and click “Ask”."
    )


def _status_html(holder: IndexHolder) -> str:
    """The status area: the index (or why there is none) and a running update's progress,
    or why the last update failed."""
    index, build = holder.index, holder.build
    line = build.describe()
    if not build.running:
        head = render_status(holder)  # without an index, its problem names a failed build
        return head + render_message(line, "error") if line and index is not None else head
    if index is None:  # not an error: say that it is coming
        head = render_message(holder.problem or NO_INDEX_TEXT, "warning")
    else:
        head = render_status(holder)
    bar = f'<progress max="{build.total}" value="{build.done}"></progress>' if build.total else ""
    return (
        f'{head}<div class="dq-msg dq-info dq-build" role="status" data-state="building" '
        f'data-done="{build.done}" data-total="{build.total}">{html.escape(line or "")} '
        f"{bar}</div>"
    )


def _status_key(holder: IndexHolder) -> tuple:
    """What the status area and the articles table depend on; equal keys: nothing to send."""
    index = holder.index
    build = holder.build
    return (
        (id(index), index.manifest.generation if index is not None else None),
        build.running,
        build.done,
        build.total,
        build.error,
        holder.pending,
        holder.problem,
    )


def _gradio_progress(progress: gr.Progress) -> Progress:
    """Adapt Gradio's progress bar to the ``progress(done, total)`` callback of a build."""

    def report(done: int, total: int) -> None:
        progress((done, total), desc="Passagen einbetten / Embedding passages", unit="passages")

    return report


def _editing_controls() -> tuple[gr.File, gr.Button, gr.Button, gr.HTML]:
    """The upload field, the update and rebuild buttons and the report (editors only)."""
    files = gr.File(
        label=f"Artikel hochladen ({_KINDS}, höchstens 2 MB) / "
        f"Upload articles ({_KINDS}, at most 2 MB)",
        file_count="multiple",
        file_types=list(ARTICLE_SUFFIXES),
        type="filepath",
        elem_id="upload",
    )
    with gr.Row():
        update = gr.Button("Index aktualisieren / Update index", elem_id="update")
        rebuild = gr.Button(
            "Index neu aufbauen / Rebuild whole index",
            variant="stop",
            elem_id="rebuild",
        )
    upload_report = gr.HTML(elem_id="upload-report")
    return files, update, rebuild, upload_report


def create_app(
    index_dir: str | Path | None = None,
    articles_dir: str | Path | None = None,
    holder: IndexHolder | None = None,
    editing: bool = True,
    sign_out: bool = False,
) -> gr.Blocks:
    """Build the Blocks app (queue configured, not launched); loads index and model once.

    ``editing`` False: a search-only app for readers and ``--public``. It has no upload,
    update or rebuild component and no event for them, so there is nothing to call by hand
    either. ``sign_out``: show a sign-out link (a server with accounts)."""
    if holder is None:
        holder = IndexHolder(index_dir or config.index_dir(), articles_dir or config.articles_dir())
        holder.load()

    per_article = config.passages_per_article()

    def search(
        question: str,
        k: int = DEFAULT_K,
        outlet: list[str] | None = None,
        since: str = "",
        until: str = "",
        sort: str = "relevance",
    ) -> str:
        """Find the passages in German news articles on US–Russian diplomacy that best answer a
        question, as HTML cards (rank, score, passage with the answering sentence marked,
        source article).

        Args:
            question: the question, in German or English, e.g. "Wer traf Lawrow in Sotschi?".
            k: how many passages to return (1–20).
            outlet: only articles of these outlets, e.g. ["ZEIT ONLINE"] (empty: all).
            since: only articles dated from this day, month or year, e.g. "2016" (empty: any).
            until: only articles dated up to this day, month or year (inclusive; empty: any).
            sort: "relevance" (default) or "date" (newest first).
        """
        return answer_html(
            holder, question, k, outlet=outlet, since=since, until=until, sort=sort,
            per_article=per_article,
        )  # fmt: skip

    def search_json(
        question: str,
        k: int = DEFAULT_K,
        outlet: list[str] | None = None,
        since: str = "",
        until: str = "",
        source: str = "",
        sort: str = "relevance",
    ) -> list[dict]:
        """Find the passages in German news articles on US–Russian diplomacy that best answer a
        question. Returns a list of dicts, best first: rank, score (cosine similarity),
        title, source (article id), date (ISO), date_text (as written), outlet, url, text
        (the passage), answer_sentence, duplicates (the same story in other outlets: source,
        title, outlet, url, date) and low_score (true if the passage probably does not answer
        the question).

        Args:
            question: the question, in German or English, e.g. "Who did Kerry meet in Sochi?".
            k: how many passages to return (1–20).
            outlet: only articles of these outlets, e.g. ["ZEIT ONLINE"] (empty: all).
            since: only articles dated from this day, month or year, e.g. "2016" (empty: any).
            until: only articles dated up to this day, month or year (inclusive; empty: any).
            source: only article ids matching this glob, e.g. "sz/*" (empty: all).
            sort: "relevance" (default) or "date" (newest first).
        """
        try:
            return search_records(
                holder, question, k, outlet=outlet, since=since, until=until, source=source,
                sort=sort, per_article=per_article,
            )  # fmt: skip
        except DiploqaError as err:
            raise gr.Error(str(err), print_exception=False) from None

    def outlet_choices() -> gr.Dropdown:
        index = holder.index
        return gr.Dropdown(choices=index.outlets() if index is not None else [])

    def on_upload(files: list[str] | None, progress: gr.Progress = gr.Progress()):  # noqa: B008
        report = upload_articles(holder, files, _gradio_progress(progress))
        table = render_articles_table(holder.index)
        return report, table, render_status(holder), outlet_choices(), None

    def on_update(progress: gr.Progress = gr.Progress()):  # noqa: B008
        report = update_index(holder, rebuild=False, progress=_gradio_progress(progress))
        return report, render_articles_table(holder.index), render_status(holder), outlet_choices()

    def on_rebuild(progress: gr.Progress = gr.Progress()):  # noqa: B008
        report = update_index(holder, rebuild=True, progress=_gradio_progress(progress))
        return report, render_articles_table(holder.index), render_status(holder), outlet_choices()

    def status_json() -> dict:
        """The state of the index: ready (bool), articles, passages, generation, building
        (bool), done and total (passages embedded by the running update), error (why the last
        update failed), message (one line to show), pending and last_update."""
        return holder.status_record()

    def on_load():
        key = _status_key(holder)
        return _status_html(holder), render_articles_table(holder.index), key, outlet_choices()

    def on_tick(seen: tuple | None):
        """Send the status (and the table and outlet choices, after a swap) only when they
        changed."""
        key = _status_key(holder)
        if key == seen:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        table_changed = seen is None or seen[0] != key[0]
        busy_changed = seen is None or seen[1] != key[1]
        interval = STATUS_POLL_BUSY if holder.build.running else STATUS_POLL_IDLE
        return (
            _status_html(holder),
            render_articles_table(holder.index) if table_changed else gr.skip(),
            key,
            gr.Timer(interval) if busy_changed else gr.skip(),
            outlet_choices() if table_changed else gr.skip(),
        )

    with gr.Blocks(title="diploqa", analytics_enabled=False) as demo:
        gr.HTML(_INTRO)
        if sign_out:
            gr.HTML(
                '<p style="text-align:right;margin:0"><a href="/logout" id="sign-out">'
                "Abmelden / Sign out</a></p>"
            )
        status = gr.HTML(_status_html(holder), elem_id="index-status")
        status_seen = gr.State(None)
        status_timer = gr.Timer(STATUS_POLL_BUSY)
        with gr.Tabs():
            with gr.Tab("Fragen / Ask", id="ask-tab"):
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Frage / Question",
                        placeholder="z. B. / e.g. Wer traf Lawrow in Sotschi?",
                        lines=1,
                        max_lines=4,
                        scale=6,
                        autofocus=True,
                        elem_id="question",
                    )
                    ask = gr.Button("Fragen / Ask", variant="primary", scale=1, elem_id="ask")
                with gr.Row(equal_height=True):
                    outlet = gr.Dropdown(
                        choices=holder.index.outlets() if holder.index is not None else [],
                        value=[],
                        multiselect=True,
                        label="Medien / Outlets",
                        info="leer: alle / empty: all",
                        scale=3,
                        elem_id="outlet",
                    )
                    since = gr.Textbox(
                        value="",
                        label="Von / From",
                        placeholder="2016 · 2016-10 · 2016-10-14",
                        scale=1,
                        elem_id="since",
                    )
                    until = gr.Textbox(
                        value="",
                        label="Bis / Until",
                        placeholder="2016-12-31",
                        scale=1,
                        elem_id="until",
                    )
                with gr.Row(equal_height=True):
                    k = gr.Slider(
                        1,
                        MAX_K,
                        value=DEFAULT_K,
                        step=1,
                        label="Anzahl Passagen / Number of passages",
                        scale=3,
                        elem_id="k",
                    )
                    sort = gr.Radio(
                        [("Relevanz / Relevance", "relevance"), ("Datum / Date", "date")],
                        value="relevance",
                        label="Sortierung / Order",
                        scale=2,
                        elem_id="sort",
                    )
                gr.Examples(
                    examples=[[q] for q in EXAMPLES],
                    inputs=[question],
                    label="Beispiele / Examples",
                )
                results = gr.HTML(_welcome(holder), elem_id="results")
            with gr.Tab("Artikel / Articles", id="articles-tab"):
                table = gr.HTML(render_articles_table(holder.index), elem_id="articles-table")
                if editing:
                    files, update, rebuild, upload_report = _editing_controls()

        gr.on(
            triggers=[ask.click, question.submit, since.submit, until.submit],
            fn=search,
            inputs=[question, k, outlet, since, until, sort],
            outputs=results,
            api_name="search",
            concurrency_limit=SEARCH_CONCURRENCY,
            concurrency_id="search",
            show_progress="minimal",
        )
        gr.api(
            search_json,
            api_name="search_json",
            concurrency_limit=SEARCH_CONCURRENCY,
            concurrency_id="search",
        )
        if editing:
            index_outputs = [upload_report, table, status, outlet]
            private: dict[str, Any] = {
                "concurrency_limit": 1,
                "concurrency_id": "index-update",
                "api_visibility": "private",
            }
            files.upload(on_upload, inputs=files, outputs=[*index_outputs, files], **private)
            update.click(on_update, outputs=index_outputs, **private)
            rebuild.click(on_rebuild, outputs=index_outputs, **private)
        gr.api(
            status_json, api_name="status", concurrency_limit=None, api_visibility="undocumented"
        )
        demo.load(on_load, outputs=[status, table, status_seen, outlet], api_visibility="private")
        status_timer.tick(
            on_tick,
            inputs=status_seen,
            outputs=[status, table, status_seen, status_timer, outlet],
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        )
    demo.queue(default_concurrency_limit=SEARCH_CONCURRENCY)
    return demo


def mcp_available() -> bool:
    """True if Gradio's MCP server can run (the ``mcp`` package of ``gradio[mcp]``)."""
    return importlib.util.find_spec("mcp") is not None


def server_app(demo: gr.Blocks, holder: IndexHolder, editor: gr.Blocks | None = None) -> FastAPI:
    """The full web app: the JSON endpoint (:mod:`diploqa.app.api`) beside the Gradio page,
    its API and MCP server. ``editor``, the editing app of a server with accounts, is mounted
    at ``/edit`` (the access gate of :mod:`.server` lets only editors reach it), and ``demo``
    is then the search-only app."""
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    server.router.routes.extend(json_routes(holder))
    if editor is not None:  # before the catch-all mount at the root
        _mount(server, editor, EDITOR_PATH)
    _mount(server, demo, "")
    return server


def _mount(server: FastAPI, demo: gr.Blocks, path: str) -> None:
    gr.mount_gradio_app(
        server,
        demo,
        path=path,
        max_file_size=MAX_UPLOAD_BYTES,
        mcp_server=mcp_available(),
        ssr_mode=False,
        show_error=False,
        theme=_theme(),
        css=CSS,
    )
