"""Filters compiled to Milvus expressions (:mod:`diploqa.store.milvus.expressions`)."""

from __future__ import annotations

from diploqa.filters import SearchFilter
from diploqa.store.milvus.expressions import filter_expression, prefix_expression


def test_filters_become_milvus_expressions():
    """The expression is what Milvus evaluates inside the search; a glob with a character
    class (which ``like`` cannot say) is left to the allowed rows."""
    wanted = SearchFilter.make(["Zeit", "FAZ"], "2016", "2017-03", "sz/*_1?.txt")
    assert filter_expression(wanted) == (
        '(outlet like "% zeit %" or outlet like "% faz %") and date_end >= 735964 and '
        "date_start <= 736419 and date_end >= 0 and date_start < 1000000000 and "
        'article_id like "sz/%\\\\_1_.txt"'
    )
    assert filter_expression(SearchFilter.make(source="a[0-9].txt")) is None


def test_what_every_milvus_version_understands():
    """Milvus 2.3 knows ``like`` for a prefix only: a prefix becomes a range of strings, the
    outlets the list of the index's outlets that match; what only a general ``like`` can say
    is left to the allowed rows there (None)."""
    outlets = {" die zeit ", " zeit online ", " süddeutsche zeitung ", ""}
    wanted = SearchFilter.make(["Zeit"], "2016", None, "sz_a/*")
    assert filter_expression(wanted, outlets, full_like=False) == (
        'outlet in [" die zeit ", " zeit online "] and date_end >= 735964 and date_end >= 0 '
        'and date_start < 1000000000 and (article_id >= "sz_a/" and article_id < "sz_a0")'
    )
    assert filter_expression(SearchFilter.make(outlet="Bild"), outlets) == "row < 0"
    named = SearchFilter.make(source='a "b".txt')
    assert filter_expression(named, full_like=False) == 'article_id == "a \\"b\\".txt"'
    for cannot in (SearchFilter.make(source="*_1.txt"), SearchFilter.make(outlet="Zeit")):
        assert filter_expression(cannot, None, full_like=False) is None
    assert prefix_expression("key", "manifest#") == 'key >= "manifest#" and key < "manifest$"'
    assert prefix_expression("key", "\U0010ffff") is None
