"""Retrieval quality of diploqa against the raw model and BM25, in one run.

Data (read by path, never copied into the repository):

* XQuAD (``--xquad DIR``): 240 German Wikipedia paragraphs, 1,190 questions in German and the
  same questions in English. Each paragraph is written as one article.
* NTREX-128 (``--ntrex DIR``, optional): 123 long German news articles; the questions are the
  English headline and one English body sentence of each article.
* The seed questions (``examples/seed-questions.jsonl``, those of ``tests/test_search.py``)
  over ``seeds/``.

Metrics are those of ``diploqa eval`` (:mod:`diploqa.evaluation`, one implementation for the
docs and for users): article-level R@1, R@5, MRR@10 and nDCG@10, each search asked for one
passage per article; the raw model's and BM25's rankings are scored by the same functions. The
answer-sentence rate is how often the highlighted sentence contains the gold answer text
(XQuAD): of the top hit, and of the first hit from the right paragraph (``diploqa eval``'s
check).

Usage::

    python benchmarks/quality.py --xquad ../shared/data/xquad --ntrex ../shared/data/ntrex \
        --out docs/quality.md

With ``--store milvus-lite:PATH`` (or ``milvus://HOST:PORT/NAME``) it instead builds each data
set in the FAISS store and in that store and compares the default ranking on both (MRR@10,
Recall@1/5, and how many questions' top-10 article lists are identical)::

    python benchmarks/quality.py --xquad ../shared/data/xquad --ntrex ../shared/data/ntrex \
        --store milvus-lite:/tmp/quality.db
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import faiss
import numpy as np
import report as bench_report  # benchmarks/report.py: the machine line of every report

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import diploqa  # noqa: E402
from diploqa import config  # noqa: E402
from diploqa.evaluation import (  # noqa: E402
    METRICS,
    EvalQuestion,
    EvalReport,
    Summary,
    contains_answer,
    evaluate,
    rank_summary,
    read_questions,
)
from diploqa.evaluation.results import SENTENCE  # noqa: E402
from diploqa.lexical import Bm25Index  # noqa: E402


def question_of(text: str, gold: str, answer: str | None = None) -> EvalQuestion:
    """A question of a set, answered by the article ``gold`` (its group is the key of
    ``Dataset.questions`` it is filed under)."""
    return EvalQuestion(text, (gold,), answer)


@dataclass
class Dataset:
    name: str
    articles: dict[str, str]  # id -> text
    questions: dict[str, list[EvalQuestion]]  # language -> questions


def load_xquad(folder: Path, titles: bool = False) -> Dataset:
    """XQuAD; with ``titles`` each paragraph starts with its article's title line (English
    Wikipedia titles such as "Super Bowl 50", shared by the five paragraphs of an article)."""
    de = json.loads((folder / "xquad.de.json").read_text(encoding="utf-8"))
    en = json.loads((folder / "xquad.en.json").read_text(encoding="utf-8"))
    english = {
        q["id"]: q["question"] for a in en["data"] for p in a["paragraphs"] for q in p["qas"]
    }
    articles: dict[str, str] = {}
    questions: dict[str, list[EvalQuestion]] = {"en": [], "de": []}
    for article in de["data"]:
        for paragraph in article["paragraphs"]:
            pid = f"p{len(articles):03d}.txt"
            title = article["title"].replace("_", " ")
            articles[pid] = f"{title}\n\n{paragraph['context']}" if titles else paragraph["context"]
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]["text"]
                questions["de"].append(question_of(qa["question"], pid, answer))
                questions["en"].append(question_of(english[qa["id"]], pid, answer))
    name = "XQuAD with title lines" if titles else "XQuAD (240 German paragraphs)"
    return Dataset(name, articles, questions)


def load_ntrex(folder: Path) -> Dataset:
    articles, questions = {}, {"en-headline": [], "en-sentence": []}
    for n, (de, en) in enumerate(ntrex_documents(folder)):
        aid = f"n{n:03d}.txt"
        articles[aid] = "\n\n".join(de)
        questions["en-headline"].append(question_of(en[0], aid))
        middle = en[len(en) // 2] if len(en) > 2 else en[-1]
        questions["en-sentence"].append(question_of(middle, aid))
    return Dataset("NTREX (123 long German news articles)", articles, questions)


def ntrex_documents(folder: Path) -> list[tuple[list[str], list[str]]]:
    """NTREX's documents as (German lines, English lines), headline first; the two sides are
    line-aligned translations of each other."""
    lines = (folder / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    ids = [line.split("\t")[-1].strip() for line in lines]
    de = (folder / "newstest2019-ref.deu.txt").read_text(encoding="utf-8").split("\n")
    en = (folder / "newstest2019-src.eng.txt").read_text(encoding="utf-8").split("\n")
    docs: dict[str, list[int]] = {}
    for i, doc in enumerate(ids):
        docs.setdefault(doc, []).append(i)
    return [([de[i] for i in rows], [en[i] for i in rows]) for rows in docs.values()]


def _middle(lines: list[str]) -> str:
    return lines[len(lines) // 2] if len(lines) > 2 else lines[-1]


#: In the mixed-language NTREX sets, every third article (n % 3 == 2) is kept in English.
MIXED_EVERY = 3


def load_ntrex_mixed(folder: Path, archive: str = "mixed") -> Dataset:
    """NTREX with a share of the articles left in English (agency copy beside German copy).

    ``archive``: ``"mixed"`` (every third article in English, the rest German), or the
    references ``"german"`` / ``"english"`` (every article in that language). Questions: the
    headline and the middle sentence of each article in English and in German, split by the
    group the article belongs to (the German two thirds, "A", and the third that is English
    in the mixed archive, "B"); the same questions and groups in all three archives, so each
    cell compares with the same questions over a single-language archive.
    """
    articles: dict[str, str] = {}
    questions: dict[str, list[EvalQuestion]] = {}
    for n, (de, en) in enumerate(ntrex_documents(folder)):
        aid = f"n{n:03d}.txt"
        group = "B" if n % MIXED_EVERY == MIXED_EVERY - 1 else "A"
        english = archive == "english" or (archive == "mixed" and group == "B")
        articles[aid] = "\n\n".join(en if english else de)
        for lang, lines in (("en", en), ("de", de)):
            for kind, text in (("headline", lines[0]), ("sentence", _middle(lines))):
                key = f"{lang}-{kind} → {group}"
                questions.setdefault(key, []).append(question_of(text, aid))
    names = {
        "mixed": "NTREX mixed (A German, B = every third article English)",
        "german": "NTREX all German (reference for A and B)",
        "english": "NTREX all English (reference for B)",
    }
    return Dataset(names[archive], articles, dict(sorted(questions.items())))


#: Live-blog style series: groups of this many consecutive NTREX articles share one headline.
SERIES_SIZE = 5


def load_ntrex_series(folder: Path, shared: bool = True) -> Dataset:
    """NTREX German articles in series that share one headline (live blogs, series).

    Each article's own headline is removed; with ``shared`` every article of a group of
    :data:`SERIES_SIZE` gets the headline line "Liveblog: <German headline of the group's
    first article>", so the questions of that first article match five articles' headlines
    and the other four articles carry a headline that is not theirs. Without ``shared``
    (the reference) the articles have no headline line at all. Questions: each article's
    original headline in English and German (no longer in any text) and its middle English
    sentence.
    """
    docs = ntrex_documents(folder)
    articles: dict[str, str] = {}
    questions: dict[str, list[EvalQuestion]] = {
        "en-headline": [],
        "de-headline": [],
        "en-sentence": [],
    }
    for n, (de, en) in enumerate(docs):
        aid = f"n{n:03d}.txt"
        body = "\n\n".join(de[1:])
        headline = "Liveblog: " + docs[n - n % SERIES_SIZE][0][0]
        articles[aid] = f"{headline}\n\n{body}" if shared else body
        questions["en-headline"].append(question_of(en[0], aid))
        questions["de-headline"].append(question_of(de[0], aid))
        questions["en-sentence"].append(question_of(_middle(en), aid))
    name = "NTREX series sharing a headline" if shared else "NTREX without headlines (reference)"
    return Dataset(name, articles, questions)


def load_seeds() -> Dataset:
    """The seeds and the questions of ``examples/seed-questions.jsonl`` (those of
    ``tests/test_search.py``, with answers)."""
    articles = {p.name: "" for p in (REPO / "seeds").glob("*.txt")}
    questions: dict[str, list[EvalQuestion]] = {}
    for q in read_questions(REPO / "examples" / "seed-questions.jsonl", articles):
        questions.setdefault(q.lang, []).append(q)
    return Dataset("Seeds (5 articles, examples/seed-questions.jsonl)", articles, questions)


def grouped(questions: list[EvalQuestion], lang: str) -> list[EvalQuestion]:
    """``questions`` counted in the group ``lang``."""
    return [replace(q, lang=lang) for q in questions]


def diploqa_metrics(index: diploqa.Index, questions: list[EvalQuestion]) -> dict[str, float]:
    """R@1, R@5, MRR@10, nDCG@10 of ``index``'s search (``diploqa.evaluation.evaluate``)."""
    overall = evaluate(index, questions).overall
    return {m: overall.metrics[m].value for m in METRICS}


def raw_model_summary(encoder, articles: dict[str, str], questions: list[EvalQuestion]) -> Summary:
    """The raw model: whole articles (truncated at 512 tokens), exact cosine, no tricks."""
    ids = list(articles)
    flat = faiss.IndexFlatIP(encoder.dim)
    flat.add(encoder.encode_passages([articles[i] for i in ids]))
    scores, rows = flat.search(encoder.encode_queries([q.question for q in questions]), 10)
    rankings = [[ids[r] for r in row if r >= 0] for row in rows]
    tied = [
        [float(x) for x, r in zip(s, row, strict=True) if r >= 0]
        for s, row in zip(scores, rows, strict=True)
    ]
    return rank_summary(rankings, questions, tied)


def bm25_summary(articles: dict[str, str], questions: list[EvalQuestion]) -> Summary:
    ids = list(articles)
    bm25 = Bm25Index.build([articles[i] for i in ids], dictionary=None)  # plain: no translation
    rankings, tied = [], []
    for q in questions:
        scores = bm25.score(q.question).scores
        top = [r for r in np.argsort(-scores, kind="stable")[:10] if scores[r] > 0]
        rankings.append([ids[r] for r in top])
        tied.append([float(scores[r]) for r in top])
    return rank_summary(rankings, questions, tied)


def top_hit_answered(report: EvalReport) -> float:
    """Share of the questions with an answer whose top hit's highlighted sentence holds it
    (whichever article the top hit is; ``evaluate`` checks the first relevant hit)."""
    checked = [r for r in report.results if r.question.answer is not None]
    held = sum(
        bool(r.hits) and contains_answer(r.hits[0].highlighted_sentence, r.question.answer)
        for r in checked
    )
    return held / max(len(checked), 1)


#: Highlighting variants measured on XQuAD (ranking fields over the default).
HIGHLIGHT_VARIANTS: dict[str, dict[str, float | bool]] = {
    "words only": {"semantic_highlights": 0},
    "**meaning + words (default)**": {},
}


def highlight_rates(measured: Run, dataset: Dataset) -> dict[tuple[str, str], tuple[float, float]]:
    """(highlighting, language) → (top hit's sentence holds the answer, first relevant hit's
    sentence holds it), the default's from the run's own reports."""
    rates = {}
    index = measured.index
    for mode, values in HIGHLIGHT_VARIANTS.items():
        for lang, questions in dataset.questions.items():
            report = measured.reports.get((lang, DEFAULT)) if not values else None
            if report is None:
                ranking = replace(index.ranking, **values)
                report = evaluate(index, grouped(questions, lang), ranking=ranking)
            rates[mode, lang] = (top_hit_answered(report), report.overall.metrics[SENTENCE].value)
    return rates


def write_articles(dataset: Dataset, folder: Path) -> None:
    folder.mkdir(parents=True)
    for aid, text in dataset.articles.items():
        (folder / aid).write_text(text, encoding="utf-8")


#: Ranking variants measured on the same loaded index, in one run (``Index.with_ranking``).
VARIANTS: dict[str, dict[str, float | bool]] = {
    "diploqa, dense e5 only, passages only": {
        "use_weight": 0.0,
        "hybrid_weight": 0.0,
        "sections": False,
    },
    "diploqa, e5 + BM25": {"use_weight": 0.0},
    "diploqa, e5 + USE": {"hybrid_weight": 0.0},
    "diploqa, e5 + USE + BM25, passages only": {"sections": False},
    "diploqa without the dictionary (no trans-de-en installed)": {"dictionary": False},
    "**diploqa (default: e5 + USE + BM25, passages + sections)**": {},
}
#: The default's name among :data:`VARIANTS`.
DEFAULT = "**diploqa (default: e5 + USE + BM25, passages + sections)**"


#: The robustness sets (issue #12: shared headlines, English beside German) measure fewer
#: variants: the default, without the dictionary, and the ranking before #12's settings.
BEFORE_12 = {"skip_title_passages": False, "shared_titles": False, "language_groups": False}
#: Issue #27's ranking changes off: no German→English lookup, every group's BM25 on its own scale.
BEFORE_27 = "diploqa before #27 (no German→English lookup, BM25 per group)"
ROBUSTNESS_VARIANTS: dict[str, dict[str, float | bool]] = {
    "diploqa before #12 (title passages, one language group)": BEFORE_12,
    "diploqa before #12, without the dictionary": {**BEFORE_12, "dictionary": False},
    "diploqa without the dictionary (no trans-de-en installed)": {"dictionary": False},
    BEFORE_27: {"german_to_english": False, "minority_bm25_scale": False},
    "**diploqa (default)**": {},
}
ROBUST_DEFAULT = "**diploqa (default)**"
NO_DICTIONARY = "diploqa without the dictionary (no trans-de-en installed)"
RAW, BM25 = "raw model, whole articles", "BM25 (German stemming), whole articles"
XQUAD, XQUAD_TITLES = "XQuAD (240 German paragraphs)", "XQuAD with title lines"
MIXED = "NTREX mixed (A German, B = every third article English)"
ENGLISH = "NTREX all English (reference for B)"


def _mrr(rows: list[tuple], data: str, lang: str, system: str) -> float | None:
    for d, lg, sy, summary in rows:
        if (d, lg, sy) == (data, lang, system):
            return summary.metrics["MRR@10"].value
    return None


def gaps_table(rows: list[tuple], robust: list[tuple], rates: dict) -> str:
    """Issue #27's gaps: each with its target, the raw model and BM25 beside it, before and
    after (MRR@10; the answer sentence as the share of questions)."""
    every = rows + robust

    def cell(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"

    lines = [
        "| gap | data, questions | target | raw model | BM25 | before | after |",
        "|---|---|---|---|---|---|---|",
    ]
    for lang in ("en", "de"):
        first = rates.get(("**meaning + words (default)**", lang), (None, None))
        lines.append(
            f"| answer sentence (first right hit, `diploqa eval`) | XQuAD, {lang} | ≥ 0.80 | – | – "
            f"| {cell(first[1])} | {cell(first[1])} |"
        )
        lines.append(
            f"| answer sentence (top hit) | XQuAD, {lang} | ≥ 0.80 | – | – "
            f"| {cell(first[0])} | {cell(first[0])} |"
        )
    for data, lang in ((XQUAD, "en"), (XQUAD_TITLES, "en")):
        system = NO_DICTIONARY
        target = _mrr(every, data, lang, DEFAULT if data == XQUAD else ROBUST_DEFAULT)
        target_text = "–" if target is None else f"≥ {target - 0.01:.3f} (dictionary − 0.01)"
        value = _mrr(every, data, lang, system)
        lines.append(
            f"| no dictionary, MRR@10 | {data}, {lang} | {target_text} "
            f"| {cell(_mrr(every, data, lang, RAW))} | {cell(_mrr(every, data, lang, BM25))} "
            f"| {cell(value)} | {cell(value)} |"
        )
    for lang in ("de-sentence → B", "de-headline → B"):
        reference = _mrr(every, ENGLISH, lang, ROBUST_DEFAULT)
        target_text = "–" if reference is None else f"≥ {reference - 0.03:.3f} (all English − 0.03)"
        before = _mrr(every, MIXED, lang, BEFORE_27)
        lines.append(
            f"| German questions, English articles, MRR@10 | {MIXED}, {lang} | {target_text} "
            f"| {cell(_mrr(every, MIXED, lang, RAW))} | {cell(_mrr(every, MIXED, lang, BM25))} "
            f"| {cell(before)} | {cell(_mrr(every, MIXED, lang, ROBUST_DEFAULT))} |"
        )
    for lang, target in (("en", 0.965), ("de", 0.98)):
        value = _mrr(every, XQUAD, lang, DEFAULT)
        lines.append(
            f"| XQuAD, MRR@10 | {XQUAD}, {lang} | ≥ {target} "
            f"| {cell(_mrr(every, XQUAD, lang, RAW))} | {cell(_mrr(every, XQUAD, lang, BM25))} "
            f"| {cell(value)} | {cell(value)} |"
        )
    return "\n".join(lines)


@dataclass
class Run:
    """What :func:`run` measured on one data set."""

    rows: list[tuple[str, str, str, Summary]]  # (data set, questions, system, summary)
    index: diploqa.Index
    reports: dict[tuple[str, str], EvalReport]  # (questions, variant) → diploqa's report


def run(
    dataset: Dataset,
    work: Path,
    articles_dir: Path | None = None,
    variants: dict[str, dict[str, float | bool]] | None = None,
) -> Run:
    """The raw model, BM25 and each variant of diploqa on every question group."""
    out = Run([], None, {})  # type: ignore[arg-type]
    if articles_dir is None:
        articles_dir = work / "articles"
        write_articles(dataset, articles_dir)
    started = time.perf_counter()
    index = out.index = diploqa.build_index(articles_dir, work / "index")
    logging.info(
        "%s: %d passages indexed in %.0f s", dataset.name, len(index), time.perf_counter() - started
    )
    texts = {a.id: a.text for a in index.articles}
    for lang, questions in dataset.questions.items():
        questions = grouped(questions, lang)
        systems: dict[str, Callable[[], Summary]] = {
            "raw model, whole articles": lambda q=questions: raw_model_summary(
                index.encoder.primary, texts, q
            ),
            "BM25 (German stemming), whole articles": lambda q=questions: bm25_summary(texts, q),
        }
        for name, values in (VARIANTS if variants is None else variants).items():
            systems[name] = lambda q=questions, v=values, n=name, lg=lang: _with(
                v, index, q, out, (lg, n)
            )
        for name, fn in systems.items():
            started = time.perf_counter()
            result = fn()
            logging.info(
                "%s %s %s %s (%.0f s)",
                dataset.name,
                lang,
                name,
                {m: round(result.metrics[m].value, 3) for m in METRICS},
                time.perf_counter() - started,
            )
            out.rows.append((dataset.name, lang, name, result))
    return out


def _with(
    values: dict[str, float | bool],
    index: diploqa.Index,
    questions: list[EvalQuestion],
    out: Run,
    key: tuple[str, str],
) -> Summary:
    report = evaluate(index, questions, ranking=replace(index.ranking, **values))
    out.reports[key] = report
    return report.overall


def table(rows: list[tuple]) -> str:
    lines = [
        "| data | questions | system | R@1 | R@5 | MRR@10 | nDCG@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for data, lang, system, summary in rows:
        cells = " | ".join(f"{summary.metrics[m].value:.3f}" for m in METRICS)
        lines.append(f"| {data} | {lang} | {system} | {cells} |")
    return "\n".join(lines)


def compare_stores(datasets: list[Dataset], store: str, work: Path) -> str:
    """The default ranking of each data set built in FAISS and in ``store``, side by side."""
    lines = [
        "| data | questions | store | R@1 | R@5 | MRR@10 | build s | search ms/question |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, dataset in enumerate(datasets):
        articles = work / f"articles-{n}"
        write_articles(dataset, articles)
        indexes = {}
        for name, where in (("faiss", "faiss"), (store.split(":")[0], f"{store}#quality_{n}")):
            started = time.perf_counter()
            indexes[name] = diploqa.build_index(articles, work / f"index-{n}", store=where)
            indexes[name] = (indexes[name], time.perf_counter() - started)
        for lang, questions in dataset.questions.items():
            rankings = {}
            for name, (index, seconds) in indexes.items():
                started = time.perf_counter()
                report = evaluate(index, grouped(questions, lang))
                per_question = (time.perf_counter() - started) / len(questions) * 1000
                rankings[name] = [[h.source for h in r.hits] for r in report.results]
                m = {c: report.overall.metrics[c].value for c in METRICS}
                logging.info("%s %s %s %s", dataset.name, lang, name, m)
                lines.append(
                    f"| {dataset.name} | {lang} | {name} | {m['R@1']:.3f} | {m['R@5']:.3f} | "
                    f"{m['MRR@10']:.3f} | {seconds:.0f} | {per_question:.0f} |"
                )
            a, b = rankings.values()
            same = sum(x == y for x, y in zip(a, b, strict=True))
            lines.append(
                f"| {dataset.name} | {lang} | identical top-10 article lists | "
                f"{same} of {len(questions)} | | | | |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--xquad", type=Path, required=True, help="folder with xquad.de.json / xquad.en.json"
    )
    parser.add_argument("--ntrex", type=Path, default=None, help="NTREX folder (optional)")
    parser.add_argument("--out", type=Path, default=None, help="write the markdown report here")
    parser.add_argument(
        "--skip-robustness",
        action="store_true",
        help="leave out the issue #12 sets (title lines, mixed languages, shared headlines)",
    )
    parser.add_argument(
        "--store",
        default=None,
        help="compare the FAISS store with this one (milvus-lite:PATH or milvus://HOST:PORT/NAME)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("sentence_transformers", "transformers", "diploqa", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.store:
        started = time.perf_counter()
        datasets = [load_xquad(args.xquad)] + ([load_ntrex(args.ntrex)] if args.ntrex else [])
        with tempfile.TemporaryDirectory() as tmp:
            result = compare_stores(datasets, args.store, Path(tmp))
        print(
            f"Measured {date.today().isoformat()}, commit `{bench_report.commit()}`, on "
            f"{bench_report.cpu()}; {(time.perf_counter() - started) / 60:.1f} min.\n\n{result}"
        )
        return

    started = time.perf_counter()
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        xquad = run(load_xquad(args.xquad), work / "xquad")
        rows += xquad.rows
        rates = highlight_rates(xquad, load_xquad(args.xquad))
        if args.ntrex:
            rows += run(load_ntrex(args.ntrex), work / "ntrex").rows
        rows += run(load_seeds(), work / "seeds", articles_dir=REPO / "seeds").rows
        robust: list[tuple] = []
        if not args.skip_robustness:
            robust += run(
                load_xquad(args.xquad, titles=True),
                work / "xquad-titles",
                None,
                ROBUSTNESS_VARIANTS,
            ).rows
        if args.ntrex and not args.skip_robustness:
            sets = [load_ntrex_mixed(args.ntrex, a) for a in ("mixed", "german", "english")]
            sets += [load_ntrex_series(args.ntrex, shared) for shared in (True, False)]
            for n, dataset in enumerate(sets):
                robust += run(dataset, work / f"robust{n}", None, ROBUSTNESS_VARIANTS).rows
    seconds = time.perf_counter() - started

    command = (
        "python benchmarks/quality.py --xquad ../shared/data/xquad "
        "--ntrex ../shared/data/ntrex --out docs/quality.md"
    )
    path = config.Settings.from_env().dictionary.path
    dictionary = (
        f"`{path}` (Debian's trans-de-en)"
        if path and path.is_file()
        else "none installed (the rows measure diploqa without translation)"
    )
    header = (
        f"Measured {date.today().isoformat()}, commit `{bench_report.commit()}`, "
        f"on {bench_report.cpu()}, "
        f"Python {platform.python_version()}; the run took {seconds / 60:.1f} min.\n\n"
        f"Command: `make bench-quality` (`{command}`)\n\n"
        f"English–German dictionary for the keyword ranking: {dictionary}.\n"
    )
    highlight = "\n".join(
        f"| {lang} | {mode} | {top:.3f} | {first:.3f} |"
        for (mode, lang), (top, first) in sorted(rates.items(), key=lambda x: x[0][1])
    )
    report = (
        f"{header}\n{table(rows)}\n\n"
        "Answer highlighting on XQuAD: share of questions whose highlighted sentence contains "
        "the gold answer text, of the top hit (whichever paragraph it is) and of the first hit "
        "from the right paragraph within the top 10 (`diploqa eval`'s check).\n\n"
        "| questions | highlighting | top hit | first right hit (`diploqa eval`) |\n"
        f"|---|---|---|---|\n{highlight}\n"
    )
    report += (
        '\nIssue #27\'s gaps (docs/quality.md, "diploqa eval, and the last quality gaps"): '
        "before is the ranking without this issue's changes on the same index, where a "
        "setting switches them off, else the same as after.\n\n"
        f"{gaps_table(rows, robust, rates)}\n"
    )
    if robust:
        report += (
            "\nRobustness (issue #12): XQuAD with each paragraph's article title as its first "
            "line (five paragraphs share each English title); NTREX with every third article "
            "left in English (B), the rest German (A), against the same questions over "
            "all-German and all-English archives; NTREX in series of five articles sharing "
            "one headline, against the same articles without headlines. Questions: "
            f"en/de = question language, → A/B = the article's group.\n\n{table(robust)}\n"
        )
    print(report)
    if args.out:
        text = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        args.out.write_text(with_results(text, report), encoding="utf-8")


def with_results(text: str, report: str) -> str:
    """``text`` (docs/quality.md) with ``report`` below its results marker, in place of the
    previous one; the sections after the results (``## …``) are kept."""
    marker = "<!-- results -->"
    if marker not in text:
        return f"# Retrieval quality\n\n{marker}\n\n{report}"
    before, after = text.split(marker, 1)
    # the next section, with the marker comment another benchmark keeps above its heading
    found = [i for i in (after.find("\n## "), after.find("\n<!-- ")) if i >= 0]
    rest = min(found) if found else -1
    kept = after[rest:] if rest >= 0 else ""
    return before + marker + "\n\n" + report.rstrip("\n") + "\n" + kept


if __name__ == "__main__":
    main()
