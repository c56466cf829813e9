"""The web app (``diploqa serve``): ask questions, see ranked passages, add articles.

One concept per module, so that everything but the Gradio wiring can be tested, and imported,
without a browser or Gradio:

* :mod:`.live` — :class:`IndexHolder`, the one live index every session searches, and how it
  is swapped (and picked up from another process).
* :mod:`.updater` — :class:`Updater`: updates from a button, in the background, on every
  change of the articles folder; :mod:`.pending` compares that folder with the index.
* :mod:`.messages` — every text a user reads, in German and English.
* :mod:`.page_texts` — the page's title, description and examples as the operator sets them
  (flags, ``page.toml`` beside the index, ``create_app(texts=...)``); :mod:`.archive` — what
  the live index holds, and the texts it gives a page whose operator set none.
* :mod:`.render` — pure functions from data to escaped HTML.
* :mod:`.handlers` — what the page, its buttons and the API endpoints do.
* :mod:`.uploads` — validating and storing one uploaded file.
* :mod:`.api` — the plain JSON endpoint ``/api/search``.
* :mod:`.layout`, :mod:`.events`, :mod:`.ui` — the Gradio page: its components, the
  functions bound to them (the named API and MCP endpoints among them), and the app mounted
  beside the JSON endpoint; the only modules that import Gradio (the optional ``ui`` extra).
* :mod:`.server` — :func:`serve`: the JSON endpoint at once, the page once Gradio is loaded.

Here only what callers outside the app use, imported on first use: ``import diploqa.app``
imports neither Gradio nor uvicorn, and :func:`create_app` without Gradio installed raises
:class:`ImportError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .live import IndexHolder
    from .server import serve
    from .ui import create_app
    from .updater import Updater

_LAZY_NAMES = {
    "IndexHolder": ".live",
    "Updater": ".updater",
    "create_app": ".ui",
    "serve": ".server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_NAMES})


__all__ = ["IndexHolder", "Updater", "create_app", "serve"]
