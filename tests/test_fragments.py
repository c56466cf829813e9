"""Links to the answer sentence (diploqa.fragments): the text directive's encoding, long
sentences as a range, addresses that keep or lose their fragment; and a real Chromium that
scrolls to the sentence such a link names."""

from __future__ import annotations

import http.server
import threading
from urllib.parse import unquote

import pytest

from diploqa.fragments import (
    EDGE_WORDS,
    MAX_EXACT_WORDS,
    encode_directive_text,
    text_directive,
    text_fragment_url,
)
from diploqa.hits import Hit


def test_the_syntax_characters_are_percent_encoded():
    assert encode_directive_text("Waffen-ruhe, Gespräche & mehr") == (
        "Waffen%2Druhe%2C%20Gespr%C3%A4che%20%26%20mehr"
    )
    for char in "-,&#%: ":
        assert encode_directive_text(f"a{char}b") == f"a%{ord(char):02X}b"


def test_a_short_sentence_is_the_whole_directive():
    sentence = "Kerry traf Lawrow in Sotschi."
    assert text_directive(sentence) == "text=Kerry%20traf%20Lawrow%20in%20Sotschi."


def test_a_long_sentence_becomes_its_first_and_last_words():
    words = [f"Wort{i}" for i in range(MAX_EXACT_WORDS + 5)]
    directive = text_directive(" ".join(words))
    start, end = directive.removeprefix("text=").split(",")
    assert unquote(start) == " ".join(words[:EDGE_WORDS])
    assert unquote(end) == " ".join(words[-EDGE_WORDS:])
    exact = " ".join(words[:MAX_EXACT_WORDS])
    assert "," not in text_directive(exact)


def test_white_space_is_collapsed_and_bullets_dropped():
    assert text_directive("  •  Kerry\n traf\tLawrow. ") == "text=Kerry%20traf%20Lawrow."
    assert text_directive(" – ") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a", "https://example.org/a#:~:text=Kerry%20traf%20Lawrow."),
        ("  http://example.org/a?x=1 ", "http://example.org/a?x=1#:~:text=Kerry%20traf%20Lawrow."),
        ("https://example.org/a#top", "https://example.org/a#top:~:text=Kerry%20traf%20Lawrow."),
        ("https://example.org/a#top:~:text=alt", "https://example.org/a#top:~:text=Kerry%20traf%20Lawrow."),
        ("javascript:alert(1)", None),
        ("ftp://example.org/a", None),
        ("https:///a", None),
        ("", None),
        (None, None),
    ],
)  # fmt: skip
def test_only_web_addresses_get_a_fragment(url, expected):
    assert text_fragment_url(url, "Kerry traf Lawrow.") == expected


def test_no_sentence_keeps_the_address_as_it_was():
    assert text_fragment_url("https://example.org/a#top:~:text=alt", " ") == (
        "https://example.org/a#top"
    )
    assert text_fragment_url("https://example.org/a", "") == "https://example.org/a"


def test_a_hit_links_to_its_answer_sentence():
    text = "Erster Satz. Lawrow und Kerry trafen sich in Sotschi. Dritter Satz."
    hit = Hit(text=text, score=0.9, source="a.txt", title="T", date=None, start=0,
              end=len(text), url="https://example.org/kerry", highlight=(13, 53))  # fmt: skip
    assert hit.highlighted_sentence == "Lawrow und Kerry trafen sich in Sotschi."
    assert hit.sentence_url == (
        "https://example.org/kerry#:~:text=Lawrow%20und%20Kerry%20trafen%20sich%20in%20Sotschi."
    )
    assert Hit(text=text, score=0.9, source="a.txt", title="T", date=None, start=0,
               end=len(text)).sentence_url is None  # fmt: skip


# --- A real browser follows the link --------------------------------------------------------

FILLER = "<p>Fülltext ohne Bedeutung, der nur Platz einnimmt.</p>\n" * 300
SHORT = "Die Waffen-Ruhe, sagte Lawrow, gilt ab Montag & für alle."
LONG = (
    "Nach stundenlangen Gesprächen in Lausanne einigten sich die Außenminister am späten "
    "Abend darauf, die Verhandlungen über eine Waffenruhe in Syrien in der kommenden Woche "
    "in Genf fortzusetzen."
)
PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'></head><body>"
    f"{FILLER}<p id='short'>{SHORT}</p>{FILLER}<p id='long'>{LONG}</p>{FILLER}</body></html>"
)


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    (folder / "artikel.html").write_text(PAGE, encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/artikel.html"
    server.shutdown()


@pytest.mark.slow
def test_chromium_scrolls_to_the_sentence_of_the_link(page_url, chromium):
    page = chromium.new_page(viewport={"width": 800, "height": 600})
    for element, sentence in (("short", SHORT), ("long", LONG)):
        page.goto(text_fragment_url(page_url, sentence))
        page.wait_for_timeout(500)  # the scroll happens after the load
        top = page.evaluate(f"document.getElementById('{element}').getBoundingClientRect().top")
        assert page.evaluate("window.scrollY") > 1000, element
        assert 0 <= top < 600, f"{element} is not in view after the jump ({top})"
    page.goto(page_url)
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") == 0  # without the fragment: the top
