"""Links that open an article's web page at the answer sentence: a text fragment
(``#:~:text=…``, the URL Fragment Text Directives of the WICG, supported by Chromium, Safari
and Firefox), which makes the browser scroll to the first place the text occurs and mark it.
Browsers without support open the page as before.

The sentence is percent-encoded, including the ``-``, ``,`` and ``&`` the directive's syntax
uses. A long sentence becomes ``textStart,textEnd`` (its first and last words: the browser
marks the range between them), which keeps the link short and still matches where the page
breaks the sentence differently in the middle (a link, an ad).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

#: A sentence of more words than this is linked as its first and last :data:`EDGE_WORDS`.
MAX_EXACT_WORDS = 10
EDGE_WORDS = 4
#: Leading characters a page draws rather than writes (list bullets, dashes).
_BULLETS = "•·‣◦▪–—-* \t"


def encode_directive_text(text: str) -> str:
    """``text`` percent-encoded for a text directive: every character but letters, digits and
    ``.``, ``_``, ``~`` (UTF-8 for the rest), ``-`` included."""
    return quote(text, safe="").replace("-", "%2D")


def text_directive(sentence: str) -> str | None:
    """``text=…`` for ``sentence`` (white space collapsed, leading bullets dropped), or None
    for a sentence without a word."""
    words = sentence.lstrip(_BULLETS).split()
    if not words:
        return None
    if len(words) <= MAX_EXACT_WORDS:
        return "text=" + encode_directive_text(" ".join(words))
    start, end = " ".join(words[:EDGE_WORDS]), " ".join(words[-EDGE_WORDS:])
    return f"text={encode_directive_text(start)},{encode_directive_text(end)}"


def text_fragment_url(url: str | None, sentence: str) -> str | None:
    """``url`` ending in a text fragment of ``sentence``; None unless ``url`` is a web
    address (http or https). A fragment the address has keeps its place before the
    directive (``#part:~:text=…``); a text directive it had is replaced."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    directive = text_directive(sentence)
    base, _, fragment = url.partition("#")
    fragment = fragment.split(":~:", 1)[0]
    if directive is None:
        return f"{base}#{fragment}" if fragment else base
    return f"{base}#{fragment}:~:{directive}"
