"""Which articles match a question: what a timeline and the outlet counts count.

A search shows the best passages; a timeline needs every article about the question, and
cannot score the whole archive per question. So an article **matches** when one of its chunks
is among the question's ``RankingConfig.match_candidates`` best chunks (by meaning, from the
vector store, and by keywords; scored as the ranking scores them: dense similarity plus the
keyword bonus) and scores at least ``RankingConfig.match_margin`` above the question's
background. The background is what an article about something else scores, and it differs
by question: an English question scores German articles markedly lower than the same
question in German does, and no single threshold on the raw score serves both. It is the
question's score against the mean vector of short passages on everyday subjects
(``data/background.de.txt``, embedded once per process), not against the archive's own mean:
in an archive about one subject, a question about that subject is about every article, and
the archive's mean would hide them all. The filters of the question apply as in a search.
The cost is that of a wider candidate search plus one dot product, not of the archive's size;
where even the weakest candidate by meaning reaches the threshold, more articles may match
than were counted, and :attr:`Matches.capped` says so.

How the threshold was calibrated, and how often the highest bar falls where a subject's
articles cluster: docs/quality.md, "Timeline".
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .encoders import Encoder
from .ranking import ArticleScores

#: Unrelated text: the background a question's scores are measured from.
BACKGROUND_FILE = Path(__file__).parent / "data" / "background.de.txt"
#: Encoder → the mean vector of the background passages (embedded once per encoder).
_references: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def background_passages() -> list[str]:
    """The passages of :data:`BACKGROUND_FILE` (comment lines left out)."""
    lines = BACKGROUND_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def reference_vector(encoder: Encoder) -> np.ndarray:
    """The mean of ``encoder``'s passage vectors of :func:`background_passages`: a question's
    score against it is its background."""
    found = _references.get(encoder)
    if found is None:
        found = encoder.encode_passages(background_passages()).mean(axis=0)
        _references[encoder] = found
    return found


@dataclass(frozen=True)
class Matches:
    """The articles matching a question, best first.

    Attributes:
        articles: their ids (``Article.id``).
        scores: the best score of each (``Hit.score``'s scale).
        positions: their rows in the index's :class:`~diploqa.filters.ArticleColumns`.
        threshold: the score an article needed: the question's background plus
            ``RankingConfig.match_margin``.
        capped: the weakest candidate by meaning reached the threshold, so articles beyond
            the candidates may match too: the counts are a lower bound.
    """

    articles: tuple[str, ...] = ()
    scores: tuple[float, ...] = ()
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    threshold: float = np.inf
    capped: bool = False

    def __len__(self) -> int:
        return len(self.articles)


def select_matches(found: ArticleScores, margin: float, ids: Sequence[str]) -> Matches:
    """The matches among a question's candidate articles: those scoring at least ``margin``
    above its background. ``ids``: the article id at each position."""
    threshold = found.background + margin
    chosen = found.scores >= threshold  # the scores are in descending order
    positions = found.positions[chosen]
    return Matches(
        articles=tuple(ids[p] for p in positions.tolist()),
        scores=tuple(found.scores[chosen].tolist()),
        positions=positions,
        threshold=threshold,
        capped=bool(found.floor >= threshold),
    )
