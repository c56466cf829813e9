"""Article-level retrieval metrics of one question, and the answer-sentence check.

A ranking is a list of articles, best first, one entry per article (a search's passages mapped
to their articles, later passages of an article already dropped). Each entry is relevant or
not; a question may have several relevant articles.

* ``R@k``: the relevant articles among the first ``k``, divided by ``min(k, relevant)``
  (capped recall: 1 when the first ``k`` hold as many relevant articles as they can; with one
  relevant article, whether it is among the first ``k``).
* ``MRR@10``: 1 / the rank of the first relevant article, 0 beyond rank 10.
* ``nDCG@10``: binary gains discounted by log2(rank + 1), divided by the best possible.

Entries with equal scores are ties: their order is arbitrary, so each metric is its expected
value over every order of the tied entries (McSherry and Najork, ECIR 2008). A relevant article
tied with three others for the first place counts 1/4 towards R@1, not 1 or 0.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

#: The metrics of every question, in table order.
METRICS = ("R@1", "R@5", "MRR@10", "nDCG@10")
#: Ranks the metrics look at (a search for an evaluation asks for this many articles).
DEPTH = 10


@dataclass(frozen=True)
class _Tied:
    """Entries sharing one score: the first rank they occupy, how many, how many relevant."""

    start: int
    size: int
    relevant: int


def _groups(relevant: Sequence[bool], scores: Sequence[float] | None) -> list[_Tied]:
    groups: list[_Tied] = []
    for rank, is_relevant in enumerate(relevant, start=1):
        tied = scores is not None and groups and scores[rank - 1] == scores[rank - 2]
        if tied:
            last = groups[-1]
            groups[-1] = _Tied(last.start, last.size + 1, last.relevant + is_relevant)
        else:
            groups.append(_Tied(rank, 1, int(is_relevant)))
    return groups


def rank_metrics(
    relevant: Sequence[bool],
    n_relevant: int,
    scores: Sequence[float] | None = None,
) -> dict[str, float]:
    """:data:`METRICS` of one ranking: ``relevant[i]`` tells whether the article at rank
    ``i + 1`` is relevant, ``n_relevant`` how many relevant articles the question has (found
    or not), ``scores`` the entries' scores (equal neighbours are ties; None: no ties).

    Raises:
        ValueError: ``n_relevant`` is below 1 or below the relevant entries given, or the
            scores do not pair with the entries.
    """
    if n_relevant < max(1, sum(map(bool, relevant))):
        raise ValueError(f"n_relevant must be ≥ 1 and ≥ the relevant entries, not {n_relevant}")
    if scores is not None and len(scores) != len(relevant):
        raise ValueError("one score per ranked entry")
    groups = _groups(relevant, scores)

    def expected_within(k: int) -> float:
        """Expected relevant entries among the first ``k``."""
        total = 0.0
        for g in groups:
            inside = max(0, min(g.start + g.size - 1, k) - g.start + 1)
            total += g.relevant / g.size * inside
        return total

    dcg = sum(
        g.relevant
        / g.size
        * sum(_gain(r) for r in range(g.start, min(g.start + g.size, DEPTH + 1)))
        for g in groups
    )
    ideal = sum(_gain(r) for r in range(1, min(n_relevant, DEPTH) + 1))
    return {
        "R@1": expected_within(1),
        "R@5": expected_within(5) / min(5, n_relevant),
        "MRR@10": _reciprocal_rank(groups),
        "nDCG@10": dcg / ideal,
    }


def _gain(rank: int) -> float:
    return 1 / math.log2(rank + 1)


def _reciprocal_rank(groups: list[_Tied]) -> float:
    """Expected 1 / rank of the first relevant entry (0 beyond :data:`DEPTH`): in the first
    group holding ``r`` relevant of its ``g`` entries, the first relevant one is at offset
    ``j`` with probability C(g - 1 - j, r - 1) / C(g, r)."""
    for g in groups:
        if g.relevant:
            orders = math.comb(g.size, g.relevant)
            return sum(
                math.comb(g.size - 1 - j, g.relevant - 1) / orders / (g.start + j)
                for j in range(g.size - g.relevant + 1)
                if g.start + j <= DEPTH
            )
    return 0.0


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def contains_answer(sentence: str, answer: str) -> bool:
    """Whether ``sentence`` contains ``answer`` (case, Unicode forms and spacing aside)."""
    return _normal(answer) in _normal(sentence)
