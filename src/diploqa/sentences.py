"""Where a sentence ends: one rule for chunk split points, highlighted sentences and titles.

German news is full of full stops that end no sentence: ordinals ("am 3. Oktober") and
one-letter abbreviations ("z. B.", "U. S."). :data:`SENTENCE_BREAK` skips both; the chunker
splits there and highlighting cuts passages there. A headline cut from a lead paragraph
(:func:`first_sentence`) must be surer still, so it also wants a capital or a digit after the
break and skips the common multi-letter abbreviations ("Dr.", "bzw.").
"""

from __future__ import annotations

import re

#: A sentence end in running text: ``.!?…``, closing quotes or brackets, then white space.
SENTENCE_BREAK = r"(?<=[.!?…])(?<!\d\.)(?<!\s\w\.)[\"“”»«')]*\s+"
_BREAK_OR_LINE = re.compile(SENTENCE_BREAK + r"|\n+")
_HEADLINE_BREAK = re.compile(r"(\S+?)[.!?][\"'»«“”)]*\s+(?=[\"'„»«“(]?[A-ZÄÖÜ0-9])")
_ABBREVIATIONS = frozenset({"Dr", "Prof", "Nr", "St", "bzw", "ca", "vgl", "z.B", "u.a", "etc"})


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each non-empty sentence (or line) of ``text``."""
    spans, start = [], 0
    for match in _BREAK_OR_LINE.finditer(text):
        spans.append((start, match.start() + len(match.group(0).rstrip())))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()] or [(0, len(text))]


def first_sentence(line: str) -> str:
    """The first sentence of ``line`` (the whole line if no sure sentence end is found)."""
    for match in _HEADLINE_BREAK.finditer(line):
        word = match.group(1)
        if not (word.isdigit() or len(word) == 1 or word in _ABBREVIATIONS):
            return line[: match.end()].strip()
    return line
