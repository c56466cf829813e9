"""Which articles match a question: what a timeline and the outlet counts count.

A search shows the best passages; a timeline needs every article about the question, and
cannot score the whole archive per question. So an article **matches** when one of its chunks
is among the question's ``RankingConfig.match_candidates`` best chunks (by meaning, from the
vector store, and by keywords; scored as the ranking scores them: dense similarity plus the
keyword bonus) and scores at least ``RankingConfig.match_threshold``. The filters of the
question apply as in a search. The cost is that of a wider candidate search, not of the
archive's size; where even the weakest candidate by meaning reaches the threshold, more
articles may match than were counted, and :attr:`Matches.capped` says so.

How the threshold was calibrated, and how often the highest bar falls where a subject's
articles cluster: docs/quality.md, "Timeline".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Matches:
    """The articles matching a question, best first.

    Attributes:
        articles: their ids (``Article.id``).
        scores: the best score of each (the threshold's scale, ``Hit.score``'s).
        positions: their rows in the index's :class:`~diploqa.filters.ArticleColumns`.
        capped: the weakest candidate by meaning reached the threshold, so articles beyond
            the candidates may match too: the counts are a lower bound.
    """

    articles: tuple[str, ...] = ()
    scores: tuple[float, ...] = ()
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    capped: bool = False

    def __len__(self) -> int:
        return len(self.articles)


def select_matches(best: dict[str, float], floor: float, threshold: float, positions_of) -> Matches:
    """The matches among ``best`` (article id → best candidate score) at ``threshold``.

    ``floor``: the lowest score by meaning among a full list of candidates (``-inf`` where
    every allowed chunk was a candidate); ``positions_of``: article ids → their column rows.
    """
    chosen = sorted(
        ((score, article) for article, score in best.items() if score >= threshold),
        key=lambda item: (-item[0], item[1]),
    )
    articles = tuple(article for _, article in chosen)
    return Matches(
        articles=articles,
        scores=tuple(float(score) for score, _ in chosen),
        positions=positions_of(articles),
        capped=bool(floor >= threshold),
    )
