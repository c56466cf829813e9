"""How much of a saved news page's main text the HTML reader keeps and how much boilerplate it
lets through, for trafilatura settings side by side (numbers in docs/formats.md).

Pages: the hand-marked saved pages in ``tests/articles/pages/`` (``expected.json``), and, with
``--data``, the same three page templates filled with German Wikinews articles (title and
paragraphs swapped in; by path, never copied), so that the main text is real news prose. The
boilerplate of the templated pages is the templates', so those numbers weigh three page
structures, not a sample of the web.

Main text kept: characters of main paragraphs that come out as a paragraph of their own (or
inside one). Boilerplate through: characters of boilerplate items that come out as a
paragraph of their own or, 30 characters and longer, anywhere.

Usage: ``python benchmarks/html_extraction.py [--data ../shared/data/news_de] [--articles 40]``
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from diploqa.articles import html as reader
from diploqa.articles.html import HtmlReader, decode_html

PAGES = Path(__file__).resolve().parents[1] / "tests" / "articles" / "pages"
SETTINGS: dict[str, dict] = {
    "default": {},
    "favor_precision": {"favor_precision": True},
    "favor_recall": {"favor_recall": True},
    "fast + favor_precision": {"fast": True, "favor_precision": True},
}


def load_pages() -> list[tuple[str, str, dict]]:
    """(name, markup, expected) of the hand-marked pages."""
    expected = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
    return [
        (name, decode_html((PAGES / name).read_bytes()), value)
        for name, value in expected.items()
        if not name.startswith("_")
    ]


def templated(pages: list[tuple[str, str, dict]], data: Path, n: int) -> list:
    """The pages with their title and main paragraphs replaced by Wikinews articles'."""
    path = data / "dewikinews_quotes" / "articles.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records = [r for r in records if r["text"].count("\n\n") >= 2][:n]
    out = []
    for i, record in enumerate(records):
        name, markup, expected = pages[i % len(pages)]
        title = " ".join(record["title"].split())
        paragraphs = [" ".join(p.split()) for p in record["text"].split("\n\n") if p.strip()]
        old_main = expected["main"][1:]
        if len(paragraphs) > len(old_main):  # the rest joins the last paragraph
            paragraphs[len(old_main) - 1 :] = [" ".join(paragraphs[len(old_main) - 1 :])]
        new_main = paragraphs + [""] * (len(old_main) - len(paragraphs))
        page = markup.replace("<b>", "").replace("</b>", "")  # paragraphs as in expected.json
        page = page.replace(expected["title"], html.escape(title, quote=False))
        for old, new in zip(old_main, new_main, strict=True):
            page = page.replace(old, html.escape(new, quote=False))
        main = [title] + [p for p in new_main if p]
        out.append((f"wikinews-{i}-{name}", page, {**expected, "main": main, "title": title}))
    return out


def score(text: str, expected: dict) -> tuple[int, int, int, int]:
    """(main characters kept, main characters, boilerplate characters through, boilerplate
    characters)."""
    paragraphs = [p for p in text.split("\n\n") if p]
    kept = sum(len(m) for m in expected["main"] if any(m in p for p in paragraphs))
    through = sum(
        len(b) for b in expected["boilerplate"] if b in paragraphs or (len(b) >= 30 and b in text)
    )
    return (
        kept,
        sum(map(len, expected["main"])),
        through,
        sum(map(len, expected["boilerplate"])),
    )


def run(pages: list, extract: Callable[[str], str]) -> dict:
    totals = [0, 0, 0, 0]
    seconds = 0.0
    for _, markup, expected in pages:
        started = time.perf_counter()
        text = extract(markup)
        seconds += time.perf_counter() - started
        totals = [a + b for a, b in zip(totals, score(text, expected), strict=True)]
    return {
        "main_kept": round(totals[0] / totals[1], 3),
        "boilerplate_through": round(totals[2] / totals[3], 3),
        "ms_per_page": round(1000 * seconds / len(pages), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--articles", type=int, default=40)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import trafilatura

    pages = load_pages()
    sets = {"hand-marked pages (3)": pages}
    if args.data:
        filled = templated(pages, args.data, args.articles)
        sets[f"templates × Wikinews ({len(filled)})"] = filled
    base = {"include_comments": False, "with_metadata": True, "deduplicate": False}

    def bare(options: dict) -> Callable[[str], str]:
        def extract(markup: str) -> str:
            document = trafilatura.bare_extraction(markup, **base, **options)
            text = (document.text if document else "") or ""
            return "\n\n".join(line for line in text.split("\n") if line.strip())

        return extract

    def full(options: dict) -> Callable[[str], str]:
        def extract(markup: str) -> str:
            reader.EXTRACTION.clear()
            reader.EXTRACTION.update({**base, "include_tables": True, **options})
            try:
                return HtmlReader().read(markup.encode("utf-8"), "x.html")[0].text
            except Exception:
                return ""

        return extract

    results = {}
    for set_name, set_pages in sets.items():
        for name, options in SETTINGS.items():
            results[(set_name, "trafilatura", name)] = run(set_pages, bare(options))
            results[(set_name, "HtmlReader", name)] = run(set_pages, full(options))
    print("| pages | pipeline | settings | main text kept | boilerplate through | ms/page |")
    print("|---|---|---|---|---|---|")
    for (set_name, pipeline, name), r in results.items():
        print(
            f"| {set_name} | {pipeline} | {name} | {r['main_kept']:.3f} | "
            f"{r['boilerplate_through']:.3f} | {r['ms_per_page']} |"
        )


if __name__ == "__main__":
    main()
