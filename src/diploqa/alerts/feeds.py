"""A standing question's answers as an Atom feed (RFC 4287), for ordinary feed readers.

Written with the standard library's ElementTree: every text goes in as element text or an
attribute, so the serializer escapes it; the HTML inside ``content`` is built from escaped
pieces only (an article is data, never markup), and a link is given only for an http(s) URL.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

from .model import Answer, StandingQuestion

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
#: Characters XML 1.0 cannot hold at all, escaped or not.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: str | None) -> str:
    return _NOT_XML.sub(" ", text or "")


def _web_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _content(answer: Answer) -> str:
    hit = answer.hit
    a, b = hit.highlight
    if 0 <= a < b <= len(hit.text):
        text = f"{html.escape(hit.text[:a])}<mark>{html.escape(hit.text[a:b])}</mark>"
        text += html.escape(hit.text[b:])
    else:
        text = html.escape(hit.text)
    source = " · ".join(html.escape(x) for x in (hit.outlet, hit.date_text or hit.date) if x)
    out = f"<p>{text}</p><p>{source}{' · ' if source else ''}<code>{html.escape(hit.source)}"
    out += "</code></p>"
    if answer.copies:
        names = ", ".join(html.escape(c.outlet or c.title or c.source) for c in answer.copies)
        out += f"<p>Auch in / also in: {names}</p>"
    return out


def atom_feed(question: StandingQuestion, answers: list[Answer], self_url: str) -> bytes:
    """The feed of ``question`` with ``answers`` (newest first); ``self_url``: the address
    it was fetched from."""
    feed = Element("feed", {"xmlns": ATOM})
    SubElement(feed, "id").text = f"urn:uuid:{question.uid}"
    SubElement(feed, "title").text = _x(f"diploqa: {question.name}")
    SubElement(feed, "subtitle").text = _x(question.query.question)
    updated = max((a.updated for a in answers), default=question.created)
    SubElement(feed, "updated").text = updated
    author = SubElement(feed, "author")
    SubElement(author, "name").text = "diploqa"
    SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": _x(self_url)})
    SubElement(feed, "generator").text = "diploqa"
    for answer in answers:
        hit = answer.hit
        entry = SubElement(feed, "entry")
        SubElement(entry, "id").text = f"urn:uuid:{answer.uid}"
        title = f"{hit.title} ({hit.outlet})" if hit.outlet else hit.title
        SubElement(entry, "title").text = _x(title or hit.source)
        SubElement(entry, "published").text = answer.created
        SubElement(entry, "updated").text = answer.updated
        url = _web_url(hit.url)
        if url:
            SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": _x(url)})
        SubElement(entry, "summary").text = _x(hit.highlighted_sentence or hit.text[:300])
        SubElement(entry, "content", {"type": "html"}).text = _x(_content(answer))
    body = tostring(feed, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")
