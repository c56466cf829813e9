"""What ``diploqa search`` prints: the passages, or with ``--timeline`` the articles matching
the question per period as a text histogram; as text or, with ``--json``, as JSON."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict
from typing import TextIO

from .hits import Hit
from .query import Query
from .timeline import Timeline, histogram


def print_hits(hits: list[Hit], query: Query, as_json: bool, out: TextIO) -> None:
    """The hits of ``query``: numbered cards of text, or a JSON list of every field (and
    ``sentence_url``); a hit's link opens its page at the answer sentence."""
    if as_json:
        records = [{**asdict(h), "sentence_url": h.sentence_url} for h in hits]
        print(json.dumps(records, ensure_ascii=False, indent=2), file=out)
        return
    lines = []
    if not hits:
        filtered = query.filter is not None
        lines.append("no passage matches the filters" if filtered else "no passages in the index")
    for hit in hits:
        meta = ", ".join(x for x in (hit.outlet, hit.date) if x)
        lines.append(f"{hit.rank}. [{hit.score:.0%}] {hit.title}" + (f" ({meta})" if meta else ""))
        lines.append(f"   {hit.source}, characters {hit.start}–{hit.end}")
        if hit.url:
            lines.append(f"   {hit.sentence_url or hit.url}")
        if hit.duplicates:
            lines.append("   also in: " + ", ".join(c.outlet or c.source for c in hit.duplicates))
        lines.append(textwrap.fill(hit.text, width=100, initial_indent="   ",
                                   subsequent_indent="   "))  # fmt: skip
        lines.append("")
    print("\n".join(lines), file=out)


def print_timeline(timeline: Timeline, query: Query, as_json: bool, out: TextIO) -> None:
    """The timeline of ``query``: a histogram (one line per period), or JSON with the fields
    of the JSON API (and ``question``, ``matched``, ``capped``)."""
    if as_json:
        record = {"question": query.question, **timeline.fields(),
                  "matched": timeline.articles, "capped": timeline.capped}  # fmt: skip
        print(json.dumps(record, ensure_ascii=False, indent=2), file=out)
        return
    print(histogram(timeline), file=out)
