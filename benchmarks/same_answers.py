"""Do two diploqa trees give the same answers? (A change that should not move the ranking.)

Each tree runs in its own process on its own copy of one index (an index in the format that
tree writes), answering the same questions: 150 German and 150 English XQuAD questions and a
few news questions. It prints how many top-10 lists are the same, with scores (5 decimals) and
highlights, and the largest score difference.

Usage: ``python benchmarks/same_answers.py --src-before <old tree>/src --index-before <index
in its format> --index <the same index in this tree's format> [--xquad ../shared/data/xquad]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_ANSWER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import diploqa
index = diploqa.load_index(sys.argv[2])
questions = json.load(open(sys.argv[3]))
answers = [
    [(h.source, round(h.score, 5), h.highlight) for h in index.search(q, k=10)]
    for q in questions
]
json.dump({"module": diploqa.__file__, "answers": answers}, open(sys.argv[4], "w"))
"""

NEWS_QUESTIONS = [
    "Wer traf Lawrow in Sotschi?",
    "Sanktionen gegen Russland",
    "Was sagte Merkel über Flüchtlinge?",
    "Fußball Bundesliga Bayern München",
    "Wahl in Österreich",
]


def questions(xquad: Path, n: int = 150) -> list[str]:
    out = []
    for language in ("de", "en"):
        data = json.loads((xquad / f"xquad.{language}.json").read_text(encoding="utf-8"))
        found = [q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]
        out += found[:n]
    return out + NEWS_QUESTIONS


def answers(src: Path, index: Path, asked: Path, folder: Path) -> list:
    out = folder / f"answers-{abs(hash((src, index)))}.json"
    cmd = [sys.executable, "-c", _ANSWER, str(src), str(index), str(asked), str(out)]
    subprocess.run(cmd, check=True, cwd=folder)
    result = json.loads(out.read_text())
    print(f"{result['module']} on {index}: {len(result['answers'])} questions", flush=True)
    return result["answers"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src-before", type=Path, required=True)
    parser.add_argument("--index-before", type=Path, required=True)
    parser.add_argument("--src", type=Path, default=REPO / "src")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--xquad", type=Path, default=REPO.parent / "shared/data/xquad")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        asked = folder / "questions.json"
        asked.write_text(json.dumps(questions(args.xquad)))
        before = answers(args.src_before.resolve(), args.index_before.resolve(), asked, folder)
        after = answers(args.src.resolve(), args.index.resolve(), asked, folder)
    pairs = list(zip(before, after, strict=True))
    sources = sum([h[0] for h in a] == [h[0] for h in b] for a, b in pairs)
    identical = sum(a == b for a, b in pairs)
    largest = max(
        (abs(x[1] - y[1]) for a, b in pairs for x, y in zip(a, b, strict=False)), default=0.0
    )
    print(
        f"{len(pairs)} questions: same top-10 sources {sources}, identical with scores and "
        f"highlights {identical}; largest score difference {largest:.5f}"
    )
    highlights = sum(
        x[0] == y[0] and x[2] != y[2] for a, b in pairs for x, y in zip(a, b, strict=False)
    )
    print(f"hits at the same rank with another highlight: {highlights}")
    for number, (a, b) in enumerate(pairs):
        rank = next((r for r, (x, y) in enumerate(zip(a, b, strict=False)) if x[0] != y[0]), None)
        if rank is None:
            continue
        # where the orders part, and how far below it the hit now there was before
        later = [h[1] for h in a[rank:] if h[0] == b[rank][0]]
        gap = a[rank][1] - later[0] if later else float("nan")
        print(f"  question {number}: from rank {rank + 1}: before {a[rank][0]} {a[rank][1]}, "
              f"now {b[rank][0]} {b[rank][1]}; the two were {gap:.5f} apart before")  # fmt: skip


if __name__ == "__main__":
    main()
