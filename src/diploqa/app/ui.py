"""The Gradio app: the page (:mod:`.layout`) with its events (:mod:`.events`), mounted beside
the JSON endpoint (:mod:`.api`) for :mod:`.server` to serve.

Gradio is the optional ``ui`` extra; it is imported by :mod:`.layout`, :mod:`.events` and
this module only.
"""

from __future__ import annotations

import importlib.util

from fastapi import FastAPI

from ..alerts.service import AlertService
from ..auth.middleware import EDITOR_PATH
from .api import json_routes
from .archive import shown_texts
from .events import SEARCH_CONCURRENCY, Events, status_html, welcome_html
from .following import Following
from .layout import CSS, Initial, gr, lay_out, theme
from .live import IndexHolder
from .page_texts import PageTexts
from .render import render_articles_table, render_intro
from .updater import Updater
from .uploads import MAX_UPLOAD_BYTES

#: Gradio's ``delete_cache``: (how often, from what age) its cached files are deleted, seconds.
GRADIO_CACHE_SECONDS = (3600, 3600)
#: How long Gradio's queue sleeps between its looks for a new event, and for progress to
#: send (seconds). Its own 1 ms and 10 ms woke an idle server 1,100 times a second, and on
#: two cores that took time from the searches themselves (docs/benchmarks.md).
QUEUE_POLL_SECONDS = 0.01
PROGRESS_POLL_SECONDS = 0.05


def create_app(
    updater: Updater,
    editing: bool = True,
    sign_out: bool = False,
    texts: PageTexts | None = None,
    alerts: AlertService | None = None,
) -> gr.Blocks:
    """The Blocks app (queue configured, not launched) on ``updater`` and its live index.

    ``editing`` False: a search-only app for readers and ``--public``. It has no upload,
    update or rebuild component and no event for them, so there is nothing to call by hand
    either. ``sign_out``: show a sign-out link (a server with accounts). The server settings
    (the passages shown per article) are the updater's. ``texts``: the page's title,
    description and examples as the operator set them; those left unset (all, by default)
    the live index gives (:mod:`.archive`), and they follow its updates. ``alerts``: the
    standing questions (the follow button and the "New" tab; None: neither)."""
    holder = updater.holder
    texts = texts or PageTexts()
    per_article = updater.settings.server.passages_per_article
    shown = shown_texts(texts, holder.index)
    initial = Initial(
        intro=render_intro(shown),
        status=status_html(updater),
        results=welcome_html(updater),
        table=render_articles_table(holder.index),
        examples=shown.examples,
        outlets=holder.index.outlets() if holder.index is not None else [],
        per_article=per_article or 0,
    )
    shown_to = alerts is not None and (editing or sign_out)  # not with --public
    following = Following(alerts, sign_out, per_article) if shown_to else None
    # Gradio keeps a copy of every upload and download in its cache: emptied hourly of files
    # older than an hour (and at shutdown), so a long-running server does not fill the disk.
    with gr.Blocks(
        title=shown.title, analytics_enabled=False, delete_cache=GRADIO_CACHE_SECONDS
    ) as demo:
        page = lay_out(initial, editing, sign_out, following=following is not None)
        Events(updater, per_article, texts, following).bind(demo, page)
    demo.queue(default_concurrency_limit=SEARCH_CONCURRENCY)
    queue = demo._queue  # no public setting for these
    queue.sleep_when_free = QUEUE_POLL_SECONDS
    queue.progress_update_sleep_when_free = PROGRESS_POLL_SECONDS
    return demo


def mcp_available() -> bool:
    """True if Gradio's MCP server can run (the ``mcp`` package of ``gradio[mcp]``)."""
    return importlib.util.find_spec("mcp") is not None


def server_app(
    demo: gr.Blocks, holder: IndexHolder, editor: gr.Blocks | None = None, routes=()
) -> FastAPI:
    """The full web app: the JSON endpoint (:mod:`diploqa.app.api`) beside the Gradio page,
    its API and MCP server. ``editor``, the editing app of a server with accounts, is mounted
    at ``/edit`` (the access gate of :mod:`.server` lets only editors reach it), and ``demo``
    is then the search-only app. ``routes``: more routes (the standing questions')."""
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    server.router.routes.extend([*json_routes(holder), *routes])
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
        theme=theme(),
        css=CSS,
    )
