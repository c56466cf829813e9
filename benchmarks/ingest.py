"""Ingest the shared German news (10kGNAD test split + German Wikinews, ~2,000 articles) twice,
side by side in one run: once as one ``.txt`` file per article, once as one JSON Lines file,
each into a fresh index. Reports articles/s and passages/s of each full build (reading,
cleaning, chunking, embedding, writing), and of a second build with nothing changed.

The data is read by path and never copied into the repository.

Usage::

    python benchmarks/ingest.py [--data ../shared/data/news_de] [--limit N] \
        [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import platform
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

import report as docs  # noqa: E402

import diploqa  # noqa: E402


def news_records(data: Path) -> list[dict]:
    """Every article of both sets as a record (id, title, date, text)."""
    records = []
    csv.field_size_limit(1 << 24)
    with open(data / "10kgnad" / "test.csv", encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh, delimiter=";", quotechar="'")):
            if len(row) >= 2 and row[1].strip():
                records.append({"id": f"gnad-{i:04d}", "outlet": "DER STANDARD",
                                "category": row[0], "text": row[1].strip()})  # fmt: skip
    with open(data / "dewikinews_quotes" / "articles.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("text", "").strip():
                records.append({"id": rec["id"], "title": rec["title"], "date": rec.get("date"),
                                "outlet": "Wikinews", "text": rec["text"].strip()})  # fmt: skip
    return records


def as_files(records: list[dict], folder: Path) -> None:
    folder.mkdir(parents=True)
    for rec in records:
        name = re.sub(r"[^A-Za-z0-9_-]", "_", rec["id"])
        head = "".join(f"{key}: {rec[key]}\n" for key in ("title", "date") if rec.get(key))
        head += f"source: {rec['outlet']}\n"
        (folder / f"{name}.txt").write_text(f"{head}\n{rec['text']}\n", encoding="utf-8")


def as_jsonl(records: list[dict], folder: Path) -> None:
    folder.mkdir(parents=True)
    with open(folder / "news.jsonl", "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def measure(articles: Path, index: Path) -> dict:
    started = time.perf_counter()
    built = diploqa.build_index(articles, index)
    seconds = time.perf_counter() - started
    report = built.build_report
    started = time.perf_counter()
    again = diploqa.build_index(articles, index).build_report
    return {
        "articles": len(built.articles),
        "skipped": len(report.skipped),
        "passages": report.passages,
        "vectors": report.chunks,
        "seconds": seconds,
        "articles_per_s": len(built.articles) / seconds,
        "passages_per_s": report.chunks / seconds,
        "unchanged_seconds": time.perf_counter() - started,
        "unchanged_embedded": again.embedded,
        "groups": len(built.stored.stories.groups),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "news_de")
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--out", type=Path, default=None, help="write the section here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    records = news_records(args.data)[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        as_files(records[:5], work / "warm")
        diploqa.build_index(work / "warm", work / "warm-index")  # model loaded outside timing
        as_files(records, work / "files")
        as_jsonl(records, work / "jsonl")
        results = {
            "one .txt file per article": measure(work / "files", work / "files-index"),
            "one JSON Lines file": measure(work / "jsonl", work / "jsonl-index"),
        }
    lines = [
        f"Measured {date.today().isoformat()}, commit `{docs.commit()}`, {docs.cpu()}, "
        f"no GPU, Python {platform.python_version()}: "
        f"{len(records):,} articles of the shared German news (10kGNAD test split + German "
        "Wikinews), the default model (e5 int8 + USE). Command: `python benchmarks/ingest.py`.",
        "",
        "| input | articles | vectors (passages + sections) | full build s | articles/s | "
        "passages/s | unchanged build s (embedded) | story groups |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['articles']:,} | {r['vectors']:,} ({r['passages']:,} + "
            f"{r['vectors'] - r['passages']:,}) | {r['seconds']:.0f} | {r['articles_per_s']:.1f} "
            f"| {r['passages_per_s']:.1f} | {r['unchanged_seconds']:.1f} "
            f"({r['unchanged_embedded']}) | {r['groups']} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        docs.write_section(args.out, "ingest", "Ingesting an archive: files and JSON Lines", text)


if __name__ == "__main__":
    main()
