"""The sentence of a passage that best answers a question (``Hit.highlight``).

By words: the question's words and, for an English question, their dictionary translations
(:attr:`~diploqa.lexical.LexicalScores.groups`). When the question's words are mostly absent
from the corpus and the dictionary found none of them either, the first
``RankingConfig.semantic_highlights`` passages (what a reader sees first) are also compared by
meaning, through the encoder's cheap sentence model (USE). Why this split, and how often the
answer lands in the highlighted sentence: docs/quality.md.
"""

from __future__ import annotations

import numpy as np

from .config import RankingConfig
from .encoders import Encoder
from .lexical import Bm25Index, LexicalScores
from .sentences import sentence_spans


def best_sentence(
    spans: list[tuple[int, int]],
    lexical: np.ndarray,
    semantic: np.ndarray | None,
    coverage: float,
    lexical_weight: float = RankingConfig.highlight_lexical_weight,
) -> tuple[int, int]:
    """The sentence that best answers: semantic similarity (when available) plus the
    IDF-weighted word overlap, the latter weighted by the question's word coverage as in the
    ranking (an English question's words rarely occur in German text). Ties go to the earlier
    sentence: news put the fact first."""
    top = float(lexical.max(initial=0.0))
    lexical = lexical / top if top > 0 else lexical
    scores = lexical if semantic is None else semantic + lexical_weight * coverage * lexical
    return spans[int(np.argmax(scores))]


def compares_by_meaning(question: LexicalScores, ranking: RankingConfig) -> bool:
    """Whether :func:`highlights` compares sentences to this question by meaning (it then
    needs the question's partner-model vector): where most of its words are not in the archive
    as they are, also where the dictionary found some of them (an English question over German
    articles), whose translations alone pick the answer less often (docs/quality.md)."""
    return (
        ranking.semantic_highlights > 0
        and question.coverage < ranking.semantic_highlight_max_coverage
    )


def highlights(
    passages: list[str],
    question: LexicalScores,
    raw: np.ndarray,
    keywords: Bm25Index,
    encoder: Encoder,
    ranking: RankingConfig,
) -> list[tuple[int, int]]:
    """The best sentence of each passage, as ``(start, end)`` offsets into it."""
    spans = [sentence_spans(p) for p in passages]
    sentences = [[p[a:b] for a, b in sp] for p, sp in zip(passages, spans, strict=True)]
    semantic: list[np.ndarray | None] = [None] * len(passages)
    if compares_by_meaning(question, ranking):
        chosen = [i for i in range(min(len(passages), ranking.semantic_highlights))
                  if len(sentences[i]) > 1]  # fmt: skip
        flat = [s for i in chosen for s in sentences[i]]
        similarity = encoder.sentence_similarity(raw, flat) if flat else None
        if similarity is not None:
            for i in chosen:
                n = len(sentences[i])
                semantic[i], similarity = similarity[:n], similarity[n:]
    # every sentence in one call: the question words' weights are looked up once
    overlap = keywords.overlap(question.groups, [s for group in sentences for s in group])
    ends = np.cumsum([len(group) for group in sentences])
    return [
        best_sentence(sp, by_words, sem, question.coverage, ranking.highlight_lexical_weight)
        for sp, by_words, sem in zip(spans, np.split(overlap, ends[:-1]), semantic, strict=True)
    ]
