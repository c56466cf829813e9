"""Sample passages and questions shared by the keyword index's tests."""

from __future__ import annotations

import numpy as np

from diploqa.lexical import Bm25Index

PASSAGES = [
    "Kerry traf Lawrow in Sotschi am Schwarzen Meer.",
    "In München sprachen die Außenminister über eine Waffenruhe in Syrien.",
    "Tillerson kritisierte die Herrschaft der Assad-Familie.",
]


MIXED = [
    "Liveblog Ukraine\nKerry traf Lawrow in Sotschi am Schwarzen Meer.",
    "Liveblog Ukraine\nIn München sprachen die Außenminister über eine Waffenruhe.",
    "The foreign ministers met in Geneva and discussed the sanctions against Russia.",
    "Tillerson kritisierte die Herrschaft der Assad-Familie.",
]
TITLES = ["Liveblog Ukraine", "Liveblog Ukraine", "", ""]
QUESTIONS = [
    "Wen traf Kerry in Sotschi?",
    "Liveblog Ukraine Waffenruhe",
    "Where did the foreign ministers discuss sanctions?",
    "ceasefire talks in Munich",
    "xyzzy",
]


def same_scores(a: Bm25Index, b: Bm25Index, texts: list[str] = MIXED) -> None:
    """Assert that ``a`` and ``b`` rank, cover and highlight every sample question alike."""
    assert a.languages.tolist() == b.languages.tolist()
    assert (a.present, a.majority) == (b.present, b.majority)
    for question in QUESTIONS:
        x, y = a.score(question), b.score(question)
        np.testing.assert_allclose(x.scores, y.scores, rtol=1e-6)
        assert (x.coverage, x.bm25_coverage, x.by_language) == (
            y.coverage,
            y.bm25_coverage,
            y.by_language,
        )
        assert x.groups == y.groups
        np.testing.assert_array_equal(a.overlap(x.groups, texts), b.overlap(y.groups, texts))
