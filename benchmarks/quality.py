"""Retrieval quality of diploqa against the raw model and BM25, in one run.

Data (read by path, never copied into the repository):

* XQuAD (``--xquad DIR``): 240 German Wikipedia paragraphs, 1,190 questions in German and the
  same questions in English. Each paragraph is written as one article.
* NTREX-128 (``--ntrex DIR``, optional): 123 long German news articles; the questions are the
  English headline and one English body sentence of each article.
* The seed questions of ``tests/test_search.py`` over ``seeds/``.

Metrics are document-level: hits are mapped to their article, duplicates removed in rank
order; Recall@1, Recall@5 and MRR@10. The answer-sentence rate is how often the highlighted
sentence of the top hit contains the gold answer text (XQuAD), over all questions and over the
questions whose top hit is the right paragraph.

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
from diploqa.lexical import Bm25Index  # noqa: E402


@dataclass
class Question:
    text: str
    gold: str  # article id
    answer: str | None = None


@dataclass
class Dataset:
    name: str
    articles: dict[str, str]  # id -> text
    questions: dict[str, list[Question]]  # language -> questions


def load_xquad(folder: Path, titles: bool = False) -> Dataset:
    """XQuAD; with ``titles`` each paragraph starts with its article's title line (English
    Wikipedia titles such as "Super Bowl 50", shared by the five paragraphs of an article)."""
    de = json.loads((folder / "xquad.de.json").read_text(encoding="utf-8"))
    en = json.loads((folder / "xquad.en.json").read_text(encoding="utf-8"))
    english = {
        q["id"]: q["question"] for a in en["data"] for p in a["paragraphs"] for q in p["qas"]
    }
    articles: dict[str, str] = {}
    questions: dict[str, list[Question]] = {"en": [], "de": []}
    for article in de["data"]:
        for paragraph in article["paragraphs"]:
            pid = f"p{len(articles):03d}.txt"
            title = article["title"].replace("_", " ")
            articles[pid] = f"{title}\n\n{paragraph['context']}" if titles else paragraph["context"]
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]["text"]
                questions["de"].append(Question(qa["question"], pid, answer))
                questions["en"].append(Question(english[qa["id"]], pid, answer))
    name = "XQuAD with title lines" if titles else "XQuAD (240 German paragraphs)"
    return Dataset(name, articles, questions)


def load_ntrex(folder: Path) -> Dataset:
    articles, questions = {}, {"en-headline": [], "en-sentence": []}
    for n, (de, en) in enumerate(ntrex_documents(folder)):
        aid = f"n{n:03d}.txt"
        articles[aid] = "\n\n".join(de)
        questions["en-headline"].append(Question(en[0], aid))
        middle = en[len(en) // 2] if len(en) > 2 else en[-1]
        questions["en-sentence"].append(Question(middle, aid))
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
    questions: dict[str, list[Question]] = {}
    for n, (de, en) in enumerate(ntrex_documents(folder)):
        aid = f"n{n:03d}.txt"
        group = "B" if n % MIXED_EVERY == MIXED_EVERY - 1 else "A"
        english = archive == "english" or (archive == "mixed" and group == "B")
        articles[aid] = "\n\n".join(en if english else de)
        for lang, lines in (("en", en), ("de", de)):
            for kind, text in (("headline", lines[0]), ("sentence", _middle(lines))):
                key = f"{lang}-{kind} → {group}"
                questions.setdefault(key, []).append(Question(text, aid))
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
    questions: dict[str, list[Question]] = {"en-headline": [], "de-headline": [], "en-sentence": []}
    for n, (de, en) in enumerate(docs):
        aid = f"n{n:03d}.txt"
        body = "\n\n".join(de[1:])
        headline = "Liveblog: " + docs[n - n % SERIES_SIZE][0][0]
        articles[aid] = f"{headline}\n\n{body}" if shared else body
        questions["en-headline"].append(Question(en[0], aid))
        questions["de-headline"].append(Question(de[0], aid))
        questions["en-sentence"].append(Question(_middle(en), aid))
    name = "NTREX series sharing a headline" if shared else "NTREX without headlines (reference)"
    return Dataset(name, articles, questions)


def load_seeds() -> Dataset:
    from test_search import SEED_QUESTIONS_DE, SEED_QUESTIONS_EN  # one source of truth

    articles = {p.name: "" for p in (REPO / "seeds").glob("*.txt")}
    questions = {
        "de": [Question(q, a) for q, a in SEED_QUESTIONS_DE],
        "en": [Question(q, a) for q, a in SEED_QUESTIONS_EN],
    }
    return Dataset("Seeds (5 articles, tests/test_search.py)", articles, questions)


def metrics(rankings: list[list[str]], questions: list[Question]) -> dict[str, float]:
    r1 = r5 = mrr = 0.0
    for ranked, q in zip(rankings, questions, strict=True):
        r1 += ranked[:1] == [q.gold]
        r5 += q.gold in ranked[:5]
        if q.gold in ranked[:10]:
            mrr += 1 / (ranked.index(q.gold) + 1)
    n = len(questions)
    return {"R@1": r1 / n, "R@5": r5 / n, "MRR@10": mrr / n}


def dedupe(sources: list[str]) -> list[str]:
    return list(dict.fromkeys(sources))


def diploqa_rankings(index: diploqa.Index, questions: list[Question]) -> list[list[str]]:
    return [dedupe([h.source for h in index.search(q.text, k=30)]) for q in questions]


def raw_model_rankings(
    encoder, articles: dict[str, str], questions: list[Question]
) -> list[list[str]]:
    """The raw model: whole articles (truncated at 512 tokens), exact cosine, no tricks."""
    ids = list(articles)
    flat = faiss.IndexFlatIP(encoder.dim)
    flat.add(encoder.encode_passages([articles[i] for i in ids]))
    _, rows = flat.search(encoder.encode_queries([q.text for q in questions]), 10)
    return [[ids[r] for r in row if r >= 0] for row in rows]


def bm25_rankings(articles: dict[str, str], questions: list[Question]) -> list[list[str]]:
    ids = list(articles)
    bm25 = Bm25Index.build([articles[i] for i in ids], dictionary=None)  # plain: no translation
    out = []
    for q in questions:
        scores = bm25.score(q.text).scores
        out.append([ids[r] for r in np.argsort(-scores)[:10] if scores[r] > 0])
    return out


def answer_sentence_rate(index: diploqa.Index, questions: list[Question]) -> tuple[float, float]:
    contains = correct = contains_correct = 0
    for q in questions:
        top = index.search(q.text, k=1)[0]
        hit = q.answer.lower() in top.highlighted_sentence.lower()
        contains += hit
        if top.source == q.gold:
            correct += 1
            contains_correct += hit
    return contains / len(questions), contains_correct / max(correct, 1)


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


#: The robustness sets (issue #12: shared headlines, English beside German) measure fewer
#: variants: the default, without the dictionary, and the ranking before #12's settings.
BEFORE_12 = {"skip_title_passages": False, "shared_titles": False, "language_groups": False}
ROBUSTNESS_VARIANTS: dict[str, dict[str, float | bool]] = {
    "diploqa before #12 (title passages, one language group)": BEFORE_12,
    "diploqa before #12, without the dictionary": {**BEFORE_12, "dictionary": False},
    "diploqa without the dictionary (no trans-de-en installed)": {"dictionary": False},
    "**diploqa (default)**": {},
}


def run(
    dataset: Dataset,
    work: Path,
    articles_dir: Path | None = None,
    variants: dict[str, dict[str, float | bool]] | None = None,
) -> list[tuple]:
    """Rows of (dataset, language, system, metrics)."""
    rows = []
    if articles_dir is None:
        articles_dir = work / "articles"
        write_articles(dataset, articles_dir)
    started = time.perf_counter()
    index = diploqa.build_index(articles_dir, work / "index")
    logging.info(
        "%s: %d passages indexed in %.0f s", dataset.name, len(index), time.perf_counter() - started
    )
    texts = {a.id: a.text for a in index.articles}
    for lang, questions in dataset.questions.items():
        systems: dict[str, Callable[[], list[list[str]]]] = {
            "raw model, whole articles": lambda q=questions: raw_model_rankings(
                index.encoder.primary, texts, q
            ),
            "BM25 (German stemming), whole articles": lambda q=questions: bm25_rankings(texts, q),
        }
        for name, values in (VARIANTS if variants is None else variants).items():
            systems[name] = lambda q=questions, v=values: _with(v, index, q)
        for name, fn in systems.items():
            started = time.perf_counter()
            result = metrics(fn(), questions)
            logging.info(
                "%s %s %s %s (%.0f s)",
                dataset.name,
                lang,
                name,
                result,
                time.perf_counter() - started,
            )
            rows.append((dataset.name, lang, name, result))
    return rows, index


def _with(values: dict[str, float | bool], index: diploqa.Index, questions: list[Question]):
    return diploqa_rankings(index.with_ranking(replace(index.ranking, **values)), questions)


def table(rows: list[tuple]) -> str:
    lines = ["| data | questions | system | R@1 | R@5 | MRR@10 |", "|---|---|---|---|---|---|"]
    for data, lang, system, m in rows:
        lines.append(
            f"| {data} | {lang} | {system} | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['MRR@10']:.3f} |"
        )
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
                rankings[name] = diploqa_rankings(index, questions)
                per_question = (time.perf_counter() - started) / len(questions) * 1000
                m = metrics(rankings[name], questions)
                logging.info("%s %s %s %s", dataset.name, lang, name, m)
                lines.append(
                    f"| {dataset.name} | {lang} | {name} | {m['R@1']:.3f} | {m['R@5']:.3f} | "
                    f"{m['MRR@10']:.3f} | {seconds:.0f} | {per_question:.0f} |"
                )
            a, b = rankings.values()
            same = sum(x[:10] == y[:10] for x, y in zip(a, b, strict=True))
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
        xquad_rows, xquad_index = run(load_xquad(args.xquad), work / "xquad")
        rows += xquad_rows
        rates = {}  # (highlighting, language) -> (all questions, top hit right)
        for mode, semantic in (("words only", 0), ("**meaning + words (default)**", None)):
            values = {} if semantic is None else {"semantic_highlights": semantic}
            variant = xquad_index.with_ranking(replace(xquad_index.ranking, **values))
            for lang, questions in load_xquad(args.xquad).questions.items():
                rates[mode, lang] = answer_sentence_rate(variant, questions)
        if args.ntrex:
            rows += run(load_ntrex(args.ntrex), work / "ntrex")[0]
        rows += run(load_seeds(), work / "seeds", articles_dir=REPO / "seeds")[0]
        robust: list[tuple] = []
        if not args.skip_robustness:
            robust += run(
                load_xquad(args.xquad, titles=True),
                work / "xquad-titles",
                None,
                ROBUSTNESS_VARIANTS,
            )[0]
        if args.ntrex and not args.skip_robustness:
            sets = [load_ntrex_mixed(args.ntrex, a) for a in ("mixed", "german", "english")]
            sets += [load_ntrex_series(args.ntrex, shared) for shared in (True, False)]
            for n, dataset in enumerate(sets):
                robust += run(dataset, work / f"robust{n}", None, ROBUSTNESS_VARIANTS)[0]
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
        f"| {lang} | {mode} | {all_:.3f} | {right:.3f} |"
        for (mode, lang), (all_, right) in sorted(rates.items(), key=lambda x: x[0][1])
    )
    report = (
        f"{header}\n{table(rows)}\n\n"
        "Answer highlighting on XQuAD: share of questions whose top hit's highlighted sentence "
        "contains the gold answer text.\n\n"
        "| questions | highlighting | all questions | top hit is the right paragraph |\n"
        f"|---|---|---|---|\n{highlight}\n"
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
        marker = "<!-- results -->"
        if marker in text:
            text = text.split(marker)[0] + marker + "\n\n" + report
        else:
            text = f"# Retrieval quality\n\n{marker}\n\n{report}"
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
