"""Links that reopen a search (issue #25, 5): the page's address carries the question and every
filter under the JSON API's names, and reads back to the same search."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.datastructures import QueryParams

from diploqa.app.permalink import open_link, page_link
from diploqa.query import Query


def test_a_link_names_what_is_set_and_leaves_the_defaults_out():
    query = Query("Wer traf Lawrow in Sotschi?", since="2016", outlet=["ZEIT ONLINE"],
                  sort="date", per_article=2)  # fmt: skip
    assert page_link(query, per_article=2) == (
        "?q=Wer+traf+Lawrow+in+Sotschi%3F&outlet=ZEIT+ONLINE&since=2016&sort=date"
    )
    plain = page_link(Query("Kerry"), per_article=2)
    assert plain == "?q=Kerry&per_article=0"  # no limit, on a server with one: said
    wide = page_link(Query("Kerry", 7, outlet=["SZ", "taz"], until="2017-03"), "week")
    assert parse_qs(wide[1:]) == {"q": ["Kerry"], "k": ["7"], "outlet": ["SZ", "taz"],
                                  "until": ["2017-03"], "timeline": ["week"]}  # fmt: skip


def test_a_link_reads_back_to_the_same_search():
    for query, interval in [
        (Query("Was sagte Tillerson über Assad?", since="2016-10", until="2016-12-31"), "auto"),
        (Query("Köln & „Gipfel“", 12, outlet=["ZEIT ONLINE", "SZ"], source="00[34]_*"), "year"),
        (Query("Kerry", per_article=3, sort="date"), "day"),
    ]:
        link = page_link(query, interval, per_article=3)
        opened = open_link(QueryParams(link[1:]), per_article=3, max_k=20)
        assert opened is not None and opened.error is None, link
        assert opened.query == query and opened.interval == interval, link


def test_opening_an_address_without_a_question_asks_nothing():
    assert open_link(QueryParams("")) is None
    assert open_link(QueryParams("q=+&since=2016")) is None
    assert open_link({"__theme": "dark"}) is None


def test_a_bad_link_keeps_its_texts_and_says_why():
    opened = open_link(QueryParams("q=Kerry&since=gestern&source=00*"))
    assert opened is not None and opened.query is None
    assert "since must be a date like 2016" in opened.error
    assert (opened.question, opened.since, opened.source) == ("Kerry", "gestern", "00*")
    too_many = open_link(QueryParams("q=Kerry&k=500"), max_k=20)
    assert too_many.query is None and "k must be at most 20" in too_many.error
    hourly = open_link(QueryParams("q=Kerry&timeline=hourly"))  # the chart's own: not fatal
    assert hourly.query == Query("Kerry") and hourly.interval == "auto" and not hourly.error
