"""Questions made from the archive itself, for an archive nobody has written questions for.

Each sampled article gives two *proxy* questions with the article as the answer: its headline,
and one sentence from its body. A sentence copied from a passage would find that passage
trivially, so every passage holding the sentence (the article's own, its section, another
outlet's copy) is left out of the search: the article must be found by what the rest of it
says. The headline is different: it is embedded with every passage of its article (so a
passage in the middle knows its topic), so the passages that contain it are left out but the
question still meets the title everywhere; headline proxies measure whether the archive's
headlines can be told apart, and come out higher than real questions would.

They are proxies: statements copied from articles, not questions people ask, and in the
archive's language only. They compare settings on one archive; they are not a measure of how
well real questions are answered.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from ..chunking import PASSAGE
from ..index import Index
from ..lexical import language_of
from ..sentences import sentence_spans
from .questions import UNKNOWN_LANGUAGE, EvalQuestion

#: Articles sampled when no number is given.
SAMPLE = 100
#: A body sentence between these many words makes a question (shorter ones say too little,
#: longer ones are paragraphs).
SENTENCE_WORDS = (8, 40)


def _rows_by_article(index: Index) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(index.stored.chunks):
        rows.setdefault(chunk.article_id, []).append(row)
    return rows


def _holding(index: Index, rows: Iterable[int], text: str) -> frozenset[int]:
    return frozenset(r for r in rows if text in index.stored.chunks[r].text)


def _body_sentences(index: Index, rows: list[int], title: str) -> list[str]:
    """Sentences of the article's passages after its first, of a fitting length, as they
    stand in the text."""
    chunks = index.stored.chunks
    passages = [r for r in rows if chunks[r].kind == PASSAGE]
    found: dict[str, None] = {}
    low, high = SENTENCE_WORDS
    for row in passages[1:]:
        text = chunks[row].text
        for start, end in sentence_spans(text):
            sentence = text[start:end].strip()
            if low <= len(sentence.split()) <= high and title not in sentence:
                found[sentence] = None
    return list(found)


def proxy_questions(index: Index, sample: int = SAMPLE, seed: int = 0) -> list[EvalQuestion]:
    """Headline and body-sentence questions of up to ``sample`` articles of ``index``, drawn
    at random (seeded: the same archive and seed give the same questions) among the articles
    of at least two passages. Each question's ``lang`` is its language and kind, e.g.
    ``de headline``, ``de sentence``; ``left_out`` the rows that hold it."""
    chunks, by_article = index.stored.chunks, _rows_by_article(index)
    eligible = sorted(
        aid
        for aid, rows in by_article.items()
        if sum(chunks[r].kind == PASSAGE for r in rows) >= 2 and index.article(aid).title.strip()
    )
    rng = random.Random(seed)
    chosen = rng.sample(eligible, min(sample, len(eligible)))
    questions: list[EvalQuestion] = []
    for aid in chosen:
        article = index.article(aid)
        story = index.ranker.story_of.get(aid, (aid,))
        rows = [r for other in story for r in by_article.get(other, ())]
        title = article.title.strip()
        lang = language_of(article.text) or UNKNOWN_LANGUAGE
        questions.append(_proxy(title, aid, f"{lang} headline", _holding(index, rows, title)))
        sentences = _body_sentences(index, by_article[aid], title)
        rng.shuffle(sentences)
        for sentence in sentences:
            left_out = _holding(index, rows, sentence) | _sections(index, by_article[aid])
            if any(chunks[r].kind == PASSAGE for r in set(by_article[aid]) - left_out):
                questions.append(_proxy(sentence, aid, f"{lang} sentence", left_out))
                break
    return questions


def _sections(index: Index, rows: list[int]) -> frozenset[int]:
    """The article's sections: each holds the whole article, the sentence too."""
    return frozenset(r for r in rows if index.stored.chunks[r].kind != PASSAGE)


def _proxy(text: str, article: str, lang: str, left_out: frozenset[int]) -> EvalQuestion:
    return EvalQuestion(" ".join(text.split()), (article,), None, lang, 0, left_out, proxy=True)
