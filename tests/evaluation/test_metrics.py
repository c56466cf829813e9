"""Article-level metrics against hand-computed values: one relevant article, several, none
found, and ties."""

from __future__ import annotations

import math

import pytest

from diploqa.evaluation import EvalQuestion, contains_answer, rank_metrics, rank_summary


def _log(rank: int) -> float:
    return 1 / math.log2(rank + 1)


def test_one_relevant_article_at_rank_3():
    m = rank_metrics([False, False, True, False], 1)
    assert m["R@1"] == 0 and m["R@5"] == 1
    assert m["MRR@10"] == pytest.approx(1 / 3)
    assert m["nDCG@10"] == pytest.approx(_log(3))  # = 0.5


def test_first_place_is_perfect():
    assert rank_metrics([True, False], 1) == {"R@1": 1, "R@5": 1, "MRR@10": 1, "nDCG@10": 1}


def test_no_relevant_hit_scores_zero():
    m = rank_metrics([False] * 10, 1)
    assert m == {"R@1": 0, "R@5": 0, "MRR@10": 0, "nDCG@10": 0}
    assert rank_metrics([], 2) == m


def test_beyond_rank_10_counts_nothing():
    m = rank_metrics([False] * 10 + [True], 1)
    assert m["MRR@10"] == 0 and m["nDCG@10"] == 0


def test_several_relevant_articles():
    # relevant at ranks 2 and 4 of three relevant articles in all
    m = rank_metrics([False, True, False, True, False, False], 3)
    assert m["R@1"] == 0
    assert m["R@5"] == pytest.approx(2 / 3)  # two of min(5, 3)
    assert m["MRR@10"] == pytest.approx(1 / 2)
    ideal = _log(1) + _log(2) + _log(3)
    assert m["nDCG@10"] == pytest.approx((_log(2) + _log(4)) / ideal)
    # R@1 is capped recall: one relevant article first is all one rank can hold
    assert rank_metrics([True, False], 2)["R@1"] == 1


def test_ties_count_as_every_order_of_the_tied_articles():
    # the relevant article tied with three others for ranks 1-4
    m = rank_metrics([False, True, False, False, False], 1, [0.9, 0.9, 0.9, 0.9, 0.5])
    assert m["R@1"] == pytest.approx(1 / 4)
    assert m["R@5"] == 1
    assert m["MRR@10"] == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    assert m["nDCG@10"] == pytest.approx(sum(_log(r) for r in range(1, 5)) / 4)
    # ... which the order they came in does not change
    m2 = rank_metrics([True, False, False, False, False], 1, [0.9, 0.9, 0.9, 0.9, 0.5])
    assert m2 == pytest.approx(m)


def test_two_relevant_among_three_tied():
    # ranks 2-4 tied, two of them relevant: the first relevant is at rank 2 with p = 2/3,
    # at rank 3 with p = 1/3
    m = rank_metrics([False, True, True, False], 2, [0.8, 0.7, 0.7, 0.7])
    assert m["MRR@10"] == pytest.approx(2 / 3 * 1 / 2 + 1 / 3 * 1 / 3)
    assert m["R@1"] == 0 and m["R@5"] == 1
    ideal = _log(1) + _log(2)
    assert m["nDCG@10"] == pytest.approx(2 / 3 * (_log(2) + _log(3) + _log(4)) / ideal)


def test_a_tie_across_rank_10_counts_only_what_lies_within():
    scores = [1.0 - i / 100 for i in range(9)] + [0.5, 0.5]
    m = rank_metrics([False] * 10 + [True], 1, scores)
    assert m["MRR@10"] == pytest.approx(1 / 2 * 1 / 10)
    assert m["nDCG@10"] == pytest.approx(1 / 2 * _log(10))


def test_no_scores_means_no_ties():
    assert rank_metrics([False, True], 1)["R@1"] == 0
    assert rank_metrics([False, True], 1, [0.5, 0.5])["R@1"] == 0.5


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_relevant"):
        rank_metrics([True, True], 1)
    with pytest.raises(ValueError, match="n_relevant"):
        rank_metrics([False], 0)
    with pytest.raises(ValueError, match="one score"):
        rank_metrics([True], 1, [0.5, 0.4])


def test_answer_check_ignores_case_spacing_and_unicode_forms():
    assert contains_answer("Er traf  Lawrow in\nSotschi.", "lawrow in sotschi")
    assert contains_answer("Die Kosten: 49 Prozent", "49\u00a0Prozent")
    assert not contains_answer("Er traf Lawrow.", "Kerry")


def test_rankings_of_another_system_are_scored_alike():
    """Baselines (raw model, BM25) rank article ids; an article's later entries are dropped
    before scoring, as a search's later passages of an article are."""
    questions = [EvalQuestion("q1", ("a",)), EvalQuestion("q2", ("b", "c"))]
    rankings = [["x", "x", "a"], ["c", "y", "c", "b"]]
    summary = rank_summary(rankings, questions, rounds=10)
    assert summary.n == 2
    assert summary.metrics["MRR@10"].value == pytest.approx((1 / 2 + 1) / 2)
    assert summary.metrics["R@1"].value == pytest.approx((0 + 1) / 2)
    ndcg_b = (_log(1) + _log(3)) / (_log(1) + _log(2))
    assert summary.metrics["nDCG@10"].value == pytest.approx((_log(2) + ndcg_b) / 2)
    assert summary.metrics["answer sentence"].n == 0
    tied = rank_summary(rankings, questions, [[0.5, 0.4, 0.5], [1, 1, 1, 1]], rounds=10)
    # q1: x and a tie for first (the second x is dropped); q2: c, y, b all tie
    assert tied.metrics["R@1"].value == pytest.approx((1 / 2 + 2 / 3) / 2)
