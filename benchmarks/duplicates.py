"""Near-duplicate stories: precision and recall of ``diploqa.duplicates`` on real German news.

Data (read by path, never copied into the repository): the 10kGNAD test split (1,028 articles
of derStandard.at, nine categories) and German Wikinews (998 articles with title and date) from
``NEWS_DIR``; optionally the German side of NTREX-128 (``--ntrex DIR``, 123 articles).

70 % of the articles are originals, 20 % the new material of follow-up stories, 10 % donors of
added paragraphs, words and teaser lines. Into the pool go the originals and

* **copies**, the way an outlet edits agency copy: a new headline, the first or last paragraph
  removed, a paragraph added (from a donor, at most a third of the story's length), 5-10 % of
  the words changed or deleted (each word on its own: the hardest case for shingles), a byline or
  teaser line added, two adjacent sentences swapped. A "typical" copy has each edit with
  probability 1/2 (at least one), a "heavy" copy all six. Every original gets a typical copy,
  one in three also a heavy one (groups of three, grouped only if transitivity works);
* **follow-up stories**, every fifth original: a new headline, new material (paragraphs of
  articles set aside for it, each used once, of the same category where there is one), then
  one or two paragraphs of the original as background, at most half of its words and no longer
  than the new material. A follow-up is a different story.

The hard non-duplicates are the follow-ups, different articles on the same topic (the same
10kGNAD category, or Wikinews articles that share several rare names) and every other pair of
different originals. Precision and recall are over pairs of the pool (a group of three is three
pairs), end to end through ``group_duplicates`` (LSH candidates, estimated Jaccard, union-find).

Usage::

    python benchmarks/duplicates.py ../shared/data/news_de --ntrex ../shared/data/ntrex
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import datasketch
import numpy as np
import report as bench_report  # benchmarks/report.py: the machine line of every report
from datasketch import MinHash

from diploqa import duplicates

REPO = Path(__file__).resolve().parents[1]
THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(13)]  # 0.30 ... 0.90
WORD = re.compile(r"\w+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ„\"])")
NAMES = ["Anna Schmidt", "Jörg Weber", "Katrin Lehmann", "Mehmet Yilmaz", "Sophie Wagner"]
AGENCIES = ["dpa", "AFP", "Reuters", "APA", "dpa-AFX", "KNA"]
CITIES = ["Berlin", "Wien", "Moskau", "Washington", "Brüssel", "Genf", "Hamburg"]


@dataclass
class Article:
    id: str
    title: str
    paragraphs: list[str]
    category: str = ""
    kind: str = "original"  # original, typical copy, heavy copy, follow-up, one edit: ...
    story: str = ""  # articles of one story are near-duplicates of each other

    @property
    def text(self) -> str:
        return "\n\n".join([self.title, *self.paragraphs])


@dataclass
class Pool:
    articles: list[Article] = field(default_factory=list)
    extra: list[Article] = field(default_factory=list)  # one-edit copies, measured apart


# --- data -----------------------------------------------------------------------------------


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def load_10kgnad(path: Path) -> list[Article]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";", quotechar="'"))
    out = []
    for i, (category, text) in enumerate(rows):
        sents = sentences(text)
        if len(sents) < 3:
            continue
        # the first sentence is derStandard's teaser; the body in paragraphs of three sentences
        body = [" ".join(sents[j : j + 3]) for j in range(1, len(sents), 3)]
        out.append(Article(f"gnad-{i}", sents[0], body, category=category))
    return out


def load_wikinews(path: Path) -> list[Article]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        paragraphs = [p.strip() for p in row["text"].split("\n\n") if p.strip()]
        if paragraphs:
            out.append(Article(row["id"], row["title"].strip(), paragraphs, category="wikinews"))
    return out


def load_ntrex(folder: Path) -> list[Article]:
    ids = (folder / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    lines = (folder / "newstest2019-ref.deu.txt").read_text(encoding="utf-8").splitlines()
    docs: dict[str, list[str]] = defaultdict(list)
    for doc, line in zip(ids, lines, strict=True):
        docs[doc.split("\t")[0]].append(line.strip())
    out = []
    for doc, doc_lines in docs.items():
        body = [" ".join(doc_lines[j : j + 2]) for j in range(1, len(doc_lines), 2)]
        out.append(Article(f"ntrex-{doc}", doc_lines[0], body, category="ntrex"))
    return out


# --- how outlets edit agency copy ------------------------------------------------------------


def new_headline(a: Article, rng: random.Random, donors: list[Article]) -> Article:
    words = " ".join(a.paragraphs).split()
    start = rng.randrange(max(1, min(len(words), 40) - 8))
    head = " ".join(words[start : start + rng.randint(4, 8)]).strip(".,;:–-")
    prefix = rng.choice(["", "", f"{rng.choice(CITIES)}: ", "Eilmeldung: ", "Nach Kritik: "])
    return replace(a, title=prefix + head[:1].upper() + head[1:])


def drop_paragraph(a: Article, rng: random.Random, donors: list[Article]) -> Article:
    if len(a.paragraphs) < 3:  # a two-paragraph story keeps both
        return a
    return replace(a, paragraphs=a.paragraphs[1:] if rng.random() < 0.5 else a.paragraphs[:-1])


def add_paragraph(a: Article, rng: random.Random, donors: list[Article]) -> Article:
    """A paragraph of context or a quote, up to a third of the story's length (at least 30
    words): an outlet adds to a story, it does not bury it."""
    limit = max(30, sum(len(p.split()) for p in a.paragraphs) // 3)
    extra = " ".join(rng.choice(rng.choice(donors).paragraphs).split()[:limit])
    paragraphs = list(a.paragraphs)
    paragraphs.insert(rng.randint(1, len(paragraphs)), extra)
    return replace(a, paragraphs=paragraphs)


def change_words(a: Article, rng: random.Random, donors: list[Article]) -> Article:
    rate = rng.uniform(0.05, 0.10)
    vocabulary = rng.choice(donors).text.split()
    paragraphs = []
    for p in a.paragraphs:
        words = []
        for w in p.split():
            if rng.random() >= rate:
                words.append(w)
            elif rng.random() < 0.5:
                words.append(rng.choice(vocabulary))  # changed; else deleted
        paragraphs.append(" ".join(words))
    return replace(a, paragraphs=paragraphs)


def add_byline(a: Article, rng: random.Random, donors: list[Article]) -> Article:
    agency = rng.choice(AGENCIES)
    choice = rng.randrange(3)
    if choice == 0:
        return replace(a, paragraphs=[f"Von {rng.choice(NAMES)}, {agency}", *a.paragraphs])
    if choice == 1:
        first = f"{rng.choice(CITIES)} ({agency}) – {a.paragraphs[0]}"
        return replace(a, paragraphs=[first, *a.paragraphs[1:]])
    teaser = f"Mehr zum Thema: {rng.choice(donors).title}"
    return replace(a, paragraphs=[*a.paragraphs, teaser])


def reorder_sentences(a: Article, rng: random.Random, donors: list[Article]) -> Article:
    paragraphs = list(a.paragraphs)
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(paragraphs))
        sents = sentences(paragraphs[i])
        if len(sents) >= 2:
            j = rng.randrange(len(sents) - 1)
            sents[j], sents[j + 1] = sents[j + 1], sents[j]
            paragraphs[i] = " ".join(sents)
    return replace(a, paragraphs=paragraphs)


EDITS = {
    "new headline": new_headline,
    "first or last paragraph removed": drop_paragraph,
    "paragraph added": add_paragraph,
    "5-10 % words changed or deleted": change_words,
    "byline or teaser added": add_byline,
    "sentences swapped": reorder_sentences,
}


def copy_of(a: Article, rng: random.Random, donors: list[Article], edits: list[str]) -> Article:
    for name in edits:
        a = EDITS[name](a, rng, donors)
    return a


def follow_up(a: Article, rng: random.Random, fresh: list[Article]) -> Article:
    """A later story on the same subject: new material first, then one or two paragraphs of the
    original as background, at most half of its words; the new material is at least as long. The new
    material comes from ``fresh`` articles (of the same category where there is one), each used
    once, so that two follow-ups never share it."""
    half = sum(len(p.split()) for p in a.paragraphs) // 2
    start = rng.randrange(len(a.paragraphs))
    background: list[str] = []
    for p in a.paragraphs[start : start + 2]:
        room = half - sum(len(b.split()) for b in background)
        if room <= 0:
            break
        background.append(" ".join(p.split()[:room]))  # a long paragraph: its beginning
    background[0] = "Wie berichtet: " + background[0]
    length = sum(len(p.split()) for p in background)
    new: list[str] = []
    while sum(len(p.split()) for p in new) < max(60, length) and fresh:
        i = next((i for i, d in enumerate(fresh) if d.category == a.category), 0)
        new += fresh.pop(i).paragraphs[: rng.randint(2, 4)]
    head = new_headline(replace(a, paragraphs=new), rng, fresh).title
    return Article(f"{a.id}~follow-up", head, [*new, *background], a.category, "follow-up")


def build_pool(articles: list[Article], seed: int) -> Pool:
    """70 % of the articles are originals, 20 % the new material of follow-ups, 10 % donors of
    added paragraphs, words and teasers."""
    rng = random.Random(seed)
    articles = sorted(articles, key=lambda a: a.id)
    rng.shuffle(articles)
    cut, cut2 = len(articles) * 7 // 10, len(articles) * 9 // 10
    originals, fresh, donors = articles[:cut], articles[cut:cut2], articles[cut2:]
    pool = Pool()
    for i, a in enumerate(originals):
        a = replace(a, story=a.id)
        pool.articles.append(a)
        edits = [e for e in EDITS if rng.random() < 0.5] or [rng.choice(list(EDITS))]
        typical = copy_of(a, rng, donors, edits)
        pool.articles.append(replace(typical, id=f"{a.id}~typical", kind="typical copy"))
        if i % 3 == 0:
            heavy = copy_of(a, rng, donors, list(EDITS))
            pool.articles.append(replace(heavy, id=f"{a.id}~heavy", kind="heavy copy"))
        if i % 5 == 0 and fresh:
            pool.articles.append(follow_up(a, rng, fresh))  # its own story
        if i % 5 == 1:
            for n, name in enumerate(EDITS):
                one = copy_of(a, rng, donors, [name])
                pool.extra.append(replace(one, id=f"{a.id}~edit{n}", kind=f"one edit: {name}"))
    for a in pool.articles:
        if not a.story:
            a.story = a.id
    for a in pool.extra:
        a.story = a.id.split("~")[0]
    return pool


# --- measuring ------------------------------------------------------------------------------


def shingle_set(text: str, k: int) -> set[str]:
    """The shingles of ``diploqa.duplicates`` for any shingle size (the same rule)."""
    words = WORD.findall(unicodedata.normalize("NFC", text).casefold())
    if len(words) <= k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def true_pairs(articles: list[Article]) -> set[tuple[str, str]]:
    stories: dict[str, list[str]] = defaultdict(list)
    for a in articles:
        stories[a.story].append(a.id)
    return {p for ids in stories.values() for p in itertools.combinations(sorted(ids), 2)}


def predicted_pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {p for g in groups for p in itertools.combinations(g, 2)}


def equal_counts(sigs: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Equal signature values of every pair (upper triangle), to check the LSH stage against
    comparing all pairs."""
    ids = sorted(sigs)
    m = np.stack([sigs[i] for i in ids])
    counts = np.zeros((len(ids), len(ids)), dtype=np.uint8)
    for i in range(len(ids) - 1):
        counts[i, i + 1 :] = np.count_nonzero(m[i + 1 :] == m[i], axis=1)
    return ids, counts


def all_pairs_groups(ids: list[str], counts: np.ndarray, t: float) -> set[tuple[str, str]]:
    """The pairs ``group_duplicates`` would give if it compared all pairs instead of LSH's."""
    need = int(np.ceil(t * duplicates.NUM_PERM - 1e-9))
    parent = list(range(len(ids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(counts >= need), strict=True):
        parent[find(int(i))] = find(int(j))
    components: dict[int, list[str]] = defaultdict(list)
    for i, aid in enumerate(ids):
        components[find(i)].append(aid)
    return predicted_pairs([g for g in components.values() if len(g) > 1])


def rare_name_pairs(articles: list[Article], min_shared: int) -> list[tuple[str, str]]:
    """Pairs of different originals sharing ``min_shared`` rare capitalised words (names)."""
    df: Counter[str] = Counter()
    names: dict[str, set[str]] = {}
    for a in articles:
        words = re.findall(r"(?<![.!?]\s)\b[A-ZÄÖÜ][\wäöüß-]{2,}", " ".join(a.paragraphs))
        names[a.id] = set(words)
        df.update(names[a.id])
    rare = {w for w, n in df.items() if 2 <= n <= 10}
    by_name: dict[str, list[str]] = defaultdict(list)
    for aid, ws in names.items():
        for w in ws & rare:
            by_name[w].append(aid)
    shared: Counter[tuple[str, str]] = Counter()
    for ids in by_name.values():
        shared.update(itertools.combinations(sorted(ids), 2))
    return sorted(p for p, n in shared.items() if n >= min_shared)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def sweep_shingles(pool: Pool, hard: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Exact Jaccard per shingle size: how far apart copies and hard non-duplicates lie."""
    texts = {a.id: a.text for a in pool.articles}
    positives = sorted(true_pairs(pool.articles))
    followups, others = hard["follow-ups"], hard["same topic"]
    rows = []
    for k in (2, 3, 4, 5, 6, 8):
        sets = {aid: shingle_set(t, k) for aid, t in texts.items()}
        pos = [jaccard(sets[a], sets[b]) for a, b in positives]
        fol = [jaccard(sets[a], sets[b]) for a, b in followups]
        oth = [jaccard(sets[a], sets[b]) for a, b in others]
        grid = np.arange(0.05, 0.96, 0.01).round(2).tolist()
        (_, p, r), t = max((fbeta(pos, fol + oth, t), t) for t in grid)
        rows.append(
            f"| {k} | {percentile(pos, 5):.2f} | {percentile(pos, 50):.2f} | "
            f"{max(fol):.2f} | {percentile(fol, 99):.2f} | {max(oth):.2f} | "
            f"{t:.2f} | {p:.4f} | {r:.4f} |"
        )
    return rows


def fbeta(pos: list[float], neg: list[float], t: float) -> tuple[float, float, float]:
    """F0.5 (precision counts twice), precision, recall of "similar ≥ t" on labelled pairs."""
    tp = sum(x >= t for x in pos)
    fp = sum(x >= t for x in neg)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / len(pos)
    f = 1.25 * p * r / (0.25 * p + r) if p + r else 0.0
    return f, p, r


def sweep_num_perm(pool: Pool, negatives: list[tuple[str, str]], t: float) -> list[str]:
    """Estimated against exact Jaccard (the module's shingles) for several signature lengths."""
    positives = sorted(true_pairs(pool.articles))
    sets = {a.id: shingle_set(a.text, duplicates.SHINGLE_WORDS) for a in pool.articles}
    rows = []
    for num_perm in (64, 128, 256):
        sigs = {
            aid: MinHash.bulk([[x.encode() for x in s]], num_perm=num_perm, seed=1)[0]
            for aid, s in sets.items()
        }
        for label, pairs in (("copies", positives), ("hard non-duplicates", negatives)):
            exact = np.array([jaccard(sets[a], sets[b]) for a, b in pairs])
            est = np.array([sigs[a].jaccard(sigs[b]) for a, b in pairs])
            flips = int(np.sum((exact >= t) != (est >= t)))
            rows.append(
                f"| {num_perm} | {label} | {np.mean(np.abs(est - exact)):.3f} | "
                f"{np.max(np.abs(est - exact)):.3f} | {flips} of {len(pairs)} |"
            )
    return rows


def measure_speed(texts: list[str], reps: int = 3) -> tuple[float, float, float]:
    """Articles per second of wall time and of CPU time (best of ``reps``), words per CPU
    second."""
    words = sum(len(t.split()) for t in texts)
    wall = cpu = float("inf")
    for _ in range(reps):
        w, c = time.perf_counter(), time.process_time()
        for t in texts:
            duplicates.signature(t)
        wall = min(wall, time.perf_counter() - w)
        cpu = min(cpu, time.process_time() - c)
    return len(texts) / wall, len(texts) / cpu, words / cpu


def synthetic_signatures(n: int, seed: int) -> tuple[dict[str, np.ndarray], list[list[str]]]:
    """``n`` random signatures, 3 % of them in planted groups of two or three: two thirds near
    copies (a share of equal values between the threshold + 0.15 and 0.95), one third exact."""
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2**32, size=(n, duplicates.NUM_PERM), dtype=np.uint32)
    planted = []
    i = 0
    while i < n * 3 // 100:
        size = 2 + int(rng.random() < 0.3)
        share = 1.0 if rng.random() < 1 / 3 else rng.uniform(duplicates.THRESHOLD + 0.15, 0.95)
        for j in range(i + 1, i + size):
            keep = rng.random(duplicates.NUM_PERM) < share
            sigs[j] = np.where(keep, sigs[i], sigs[j])
        planted.append([f"s{k:06d}" for k in range(i, i + size)])
        i += size
    return {f"s{k:06d}": sig for k, sig in enumerate(sigs)}, planted


def measure_grouping(n: int) -> dict[str, float]:
    """Time and memory of ``group_duplicates`` over ``n`` synthetic signatures, in a fresh
    process (``--scale-only``) so that its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--scale-only", str(n)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _status_mb(field: str) -> float:
    """A field of /proc/self/status in MB: VmRSS (now) or VmHWM (peak of this process image;
    unlike ru_maxrss it does not inherit the parent's peak through fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scale_only(n: int) -> None:
    sigs, planted = synthetic_signatures(n, seed=n)
    before = _status_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    groups = duplicates.group_duplicates(sigs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {"wall": wall, "cpu": cpu, "ok": groups == sorted(planted)}
    print(json.dumps({**result, "peak_mb": _status_mb("VmHWM") - before}))


# --- report ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "news",
        type=Path,
        nargs="?",
        default=REPO.parent / "shared/data/news_de",
        help="folder with 10kgnad/test.csv and dewikinews_quotes/articles.jsonl",
    )
    parser.add_argument("--ntrex", type=Path, default=None, help="NTREX folder (optional)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--scale", type=int, default=100_000, help="synthetic signatures")
    parser.add_argument(
        "--words", type=int, default=None, help="explore another shingle size (patches the module)"
    )
    parser.add_argument(
        "--show-wrong", type=float, default=None, help="print the wrong pairs at this threshold"
    )
    parser.add_argument("--scale-only", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--threshold", type=float, default=None, help="explore another threshold (patches it)"
    )
    args = parser.parse_args()
    if args.scale_only:
        scale_only(args.scale_only)
        return
    started = time.perf_counter()
    if args.words:
        duplicates.SHINGLE_WORDS = args.words
    if args.threshold:
        duplicates.THRESHOLD = args.threshold

    articles = load_10kgnad(args.news / "10kgnad/test.csv")
    articles += load_wikinews(args.news / "dewikinews_quotes/articles.jsonl")
    if args.ntrex:
        articles += load_ntrex(args.ntrex)
    pool = build_pool(articles, args.seed)
    texts = {a.id: a.text for a in pool.articles}
    by_id = {a.id: a for a in pool.articles}
    originals = [a for a in pool.articles if a.kind == "original"]
    assert all(
        set(duplicates._shingles(t))
        == {s.encode() for s in shingle_set(t, duplicates.SHINGLE_WORDS)}
        for t in list(texts.values())[:50]
    ), "shingle_set must follow diploqa.duplicates"

    t0 = time.perf_counter()
    sigs = {aid: duplicates.signature(t) for aid, t in texts.items()}
    extra_sigs = {a.id: duplicates.signature(a.text) for a in pool.extra}
    signing = time.perf_counter() - t0
    positives = true_pairs(pool.articles)

    # hard non-duplicates, each pair once: follow-ups against their original's story, same
    # 10kGNAD category, shared rare names
    stories: dict[str, list[str]] = defaultdict(list)
    for a in pool.articles:
        stories[a.story].append(a.id)
    followups = [
        tuple(sorted((a.id, b)))
        for a in pool.articles
        if a.kind == "follow-up"
        for b in stories[a.id.split("~")[0]]
    ]
    names = rare_name_pairs(originals, min_shared=3)
    k = duplicates.SHINGLE_WORDS
    setsk = {a.id: shingle_set(a.text, k) for a in originals}
    same_category = [
        (a.id, b.id)
        for a, b in itertools.combinations(originals, 2)
        if a.category == b.category and a.category not in ("wikinews", "ntrex")
    ]
    same_category.sort(key=lambda p: -jaccard(setsk[p[0]], setsk[p[1]]))
    hardest = same_category[:2000]
    negatives = sorted(set(followups) | set(names) | set(hardest))

    rows = []
    count_ids, counts = equal_counts(sigs)
    for t in THRESHOLDS:
        g0 = time.perf_counter()
        groups = duplicates.group_duplicates(sigs, threshold=t)
        seconds = time.perf_counter() - g0
        predicted = predicted_pairs(groups)
        lost = len(all_pairs_groups(count_ids, counts, t) - predicted)
        tp = len(predicted & positives)
        wrong = predicted - positives
        if args.show_wrong and abs(t - args.show_wrong) < 1e-9:
            for a, b in sorted(wrong):
                print(f"{duplicates.similarity(sigs[a], sigs[b]):.2f} {a} {b}", file=sys.stderr)
                for x in (a, b):
                    print(f"    {texts[x][:300]!r}", file=sys.stderr)
        kinds = Counter(
            "follow-up" if "follow-up" in by_id[a].kind + by_id[b].kind else "different articles"
            for a, b in wrong
        )
        by_kind = {}
        for kind in ("typical copy", "heavy copy"):
            pairs = [(a.story, a.id) for a in pool.articles if a.kind == kind]
            hit = sum(tuple(sorted(p)) in predicted for p in pairs)
            by_kind[kind] = hit / len(pairs)
        precision = tp / len(predicted) if predicted else 1.0
        rows.append(
            f"| {t:.2f} | {precision:.4f} | {tp / len(positives):.4f} | "
            f"{by_kind['typical copy']:.3f} | {by_kind['heavy copy']:.3f} | "
            f"{kinds['follow-up']} | {kinds['different articles']} | {lost} | {seconds:.2f} |"
        )

    # one edit at a time, at the chosen threshold: copy against its original
    one_edit = []
    extra_texts = {a.id: a.text for a in pool.extra}
    for n, name in enumerate(EDITS):
        pairs = [(a.story, a.id) for a in pool.extra if a.id.endswith(f"~edit{n}")]
        found = sum(
            duplicates.similarity(sigs[o], extra_sigs[c]) >= duplicates.THRESHOLD for o, c in pairs
        )
        exact = [jaccard(setsk[o], shingle_set(extra_texts[c], k)) for o, c in pairs]
        one_edit.append(
            f"| {name} | {found / len(pairs):.3f} | {percentile(exact, 5):.2f} | "
            f"{percentile(exact, 50):.2f} |"
        )

    hard_rows = []
    for label, pairs in (
        ("follow-up story against the original and its copies", followups),
        ("same 10kGNAD category, the 2,000 most similar pairs", hardest),
        ("different originals sharing ≥ 3 rare names", names),
    ):
        exact = [jaccard(shingle_set(texts[a], k), shingle_set(texts[b], k)) for a, b in pairs]
        est = [duplicates.similarity(sigs[a], sigs[b]) for a, b in pairs]
        grouped = sum(x >= duplicates.THRESHOLD for x in est)
        hard_rows.append(
            f"| {label} | {len(pairs)} | {max(exact):.2f} | {percentile(exact, 99):.2f} | "
            f"{max(est):.2f} | {grouped} |"
        )

    # the real articles alone, every pair: what the data itself holds
    real = {a.id: duplicates.signature(a.text) for a in articles}
    titles = {a.id: a.title for a in articles}
    real_counts, real_pairs = [], {}
    for t in THRESHOLDS:
        pairs = sorted(predicted_pairs(duplicates.group_duplicates(real, threshold=t)))
        real_counts.append(f"{t:.2f}: {len(pairs)}")
        real_pairs.update({p: t for p in pairs if p not in real_pairs})
    real_lines = [
        f"* grouped from {t:.2f} on, estimated J {duplicates.similarity(real[a], real[b]):.2f}: "
        f"{a} „{titles[a]}“ and {b} „{titles[b]}“"
        for (a, b), t in sorted(real_pairs.items())
    ]

    k_rows = sweep_shingles(pool, {"follow-ups": followups, "same topic": hardest + names})
    p_rows = sweep_num_perm(pool, negatives, duplicates.THRESHOLD)
    per_wall, per_cpu, words_per_cpu = measure_speed([a.text for a in originals])
    scale_rows = []
    for n in (10_000, args.scale):
        m = measure_grouping(n)
        scale_rows.append(
            f"| {n:,} | {m['wall']:.1f} | {m['cpu']:.1f} | {m['peak_mb']:.0f} MB | "
            f"{'yes' if m['ok'] else 'NO'} |"
        )
    total = time.perf_counter() - started

    counts = Counter(a.kind for a in pool.articles)
    words = [len(a.text.split()) for a in originals]
    command = "python benchmarks/duplicates.py ../shared/data/news_de" + (
        " --ntrex ../shared/data/ntrex" if args.ntrex else ""
    )
    print(
        f"Measured {date.today().isoformat()}, commit `{bench_report.commit()}`, "
        f"on {bench_report.cpu()}, "
        f"no GPU, Python {platform.python_version()}, datasketch {datasketch.__version__}; "
        f"the run took {total / 60:.1f} min.\n\n"
        f"Command: `{command}`\n\n"
        f"Parameters: {duplicates.SHINGLE_WORDS}-word shingles, {duplicates.NUM_PERM} "
        f"permutations, `THRESHOLD = {duplicates.THRESHOLD}` (`{duplicates.SIGNATURE_KIND}`).\n\n"
        f"Pool: {counts['original']} originals (median {np.median(words):.0f} words), "
        f"{counts['typical copy']} typical copies, {counts['heavy copy']} heavy copies, "
        f"{counts['follow-up']} follow-ups: {len(pool.articles)} articles, "
        f"{len(positives)} duplicate pairs; {len(pool.extra)} one-edit copies apart.\n\n"
        "Pairs of the pool, end to end through `group_duplicates`:\n\n"
        "| threshold | precision | recall | typical copies found | heavy copies found | "
        "wrong pairs with a follow-up | wrong pairs of different articles | "
        "pairs lost by LSH | seconds |\n"
        "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"One edit at a time (copy against its original, at {duplicates.THRESHOLD}; exact "
        f"Jaccard of the {k}-word shingles):\n\n"
        "| edit | found | exact J, 5th percentile | exact J, median |\n|---|---|---|---|\n"
        + "\n".join(one_edit)
        + "\n\n"
        f"Hard non-duplicates (exact and estimated Jaccard; grouped at {duplicates.THRESHOLD}):\n\n"
        "| pairs | count | max exact J | 99th percentile | max estimated J | grouped |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(hard_rows) + "\n\n"
        f"All {len(real)} real articles against each other (no copies), pairs grouped per "
        f"threshold: {', '.join(real_counts)}.\n\n" + "\n".join(real_lines) + "\n\n"
        "Shingle size: exact Jaccard of copies (all duplicate pairs), follow-ups and same-topic "
        "articles (the pairs above); the best threshold by F0.5 on those pairs:\n\n"
        "| words | copies 5th pct | copies median | follow-ups max | follow-ups 99th pct | "
        "same topic max | best threshold | precision | recall |\n"
        "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(k_rows) + "\n\n"
        f"Signature length: estimated against exact Jaccard ({k}-word shingles), and how many "
        "pairs "
        f"land on the other side of {duplicates.THRESHOLD}:\n\n"
        "| permutations | pairs | mean error | max error | flipped |\n|---|---|---|---|---|\n"
        + "\n".join(p_rows)
        + "\n\n"
        f"Signature speed, one thread, best of 3 over the {len(originals)} originals: "
        f"{per_cpu:,.0f} articles per CPU second ({words_per_cpu:,.0f} words), {per_wall:,.0f} "
        f"per second of wall time (all {len(texts) + len(extra_sigs)} pool texts: "
        f"{signing:.1f} s).\n\n"
        f"Grouping synthetic signatures (3 % in planted groups of near or exact copies):\n\n"
        "| signatures | seconds (wall) | CPU seconds | added peak memory | "
        "planted groups found exactly |\n|---|---|---|---|---|\n" + "\n".join(scale_rows)
    )


if __name__ == "__main__":
    main()
