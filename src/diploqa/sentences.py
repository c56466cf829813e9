"""Where a sentence ends: one rule for chunk split points, highlighted sentences and titles.

German news is full of full stops that end no sentence: ordinals ("am 3. Oktober"),
one-letter abbreviations ("z. B.", "U. S."), common short ones ("ca.", "Mio.", "St. Moritz",
"Dr."), and any full stop before a lower-case word ("Papst Benedikt XVI. auf dem …", "usw.
bekämpfen"): German and English sentences start with a capital, a digit or a quote.
:data:`SENTENCE_BREAK` skips all of them; the chunker splits there and highlighting cuts
passages there, so a highlighted sentence is not a fragment such as "Johns River, …". A
headline cut from a lead paragraph (:func:`first_sentence`) must be surer still, so it also
wants a capital or a digit after the break and skips the common multi-letter abbreviations
("Dr.", "bzw.").
"""

from __future__ import annotations

import re

#: Abbreviations that end in a full stop but rarely a sentence (German and English news),
#: whatever follows them. None is also a German word that may end a sentence ("Gen.", "Art.",
#: "Nov." are left out for that reason).
ABBREVIATIONS = (
    "bzw", "ca", "Dr", "Prof", "St", "Nr", "Mio", "Mrd", "Tsd", "usw", "vgl", "ggf", "evtl",
    "inkl", "bspw", "sog", "Abs", "Chr", "Hrsg", "Mr", "Mrs", "Ms", "Jr", "Sr", "Inc", "Ltd",
    "Corp", "Co", "vs", "al", "Sen", "Gov", "Lt", "Col", "Sgt", "Capt",
)  # fmt: skip
_NOT_AFTER = "".join(rf"(?<!\b{re.escape(word)}\.)" for word in ABBREVIATIONS)

#: A sentence end in running text: ``.!?…``, closing quotes or brackets, then white space,
#: unless the full stop ends an ordinal, a one-letter or a known abbreviation, or the next
#: word starts in lower case.
SENTENCE_BREAK = (
    r"(?<=[.!?…])(?<!\d\.)(?<!\W\w\.)(?<!^\w\.)" + _NOT_AFTER
    + r"[\"“”»«')]*\s+(?![\sa-zäöüß])"
)  # fmt: skip
_BREAK_OR_LINE = re.compile(SENTENCE_BREAK + r"|\n+")
_HEADLINE_BREAK = re.compile(r"(\S+?)[.!?][\"'»«“”)]*\s+(?=[\"'„»«“(]?[A-ZÄÖÜ0-9])")
#: A headline is cut after none of these, nor after "etc." (which often ends a sentence in
#: running text).
_HEADLINE_ABBREVIATIONS = frozenset(ABBREVIATIONS) | {"z.B", "u.a", "etc"}


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
        if not (word.isdigit() or len(word) == 1 or word in _HEADLINE_ABBREVIATIONS):
            return line[: match.end()].strip()
    return line
