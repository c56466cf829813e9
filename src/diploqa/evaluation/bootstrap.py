"""95 % bootstrap intervals of a mean over questions, and of the difference of two settings.

A few hundred questions leave a mean uncertain by a few hundredths; an interval says whether a
difference between two settings is more than the luck of which questions were asked. Questions
are resampled with replacement (percentile bootstrap); a difference resamples the same
questions for both settings (paired), which is far narrower than two separate intervals. The
generator is seeded, so a report is the same every time it is made from the same results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Resamples per interval.
ROUNDS = 1000
#: The seed every interval's resampling starts from (same results, same intervals).
SEED = 0
#: Share of the resampled means outside the interval.
ALPHA = 0.05


@dataclass(frozen=True)
class Estimate:
    """A mean over questions with its 95 % interval.

    Attributes:
        value: the mean (NaN where no question counts, e.g. no answer texts were given).
        low, high: the interval's ends.
        n: the questions it is the mean of.
    """

    value: float
    low: float
    high: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        """For a difference: whether the whole interval lies on one side of zero, i.e. the
        difference is more than the questions' luck."""
        return self.n > 0 and (self.low > 0 or self.high < 0)

    def as_dict(self) -> dict[str, float | int | None]:
        def number(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 6)

        return {
            "value": number(self.value),
            "low": number(self.low),
            "high": number(self.high),
            "n": self.n,
        }


def _resampled_means(values: np.ndarray, rounds: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(rounds, len(values)))
    return values[picks].mean(axis=1)


def _estimate(values: np.ndarray, rounds: int, seed: int) -> Estimate:
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    means = _resampled_means(values, rounds, seed)
    low, high = np.quantile(means, [ALPHA / 2, 1 - ALPHA / 2])
    return Estimate(float(values.mean()), float(low), float(high), len(values))


def mean_interval(values: np.ndarray, rounds: int = ROUNDS, seed: int = SEED) -> Estimate:
    """The mean of ``values`` (one per question; NaN: the question does not count) and its
    95 % percentile-bootstrap interval."""
    return _estimate(np.asarray(values, dtype=np.float64), rounds, seed)


def paired_difference(
    values: np.ndarray, baseline: np.ndarray, rounds: int = ROUNDS, seed: int = SEED
) -> Estimate:
    """The mean of ``values - baseline`` over the same questions, and its interval (pairs
    where either is NaN do not count)."""
    values = np.asarray(values, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if values.shape != baseline.shape:
        raise ValueError("a paired difference needs one value of each per question")
    return _estimate(values - baseline, rounds, seed)
