"""Filters compiled to Milvus expressions (:mod:`diploqa.store.milvus.expressions`)."""

from __future__ import annotations

from diploqa.filters import SearchFilter
from diploqa.store.milvus.expressions import filter_expression


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
