"""What the served archive holds, and the page texts it gives itself.

A page without an operator's texts (:mod:`.page_texts`) describes its own archive: a neutral
title, a line naming how many articles from which outlets and years it searches, and a few of
its newest headlines as examples (a headline finds its article, in the archive's own
language). They are computed from the live index, so they follow every update.

:class:`ArchiveFacts` are computed once per :class:`~diploqa.index.Index` (an index never
changes; an update swaps in a new one): the status line asks for them whenever it changes.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from dataclasses import dataclass

from ..index import Index
from . import messages
from .page_texts import PageTexts, ShownTexts

#: How many headlines a page without configured examples offers.
EXAMPLE_HEADLINES = 5
#: The longest headline offered as an example; a title the reader shortened ("…", a first
#: line taken for a title) is not offered either.
HEADLINE_CHARS = 100


@dataclass(frozen=True)
class ArchiveFacts:
    """What an index holds, for the status line and the derived page texts.

    Attributes:
        articles: indexed articles.
        passages: passages a question is answered from.
        outlets: every outlet named, sorted (empty: none is known).
        first, last: the earliest and the latest date (ISO, as precise as written), or None
            when no article is dated.
        headlines: the titles of the newest articles, newest first, each once (undated
            articles last), at most :data:`EXAMPLE_HEADLINES`.
    """

    articles: int
    passages: int
    outlets: tuple[str, ...]
    first: str | None
    last: str | None
    headlines: tuple[str, ...]

    @classmethod
    def of(cls, index: Index) -> ArchiveFacts:
        """The facts of ``index`` (computed on the first call for it)."""
        with _lock:
            found = _facts.get(index)
        if found is None:
            found = _compute(index)
            with _lock:
                _facts[index] = found
        return found


# Computed facts per live index, dropped with it (a cache local to this module).
_facts: weakref.WeakKeyDictionary[Index, ArchiveFacts] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _compute(index: Index) -> ArchiveFacts:
    articles = index.stored.articles.values()
    dates = [a.date for a in articles if a.date]
    return ArchiveFacts(
        articles=len(index.stored.articles),
        passages=len(index),
        outlets=tuple(index.outlets()),
        first=min(dates, default=None),
        last=max(dates, default=None),
        headlines=_headlines(index),
    )


def _headlines(index: Index, wanted: int = EXAMPLE_HEADLINES) -> tuple[str, ...]:
    """The newest distinct titles fit to be examples; undated articles fill up, by id."""
    articles = index.stored.articles.values()
    newest = sorted((a for a in articles if a.date), key=lambda a: (a.date, a.id), reverse=True)
    undated = (a for a in articles if not a.date)
    found: dict[str, str] = {}
    for article in itertools.chain(newest, undated):
        title = " ".join(article.title.split())
        fits = 0 < len(title) <= HEADLINE_CHARS and not title.endswith("…")
        if fits and title.casefold() not in found:
            found[title.casefold()] = title
            if len(found) == wanted:
                break
    return tuple(found.values())


def shown_texts(texts: PageTexts, index: Index | None) -> ShownTexts:
    """What the page shows: ``texts`` where the operator set them, else what ``index`` (the
    live one; None: none yet) says of itself."""
    facts = ArchiveFacts.of(index) if index is not None else None
    about = texts.about
    if about is None:
        about = messages.archive_about(facts) if facts is not None else messages.NO_ARCHIVE_ABOUT
    examples = texts.examples
    if examples is None:
        examples = facts.headlines if facts is not None else ()
    return ShownTexts(texts.title or messages.ARCHIVE_TITLE, about, examples)
