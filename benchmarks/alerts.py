"""Standing questions (issue #26): how well the match threshold separates articles that answer
a question from those that do not, and what matching costs an update.

``quality``: one index of real articles (XQuAD's 240 German paragraphs, NTREX's 123 German
news articles, and the German Wikinews articles as unrelated traffic), and every question of
XQuAD (German and English) and NTREX (English headline, English middle sentence) as a
standing question. Every article is an arrival for every question: the question's own article
must alert, every other must not. For each threshold: precision and recall of "alert", false
alerts per 1,000 unrelated arrivals, and how many false alerts were XQuAD paragraphs of the
question's own Wikipedia article (related, often answering part of it). The exact score is
computed wherever the prefilter's bound comes within ``--low`` of any threshold shown, and
on a random sample of the rest, to check that the bound never rules out a match::

    python benchmarks/alerts.py quality --xquad ../shared/data/xquad \
        --ntrex ../shared/data/ntrex \
        --wikinews ../shared/data/news_de/dewikinews_quotes/articles.jsonl --work /tmp/alerts

``cost``: an existing index (``--index``), ``--questions`` standing questions (Wikinews
titles, then XQuAD questions) and ``--new`` of its articles taken as the new ones: the time of
a check (first, encoding the questions, and again with them cached), and the search latency
of a thread asking questions meanwhile against the same without matching::

    python benchmarks/alerts.py cost --index /work/bench/news-index \
        --xquad ../shared/data/xquad \
        --wikinews ../shared/data/news_de/dewikinews_quotes/articles.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import quality as quality_bench  # benchmarks/quality.py: the XQuAD and NTREX loaders
import report as bench_report

import diploqa
from diploqa.alerts import AlertStore, Matcher
from diploqa.alerts.matching import _rows_by_article
from diploqa.query import Query

THRESHOLDS = [round(0.70 + 0.01 * i, 2) for i in range(26)]


def wikinews(path: Path, limit: int | None = None) -> dict[str, tuple[str, str, str]]:
    """Article id → (title, date, text) of the German Wikinews set."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
        record = json.loads(line)
        out[f"w-{record['id']}.txt"] = (record["title"], record["date"], record["text"])
    return out


def xquad_topics(folder: Path) -> dict[str, str]:
    """XQuAD paragraph id (as quality.load_xquad names them) → its Wikipedia article."""
    data = json.loads((folder / "xquad.de.json").read_text(encoding="utf-8"))
    topics, n = {}, 0
    for article in data["data"]:
        for _ in article["paragraphs"]:
            topics[f"p{n:03d}.txt"] = article["title"]
            n += 1
    return topics


def build_archive(args, work: Path) -> diploqa.Index:
    """The index of every article (built once into ``work``, reused afterwards)."""
    folder, index_dir = work / "articles", work / "index"
    if not (index_dir / "manifest.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for dataset in (quality_bench.load_xquad(args.xquad), quality_bench.load_ntrex(args.ntrex)):
            for aid, text in dataset.articles.items():
                (folder / aid).write_text(text, encoding="utf-8")
        for aid, (title, date, text) in wikinews(args.wikinews).items():
            (folder / aid).write_text(f"title: {title}\ndate: {date}\n\n{text}\n")
    return diploqa.build_index(folder, index_dir)


def question_sets(args) -> dict[str, list[quality_bench.Question]]:
    xquad, ntrex = quality_bench.load_xquad(args.xquad), quality_bench.load_ntrex(args.ntrex)
    return {
        "XQuAD, German questions": xquad.questions["de"],
        "XQuAD, English questions": xquad.questions["en"],
        "NTREX, English headline": ntrex.questions["en-headline"],
        "NTREX, English sentence": ntrex.questions["en-sentence"],
    }


def scores(index, matcher: Matcher, questions, articles: list[str], low: float, rng, sample):
    """(exact scores where computed else NaN, bounds, the bound check's worst excess)."""
    queries = [Query(q.text) for q in questions]
    raw = matcher.encode(index, [q.question for q in queries])
    rows = _rows_by_article(index, articles)
    bound = matcher.bounds(index, raw, rows)
    exact = np.full(bound.shape, np.nan, dtype=np.float32)
    gold = {a: i for i, a in enumerate(articles)}
    pairs = set(zip(*np.nonzero(bound >= low), strict=True))
    pairs |= {(i, gold[q.gold]) for i, q in enumerate(questions)}
    checked = {(rng.randrange(len(queries)), rng.randrange(len(articles))) for _ in range(sample)}
    by_question: dict[int, list[int]] = {}
    for q, a in pairs | checked:
        by_question.setdefault(int(q), []).append(int(a))
    for q, found in by_question.items():
        lexical = index.lexical.score(queries[q].question)
        for a in found:
            ranked = index.ranker.rank(index.lexical, lexical, raw[q], 1, rows=rows[articles[a]])
            exact[q, a] = ranked[0][1]
    excess = float(np.nanmax(exact - bound))
    return exact, bound, excess, len(pairs), len(checked)


def quality(args) -> str:
    work = Path(args.work)
    started = time.perf_counter()
    index = build_archive(args, work)
    articles = sorted(index.stored.articles)
    topics = xquad_topics(args.xquad)
    matcher, rng = Matcher(), random.Random(1)
    lines = [
        f"Commit {bench_report.commit()}, {bench_report.cpu()}, load average "
        f"{os.getloadavg()[0]:.1f} at the start (a shared machine; nothing here is a timing). "
        f"Archive: {len(articles)} articles ({len(index)} passages): XQuAD's 240 paragraphs, "
        f"NTREX's 123 German articles, {len(articles) - 363} German Wikinews articles. Every "
        "article is an arrival for every question; the question's own article must alert.",
        "",
    ]
    totals = {t: [0, 0, 0, 0] for t in THRESHOLDS}  # tp, fn, fp, negatives
    worst, ranked, sampled = -1.0, 0, 0
    rows = []
    for name, questions in question_sets(args).items():
        exact, _, excess, n_pairs, n_checked = scores(
            index, matcher, questions, articles, args.low, rng, args.sample
        )
        worst, ranked, sampled = max(worst, excess), ranked + n_pairs, sampled + n_checked
        gold = np.array([articles.index(q.gold) for q in questions])
        own = exact[np.arange(len(questions)), gold]
        for t in THRESHOLDS:
            hit = np.nan_to_num(exact, nan=-1.0) >= t
            tp = int(hit[np.arange(len(questions)), gold].sum())
            fp = int(hit.sum()) - tp
            same = sum(
                1
                for q, a in zip(*np.nonzero(hit), strict=True)
                if a != gold[q] and topics.get(articles[a]) == topics.get(questions[q].gold, "-")
            )
            negatives = len(questions) * (len(articles) - 1)
            for k, v in enumerate((tp, len(questions) - tp, fp, negatives)):
                totals[t][k] += v
            rows.append((name, t, tp, len(questions), fp, same, negatives))
        lines.append(
            f"- {name}: {len(questions)} questions; own article's score median "
            f"{np.median(own):.3f}, 10th percentile {np.percentile(own, 10):.3f}"
        )
    lines += [
        "",
        "| questions | threshold | precision | recall | false alerts per 1,000 unrelated "
        "arrivals | of them same Wikipedia article |",
        "|---|---|---|---|---|---|",
    ]
    for name, t, tp, n, fp, same, negatives in rows:
        if t in args.show:
            precision = tp / (tp + fp) if tp + fp else 1.0
            lines.append(
                f"| {name} | {t:.2f} | {precision:.3f} | {tp / n:.3f} | "
                f"{1000 * fp / negatives:.2f} | {same} of {fp} |"
            )
    lines += [
        "",
        "| all questions | threshold | precision | recall | F1 |",
        "|---|---|---|---|---|",
    ]
    for t in THRESHOLDS:
        tp, fn, fp, _ = totals[t]
        p, r = (tp / (tp + fp) if tp + fp else 1.0), tp / (tp + fn)
        lines.append(f"| all | {t:.2f} | {p:.3f} | {r:.3f} | {2 * p * r / (p + r):.3f} |")
    lines += [
        "",
        f"The prefilter's bound: exact scores of {ranked:,} pairs within {args.low} of the "
        f"thresholds and of {sampled:,} random pairs; the largest excess of an exact score "
        f"over its bound was {worst:+.3f} (the margin is {matcher.margin}). "
        f"{time.perf_counter() - started:.0f} s in all.",
    ]
    return "\n".join(lines)


def _percentiles(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"p50 {statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms"


def cost(args) -> str:
    index = diploqa.load_index(args.index)
    articles = sorted(index.stored.articles)
    rng = random.Random(2)
    new = rng.sample(articles, args.new)
    titles = [t for aid, (t, _, _) in wikinews(args.wikinews).items() if f"{aid}" not in new]
    xquad = [q.text for q in quality_bench.load_xquad(args.xquad).questions["de"]]
    texts = (titles + xquad)[: args.questions]
    current = {a: h for a, h in index.manifest.articles.items() if a not in set(new)}
    searches = [q.text for q in quality_bench.load_xquad(args.xquad).questions["en"][:40]]
    for q in searches[:5]:
        index.search(q)  # warm
    matcher = Matcher()
    lines = [
        f"Commit {bench_report.commit()}, {bench_report.cpu()}; load average "
        f"{os.getloadavg()[0]:.1f} at the start: **a shared machine** (other engineers' "
        f"builds and tests ran meanwhile), so the numbers are upper bounds. Index: "
        f"{len(articles)} articles, {len(index)} passages; {len(texts)} standing questions, "
        f"{args.new} new articles.",
        "",
    ]
    for round_ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            store = AlertStore(Path(tmp) / "alerts.sqlite3")
            for i, text in enumerate(texts):
                store.add(f"q{i}", text, current=current)
            latencies: list[float] = []
            stop = threading.Event()

            def ask(out: list[float] = latencies, stop: threading.Event = stop) -> None:
                while not stop.is_set():
                    for q in searches:
                        if stop.is_set():
                            break
                        t0 = time.perf_counter()
                        index.search(q)
                        out.append(time.perf_counter() - t0)

            alone: list[float] = []
            t_end = time.perf_counter() + args.quiet
            while time.perf_counter() < t_end:
                for q in searches:
                    t0 = time.perf_counter()
                    index.search(q)
                    alone.append(time.perf_counter() - t0)
            thread = threading.Thread(target=ask)
            thread.start()
            report = store.check(index, matcher)
            stop.set()
            thread.join()
            kind = "first check (encodes the questions)" if round_ == 0 else "questions cached"
            lines.append(
                f"- round {round_ + 1}, {kind}: check {report.seconds:.1f} s "
                f"({matcher.ranked_pairs} pairs ranked exactly, {report.answers} answers); "
                f"searches alone {_percentiles(alone)}, during the check "
                f"{_percentiles(latencies)} ({len(latencies)} searches); load average "
                f"{os.getloadavg()[0]:.1f}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("quality")
    p.add_argument("--xquad", type=Path, required=True)
    p.add_argument("--ntrex", type=Path, required=True)
    p.add_argument("--wikinews", type=Path, required=True)
    p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "alerts-bench")
    p.add_argument("--low", type=float, default=0.62, help="exact scores from this bound")
    p.add_argument("--sample", type=int, default=2000, help="random pairs checked exactly")
    p.add_argument("--show", type=float, nargs="*", default=[0.76, 0.78, 0.80, 0.82, 0.84])
    p.add_argument("--out", type=Path, default=None)
    p = sub.add_parser("cost")
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--xquad", type=Path, required=True)
    p.add_argument("--wikinews", type=Path, required=True)
    p.add_argument("--questions", type=int, default=1000)
    p.add_argument("--new", type=int, default=100)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quiet", type=float, default=10.0, help="seconds of searches alone")
    p.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    text = quality(args) if args.mode == "quality" else cost(args)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
