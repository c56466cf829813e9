"""The web UI (``diploqa serve``): ask questions, see ranked passages, add articles.

Split so that everything but the wiring can be tested, and imported, without a browser or
Gradio:

* :mod:`.state` — :class:`IndexHolder`, the one live index shared by all sessions, and how
  an update or another process's build swaps it.
* :mod:`.render` — pure functions from data to escaped HTML (``render_*``).
* :mod:`.handlers` — what the buttons and API endpoints do (:func:`answer_html`,
  :func:`search_records`, :func:`upload_articles`, :func:`update_index`).
* :mod:`.uploads` — validating and storing one uploaded file (:func:`save_upload`).
* :mod:`.ui` — the Gradio Blocks (:func:`create_app`); the only module that imports Gradio
  (the optional ``ui`` extra).
* :mod:`.server` — :func:`serve`: the JSON endpoint at once, the page once Gradio is loaded.

Every name is re-exported here, so ``from diploqa.app import create_app, serve`` works. The
names of :mod:`.ui` and :mod:`.server` are loaded on first use: ``import diploqa.app`` does
not import Gradio (nor uvicorn), and using a name of :mod:`.ui` without Gradio installed
raises :class:`ImportError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .handlers import (
    DEFAULT_K,
    EMPTY_QUESTION_TEXT,
    MAX_K,
    UNEXPECTED_TEXT,
    answer_html,
    hit_record,
    search_records,
    update_index,
    upload_articles,
)
from .render import (
    CONTEXT_CHARS,
    LOW_SCORE_TEXT,
    LOW_SCORE_THRESHOLD,
    render_articles_table,
    render_card,
    render_context,
    render_message,
    render_passage,
    render_results,
    render_source,
    render_status,
    render_upload_report,
    score_percent,
)
from .state import NO_INDEX_TEXT, IndexHolder, describe_pending
from .uploads import (
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    MAX_UPLOAD_BYTES,
    UploadKind,
    UploadOutcome,
    find_identical,
    sanitize_filename,
    save_upload,
    save_uploaded_path,
)

if TYPE_CHECKING:
    from .server import LOCAL_HOSTS, serve
    from .ui import CSS, EXAMPLES, SEARCH_CONCURRENCY, create_app, gr, mcp_available

#: Names imported on first access: those of :mod:`.ui` need Gradio.
_LAZY_NAMES = {
    **dict.fromkeys(["CSS", "EXAMPLES", "SEARCH_CONCURRENCY", "create_app", "gr",
                     "mcp_available"], ".ui"),
    **dict.fromkeys(["LOCAL_HOSTS", "serve"], ".server"),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_NAMES})


__all__ = [
    "CONTEXT_CHARS",
    "CSS",
    "DEFAULT_K",
    "EMPTY_QUESTION_TEXT",
    "EXAMPLES",
    "LOCAL_HOSTS",
    "LOW_SCORE_TEXT",
    "LOW_SCORE_THRESHOLD",
    "MAX_K",
    "MAX_NAME_BYTES",
    "MAX_NAME_CHARS",
    "MAX_UPLOAD_BYTES",
    "NO_INDEX_TEXT",
    "SEARCH_CONCURRENCY",
    "UNEXPECTED_TEXT",
    "IndexHolder",
    "UploadKind",
    "UploadOutcome",
    "answer_html",
    "create_app",
    "describe_pending",
    "find_identical",
    "gr",
    "hit_record",
    "mcp_available",
    "render_articles_table",
    "render_card",
    "render_context",
    "render_message",
    "render_passage",
    "render_results",
    "render_source",
    "render_status",
    "render_upload_report",
    "sanitize_filename",
    "save_upload",
    "save_uploaded_path",
    "score_percent",
    "search_records",
    "serve",
    "update_index",
    "upload_articles",
]
