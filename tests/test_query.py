"""The Query value: checked once, the same for every surface, and its URL form."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diploqa.errors import QueryError
from diploqa.query import DEFAULT_K, Query, per_article_limit


def test_fields_are_checked_and_normalised():
    query = Query("  Wer traf\x00 Lawrow? ", 3.0, outlet="ZEIT ONLINE", since=dt.date(2016, 5, 1),
                  until=" 2016-10 ", source=" sz/* ", per_article=2, sort="date")  # fmt: skip
    assert query.question == "Wer traf Lawrow?" and query.k == 3 and isinstance(query.k, int)
    assert query.outlet == ("ZEIT ONLINE",)
    assert (query.since, query.until, query.source) == ("2016-05-01", "2016-10", "sz/*")
    assert query.filter.since == dt.date(2016, 5, 1) and query.filter.until == dt.date(2016, 10, 31)
    blank = Query("Kerry", outlet=["", " "], since="", until=None, source="")
    assert blank == Query("Kerry") and blank.filter is None and blank.k == DEFAULT_K
    assert Query("Kerry", outlet=(n for n in ["a", "b"])).outlet == ("a", "b")
    assert Query("Kerry", until=dt.datetime(2016, 5, 1, 12)).until == "2016-05-01"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"question": " "}, "the question is empty"),
        ({"question": None}, "the question must be text"),
        ({"k": 0}, "k must be a whole number ≥ 1, not 0"),
        ({"k": 2.5}, "k must be a whole number ≥ 1, not 2.5"),
        ({"k": True}, "k must be a whole number"),
        ({"per_article": 0}, "per_article must be a whole number ≥ 1, not 0"),
        ({"since": "gestern"}, "since must be a date like 2016"),
        ({"since": "2017", "until": "2016"}, "is after until"),
        ({"outlet": [3]}, "outlet must be a name or a list of names"),
        ({"source": 7}, "source must be a glob pattern"),
        ({"sort": "newest"}, "sort must be one of relevance, date, not 'newest'"),
    ],
)
def test_bad_fields_raise_one_readable_error(fields, message):
    fields = {"question": "Kerry", **fields}
    with pytest.raises(QueryError, match=message):
        Query(**fields)


def test_url_parameters_and_back():
    query = Query("Wer traf Lawrow?", 7, outlet=["taz", "ZEIT ONLINE"], since="2016",
                  source="sz/*", per_article=1, sort="date")  # fmt: skip
    params = query.to_params()
    assert params == {
        "q": "Wer traf Lawrow?", "k": "7", "outlet": ["taz", "ZEIT ONLINE"], "since": "2016",
        "source": "sz/*", "per_article": "1", "sort": "date",
    }  # fmt: skip
    assert Query.from_params(params) == query
    url = urlencode(params, doseq=True)  # a link to the search, read back as a server would
    assert Query.from_params(parse_qs(url), per_article=3) == query
    unlimited = Query("Kerry")
    assert unlimited.to_params()["per_article"] == "0"
    assert Query.from_params(unlimited.to_params(), per_article=2) == unlimited


def test_absent_url_parameters_are_the_defaults():
    assert Query.from_params({"q": "Kerry"}) == Query("Kerry")
    assert Query.from_params({"q": "Kerry"}, per_article=2).per_article == 2
    assert Query.from_params({"q": "Kerry", "per_article": "0"}, per_article=2).per_article is None
    assert Query.from_params({"q": "Kerry", "since": "", "sort": ""}) == Query("Kerry")
    assert Query.from_params({"q": "Kerry", "k": "20"}, max_k=20).k == 20


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "the question is empty"),
        ({"q": "Kerry", "k": "zwei"}, "k must be a whole number ≥ 1, not 'zwei'"),
        ({"q": "Kerry", "k": "2.5"}, "k must be a whole number ≥ 1, not '2.5'"),
        ({"q": "Kerry", "k": "0"}, "k must be a whole number ≥ 1, not 0"),
        ({"q": "Kerry", "k": "21"}, "k must be at most 20, not 21"),
        ({"q": "Kerry", "per_article": "x"}, "per_article must be a whole number"),
        ({"q": "Kerry", "sort": "random"}, "sort must be one of relevance, date"),
    ],
)
def test_bad_url_parameters_raise_one_readable_error(params, message):
    with pytest.raises(QueryError, match=message):
        Query.from_params(params, max_k=20)


def test_per_article_limit_of_a_web_surface():
    assert per_article_limit(None, 2) == 2 and per_article_limit("", 2) == 2
    assert per_article_limit(0, 2) is None and per_article_limit(0.0, 2) is None
    assert per_article_limit("0", 2) is None and per_article_limit("3", 2) == 3
    assert per_article_limit(3.0, None) == 3.0  # checked (and made whole) by Query


def test_query_of_takes_a_query_or_its_fields():
    query = Query("Kerry", 3)
    assert Query.of(query) is query and Query.of("Kerry", 3) == query
    with pytest.raises(TypeError):
        Query.of(query, 4)
    with pytest.raises(TypeError):
        Query.of(query, sort="date")


@given(
    question=st.text(min_size=1, max_size=50).filter(str.strip),
    k=st.integers(1, 50),
    outlet=st.lists(st.sampled_from(["taz", "ZEIT ONLINE", "Süddeutsche Zeitung"]), max_size=3),
    since=st.one_of(st.none(), st.sampled_from(["2016", "2016-10", "2016-10-14"])),
    source=st.one_of(st.none(), st.sampled_from(["sz/*", "*.jsonl#*"])),
    per_article=st.one_of(st.none(), st.integers(1, 5)),
    sort=st.sampled_from(["relevance", "date"]),
)
def test_every_query_survives_its_url(question, k, outlet, since, source, per_article, sort):
    try:
        query = Query(question, k, outlet=outlet, since=since, source=source,
                      per_article=per_article, sort=sort)  # fmt: skip
    except QueryError:
        return  # a question of controls only
    assert Query.from_params(parse_qs(urlencode(query.to_params(), doseq=True))) == query
