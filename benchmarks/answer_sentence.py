"""How far the highlighted sentence can go with the signals diploqa has (issue #27's target:
the answer in the highlighted sentence for ≥ 0.80 of XQuAD questions).

Each XQuAD question is asked through the real search (``diploqa eval``'s way: ten articles, one
passage each); the passage of the first hit from the right paragraph is what its check reads.
For that passage the script scores every sentence by

* words: the IDF-weighted overlap that highlighting uses (with dictionary translations);
* USE: the partner model's cosine to the question (what highlighting uses by meaning);
* e5: the main model's cosine of the question ("query: …") and the sentence ("passage: …");

and reports, per question language: the ceiling (some sentence of the passage holds the
answer), the default highlight, each signal alone, and the best linear combination of them and
of cheap cues (position, length, a year in the sentence for a "when" question, a digit for a
"how many" one), learned by a listwise logistic fit and scored by two-fold cross-validation over
the paragraphs (odd against even), so that no question scores a model fitted on itself.

Usage::

    python benchmarks/answer_sentence.py --xquad ../shared/data/xquad [--index DIR]

(about five minutes on 2 cores; ``--index`` reuses an XQuAD index that
``benchmarks/quality.py`` or this script built, else one is built in a temporary folder).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import quality  # benchmarks/quality.py: the XQuAD loader
import report as bench_report  # benchmarks/report.py: the machine line of every report

import diploqa
from diploqa.evaluation import contains_answer, evaluate
from diploqa.sentences import sentence_spans

YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")
DIGIT = re.compile(r"\d")
WHEN = re.compile(
    r"\b(wann|when|what year|which year|welchem jahr|welches jahr|jahrhundert|century)\b", re.I
)
HOW_MANY = re.compile(
    r"\b(wie viele|wie viel|wieviel|how many|how much|how long|wie lange|wie hoch|wie alt|"
    r"how old|prozent|percent)\b",
    re.I,
)
FEATURES = ("words", "USE", "USE gap", "e5 gap", "first", "position", "length",
            "year for when", "digit for how many", "new words")  # fmt: skip
#: Column sets of FEATURES whose cross-validated combination is reported.
COMBINATIONS = {
    "words + cheap cues": [0, 4, 5, 6, 7, 8, 9],
    "words + cues + USE": [0, 1, 2, 4, 5, 6, 7, 8, 9],
    "words + cues + e5": [0, 3, 4, 5, 6, 7, 8, 9],
    "all of them": list(range(len(FEATURES))),
}


@dataclass
class Case:
    """One question's first right passage, scored sentence by sentence."""

    lang: str
    paragraph: int
    holds: np.ndarray  # per sentence: holds the answer
    shown: int  # the sentence the search highlighted
    features: np.ndarray  # sentences × FEATURES


def cases(index: diploqa.Index, dataset: quality.Dataset) -> list[Case]:
    encoder, keywords = index.encoder, index.lexical
    out = []
    for lang, questions in dataset.questions.items():
        report = evaluate(index, quality.grouped(questions, lang))
        for result in report.results:
            question = result.question
            hit = next((h for h, r in zip(result.hits, result.relevant, strict=True) if r), None)
            if hit is None:
                continue
            spans = sentence_spans(hit.text)
            sentences = [hit.text[a:b] for a, b in spans]
            lexical = keywords.score(question.question)
            words = keywords.overlap(lexical.groups, sentences)
            words = words / words.max() if words.max() > 0 else words  # as best_sentence does
            raw = encoder.encode_queries([question.question], partner=True)[0]
            use = encoder.sentence_similarity(raw, sentences)
            e5 = (
                encoder.primary.encode_passages(sentences)
                @ encoder.primary.encode_queries([question.question])[0]
            )
            asked = {t for g in lexical.groups for t in g}
            rows = []
            for i, sentence in enumerate(sentences):
                tokens = set(keywords.tokenize(sentence))
                rows.append([
                    words[i],
                    3 * use[i], 5 * (use[i] - use.max()), 20 * (e5[i] - e5.max()),
                    float(i == 0), i / len(sentences), min(len(tokens), 60) / 60,
                    float(bool(YEAR.search(sentence) and WHEN.search(question.question))),
                    float(bool(DIGIT.search(sentence) and HOW_MANY.search(question.question))),
                    min(len(tokens - asked), 30) / 30,
                ])  # fmt: skip
            out.append(Case(
                lang, int(question.relevant[0][1:4]),
                np.array([contains_answer(s, question.answer) for s in sentences]),
                spans.index(hit.highlight) if hit.highlight in spans else -1,
                np.array(rows, dtype=np.float64),
            ))  # fmt: skip
    return out


def fit(train: list[Case], columns: list[int], epochs: int = 300, rate: float = 0.5) -> np.ndarray:
    """Weights of a listwise logistic model: softmax over a passage's sentences, the answer's
    sentences as the target."""
    w = np.zeros(len(columns))
    for _ in range(epochs):
        grad = np.zeros_like(w)
        for case in train:
            if not case.holds.any():
                continue
            x = case.features[:, columns]
            p = np.exp(x @ w - (x @ w).max())
            grad += x.T @ (p / p.sum() - case.holds / case.holds.sum())
        w -= rate * (grad / len(train) + 1e-3 * w)
    return w


def cross_validated(all_cases: list[Case], lang: str, columns: list[int]) -> int:
    """How many of ``lang``'s questions the combination's pick answers, each fold scored by
    weights fitted on the other fold's paragraphs (both languages)."""
    held = 0
    for fold in (0, 1):
        w = fit([c for c in all_cases if c.paragraph % 2 != fold], columns)
        test = [c for c in all_cases if c.paragraph % 2 == fold and c.lang == lang]
        held += sum(bool(c.holds[int(np.argmax(c.features[:, columns] @ w))]) for c in test)
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", type=Path, required=True)
    parser.add_argument("--index", type=Path, help="an XQuAD index built earlier")
    args = parser.parse_args()
    dataset = quality.load_xquad(args.xquad)
    print(f"# Answer sentence on XQuAD, diploqa {bench_report.commit()}, {bench_report.cpu()}")
    with tempfile.TemporaryDirectory() as work:
        if args.index:
            index = diploqa.load_index(args.index)
        else:
            quality.write_articles(dataset, Path(work) / "articles")
            index = diploqa.build_index(Path(work) / "articles", Path(work) / "index")
        found = cases(index, dataset)
    print("\nShare of all questions (the first right hit's passage; 1,190 per language):\n")
    print("| | en | de |\n|---|---|---|")
    rows = {
        "ceiling: a sentence of the passage holds the answer": lambda c: int(c.holds.any()),
        "the default highlight (the search's own)": lambda c: int(c.holds[c.shown])
        if c.shown >= 0 else 0,
        "words alone": lambda c: int(c.holds[int(np.argmax(c.features[:, 0]))]),
        "USE alone": lambda c: int(c.holds[int(np.argmax(c.features[:, 1]))]),
        "e5 alone": lambda c: int(c.holds[int(np.argmax(c.features[:, 3]))]),
    }  # fmt: skip
    totals = {lang: len(dataset.questions[lang]) for lang in ("en", "de")}
    for name, held in rows.items():
        cells = [sum(held(c) for c in found if c.lang == lang) / totals[lang] for lang in totals]
        print(f"| {name} | {cells[0]:.3f} | {cells[1]:.3f} |")
    for name, columns in COMBINATIONS.items():
        cells = [cross_validated(found, lang, columns) / totals[lang] for lang in totals]
        print(f"| learned: {name} (2-fold CV) | {cells[0]:.3f} | {cells[1]:.3f} |")


if __name__ == "__main__":
    main()
