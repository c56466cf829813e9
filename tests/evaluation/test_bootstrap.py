"""Bootstrap intervals: seeded and reproducible, around the mean, paired differences."""

from __future__ import annotations

import math

import numpy as np

from diploqa.evaluation.bootstrap import mean_interval, paired_difference


def test_interval_is_reproducible_and_holds_the_mean():
    values = np.array([1, 0, 1, 1, 0.5, 0, 1, 1, 0.25, 1] * 5)
    a, b = mean_interval(values, seed=3), mean_interval(values, seed=3)
    assert a == b
    assert a.n == 50 and a.value == values.mean()
    assert a.low < a.value < a.high
    assert mean_interval(values, seed=4) != a  # another seed, other resamples


def test_more_questions_narrow_the_interval():
    rng = np.random.default_rng(0)
    few, many = rng.random(20), rng.random(2000)
    wide, narrow = mean_interval(few), mean_interval(many)
    assert narrow.high - narrow.low < (wide.high - wide.low) / 4


def test_questions_that_do_not_count_are_left_out():
    e = mean_interval(np.array([1.0, np.nan, 0.0, np.nan]))
    assert e.n == 2 and e.value == 0.5
    empty = mean_interval(np.array([np.nan]))
    assert empty.n == 0 and math.isnan(empty.value)
    assert not empty.excludes_zero


def test_all_equal_values_give_a_point():
    e = mean_interval(np.ones(30))
    assert (e.value, e.low, e.high) == (1, 1, 1)


def test_paired_difference_sees_a_consistent_small_gain():
    rng = np.random.default_rng(1)
    base = rng.random(300)
    better = base + 0.02  # every question a little better: beyond luck, paired
    d = paired_difference(better, base)
    assert abs(d.value - 0.02) < 1e-9 and d.excludes_zero
    # two independent intervals would overlap: the pairing is what sees it
    assert mean_interval(better).low < mean_interval(base).high
    noise = paired_difference(rng.permutation(base), base)
    assert not noise.excludes_zero
