"""The Atom feed: valid Atom that the standard XML parser reads, every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from diploqa.alerts.feeds import atom_feed
from diploqa.alerts.model import Answer, StandingQuestion
from diploqa.hits import Copy, Hit
from diploqa.query import Query

A = "{http://www.w3.org/2005/Atom}"


def answer(
    i: int, title: str, url: str | None, text: str = "Lawrow traf Blinken in Genf."
) -> Answer:
    hit = Hit(text=text, score=0.9, source=f"a{i}.txt", title=title, date="2022-01-21",
              start=0, end=len(text), outlet="Testzeitung", url=url, highlight=(0, len(text)),
              duplicates=(Copy("b.txt", "Kopie", "Abendblatt", None, None),))  # fmt: skip
    return Answer(i, f"00000000-0000-4000-8000-00000000000{i}", "q1", hit,
                  f"2026-12-0{i}T10:00:00+00:00", f"2026-12-0{i}T11:00:00+00:00")  # fmt: skip


def test_the_feed_is_atom_with_one_entry_per_answer():
    question = StandingQuestion("q1", "11111111-1111-4111-8111-111111111111", "lena", "Genf",
                                Query("Wo trafen sich Lawrow und Blinken?"),
                                "2026-12-01T09:00:00+00:00")  # fmt: skip
    answers = [answer(2, "Treffen in Genf", "https://example.org/genf"), answer(1, "Früher", None)]
    body = atom_feed(question, answers, "http://127.0.0.1:7860/feeds/q1.atom?key=k")
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    feed = ET.fromstring(body)
    assert feed.tag == f"{A}feed"
    assert feed.findtext(f"{A}id") == "urn:uuid:11111111-1111-4111-8111-111111111111"
    assert feed.findtext(f"{A}title") == "diploqa: Genf"
    assert feed.findtext(f"{A}updated") == "2026-12-02T11:00:00+00:00"
    assert feed.find(f"{A}author/{A}name").text == "diploqa"
    assert feed.find(f"{A}link").get("rel") == "self"
    entries = feed.findall(f"{A}entry")
    assert [e.findtext(f"{A}title") for e in entries] == [
        "Treffen in Genf (Testzeitung)", "Früher (Testzeitung)"]  # fmt: skip
    first = entries[0]
    assert first.findtext(f"{A}id") == "urn:uuid:00000000-0000-4000-8000-000000000002"
    assert first.findtext(f"{A}published") < first.findtext(f"{A}updated")
    assert first.find(f"{A}link").get("href") == "https://example.org/genf"
    assert entries[1].find(f"{A}link") is None  # no URL, no link
    content = first.find(f"{A}content")
    assert content.get("type") == "html" and "<mark>Lawrow traf Blinken" in content.text
    assert "Abendblatt" in content.text


def test_hostile_text_stays_text_and_the_xml_stays_valid():
    nasty = 'Böse <script>alert(1)</script> & "Zitat" \x00\x07 ]]> Ende'
    question = StandingQuestion("q1", "11111111-1111-4111-8111-111111111111", "lena", nasty,
                                Query("Wer?"), "2026-12-01T09:00:00+00:00")  # fmt: skip
    body = atom_feed(question, [answer(1, nasty, "javascript:alert(1)", nasty)], "http://x/")
    feed = ET.fromstring(body)  # would raise on an unescaped character
    entry = feed.find(f"{A}entry")
    assert entry.find(f"{A}link") is None  # not a web address
    assert "<script>" in entry.findtext(f"{A}title")  # as text
    assert "&lt;script&gt;" in entry.find(f"{A}content").text  # escaped inside the HTML
    assert "\x00" not in body.decode()
