"""The web UI's rendering: pure functions from hits and articles to escaped HTML."""

from __future__ import annotations

import re

from diploqa.app import render
from diploqa.app.render import render_card, render_context, render_passage, score_percent
from diploqa.hits import Hit


def make_hit(text: str, highlight: tuple[int, int], **kw) -> Hit:
    fields = dict(score=0.85, source="a.txt", title="T", date=None, start=0, end=len(text))
    fields.update(kw)
    return Hit(text=text, highlight=highlight, rank=1, **fields)


def test_highlight_escapes_each_piece():
    text = "Vorher <b>. Der <script>alert(1)</script> Satz. Danach & <i>"
    a = text.index("Der")
    b = text.index("Satz.") + len("Satz.")
    out = render_passage(text, (a, b))
    assert out == (
        "Vorher &lt;b&gt;. <mark>Der &lt;script&gt;alert(1)&lt;/script&gt; Satz.</mark>"
        " Danach &amp; &lt;i&gt;"
    )


def test_bad_highlight_falls_back_to_plain_escaped_text():
    assert render_passage("a < b", (3, 99)) == "a &lt; b"


def test_context_shows_surroundings_and_emphasises_passage():
    text = "x" * 1000 + "PASSAGE<b>" + "y" * 1000
    start = 1000
    out = render_context(text, start, start + 10, chars=50)
    assert out.startswith("… " + "x" * 50)
    assert "<strong class='dq-context-passage'>PASSAGE&lt;b&gt;</strong>" in out
    assert out.endswith("y" * 50 + " …")


def test_card_escapes_source_and_metadata():
    hit = make_hit(
        "Text.",
        (0, 5),
        source='x"><script>.txt',
        title="<script>alert(1)</script>",
        outlet="<img src=x onerror=alert(1)>",
        date="2017",
    )
    out = render_card(hit, None)
    assert "<script" not in out and "<img" not in out
    assert 'data-source="x&quot;&gt;&lt;script&gt;.txt"' in out


def test_the_title_links_to_the_answer_sentence():
    text = "Vorher. Lawrow & Kerry trafen sich in Sotschi, sagte er. Danach."
    hit = make_hit(text, (8, 56), url="https://example.org/a?x=1&y=2")
    out = render_card(hit, None)
    href = re.search(r"<a class='dq-link' href='([^']*)'", out).group(1)
    assert href == (
        "https://example.org/a?x=1&amp;y=2#:~:text="
        "Lawrow%20%26%20Kerry%20trafen%20sich%20in%20Sotschi%2C%20sagte%20er."
    )
    assert "dq-link" in render_card(make_hit(text, (8, 56), url=None), None)
    unsafe = render_card(make_hit(text, (8, 56), url="javascript:alert(1)"), None)
    assert "href" not in unsafe and "javascript" not in unsafe


def test_score_percent_is_clamped():
    assert score_percent(0.843) == 84
    assert score_percent(1.2) == 100
    assert score_percent(-0.1) == 0


def test_articles_table_lists_indexed_articles(app_holder):
    table = render.render_articles_table(app_holder.index)
    assert table.count("<tr data-source=") == 5
    assert "Süddeutsche Zeitung" in table and "000_2ef6d3f0dcbaccb7.txt" in table
    assert re.search(r"<td class='dq-num'>\d+</td>", table)
