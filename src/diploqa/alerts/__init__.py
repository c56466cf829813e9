"""Standing questions: a user follows a question, and the articles that answer it and arrive
after it was followed are delivered to a page inbox, an Atom feed and a webhook.

* :mod:`.model` — the values (:class:`StandingQuestion`, :class:`Answer`, :class:`Followed`,
  :class:`CheckReport`) and their JSON records.
* :mod:`.db` — the alerts file (SQLite, 0600, WAL, versioned) and where it lives.
* :mod:`.store` — :class:`AlertStore`: following, listing, the inbox, feed secrets (the
  Python API).
* :mod:`.matching` — :class:`Matcher`: which new articles answer which questions.
* :mod:`.check` — one check: new answers, "also in" for copies, the marks, exactly once.
* :mod:`.webhooks` — allowed URLs (no private addresses), signing, one POST;
  :mod:`.outbox` — batches to deliver, retries with back-off, the sending thread.
* :mod:`.feeds` — the Atom feed; :mod:`.routes` — the JSON API and ``/feeds/<id>.atom``.
* :mod:`.service` — :class:`AlertService`: matching and delivery inside ``diploqa serve``.
* :mod:`.cli` — ``diploqa alerts …`` and the serve flags.

Usage::

    from diploqa import Query, load_index
    from diploqa.alerts import AlertStore

    alerts = AlertStore("alerts.sqlite3")
    index = load_index("index")
    followed = alerts.add("Genf", Query("Wo trafen sich Lawrow und Blinken?"),
                          current=index.manifest.articles)
    ...  # the index is updated
    report = alerts.check(load_index("index"))
    for answer in alerts.answers(followed.question.id, unread=True):
        print(answer.hit.title, answer.hit.highlighted_sentence)

Names are imported on first use, so ``diploqa`` (the CLI) starts without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .db import alerts_path
    from .matching import MATCH_FLOOR, MATCH_RANK, Matcher
    from .model import (
        LOCAL_USER,
        AlertsError,
        Answer,
        CheckReport,
        Followed,
        NotFound,
        StandingQuestion,
    )
    from .service import AlertService
    from .store import AlertStore, Forbidden

_LAZY_NAMES = {
    "AlertStore": ".store",
    "Forbidden": ".store",
    "AlertService": ".service",
    "Matcher": ".matching",
    "MATCH_FLOOR": ".matching",
    "MATCH_RANK": ".matching",
    "alerts_path": ".db",
    "LOCAL_USER": ".model",
    "AlertsError": ".model",
    "Answer": ".model",
    "CheckReport": ".model",
    "Followed": ".model",
    "NotFound": ".model",
    "StandingQuestion": ".model",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_NAMES})


__all__ = [
    "LOCAL_USER",
    "MATCH_FLOOR",
    "MATCH_RANK",
    "AlertService",
    "AlertStore",
    "AlertsError",
    "Answer",
    "CheckReport",
    "Followed",
    "Forbidden",
    "Matcher",
    "NotFound",
    "StandingQuestion",
    "alerts_path",
]
