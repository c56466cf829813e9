"""``diploqa eval``: the command's arguments and what it runs (:mod:`diploqa.cli` registers it).

Imports nothing heavy until it runs: ``diploqa --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DiploqaError

if TYPE_CHECKING:
    from ..config import Settings
    from ..index import Index

#: Articles ``--from-archive`` samples unless ``--sample`` says otherwise (as :mod:`.proxy`).
SAMPLE = 100

DESCRIPTION = """\
Measure how well the index answers a set of questions: R@1, R@5, MRR@10 and nDCG@10 at the
article level, and how often the highlighted sentence of the first relevant hit contains the
answer, with 95 % bootstrap intervals, per question language and overall; then the questions
answered worst and what came first instead.

QUESTIONS is a JSON Lines file, one question a line:
  {"question": "Wer traf Lawrow in Sotschi?", "relevant": ["001_50e04ee83bc37b66.txt"],
   "answer": "Kerry", "lang": "de"}
"relevant" holds the ids of the articles that answer (as `diploqa search` shows them: the
path relative to the articles folder); "answer" and "lang" are optional.

Without questions, --from-archive makes proxy questions from the archive itself (headlines
and body sentences of sampled articles, their own passages left out of the search).
"""


def add_eval_parser(
    sub: argparse._SubParsersAction, positive_int: Callable[[str], int], store_help: str
) -> None:
    """The ``eval`` subcommand's arguments."""
    p = sub.add_parser(
        "eval",
        help="measure how well the index answers a question set (or proxy questions)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("questions", nargs="?", type=Path, help="questions file (JSON Lines)")
    p.add_argument(
        "--from-archive",
        action="store_true",
        help="no questions file: ask proxy questions made from the archive's own articles",
    )
    p.add_argument(
        "--sample",
        type=positive_int,
        default=None,
        help=f"with --from-archive: articles to make questions from ({SAMPLE})",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and the intervals (0)")
    p.add_argument("--index", type=Path, default=None, help="index folder (./index)")
    p.add_argument("--store", default=None, help=store_help)
    p.add_argument("-k", type=positive_int, default=10, help="articles per question (10)")
    p.add_argument(
        "--compare",
        metavar="KEY=V1,V2",
        default=None,
        help="run the questions under each setting on the same index and show them side by "
        "side: dictionary=on,off or ranking.FIELD=V1,V2 (one value: the current one beside it)",
    )
    p.add_argument(
        "--against",
        type=Path,
        metavar="INDEX",
        default=None,
        help="another index folder of the same articles (other --passages, another model): "
        "both side by side, --index the baseline",
    )
    p.add_argument("--json", type=Path, metavar="OUT", default=None, help="also write JSON here")
    p.add_argument(
        "--worst", type=int, default=5, metavar="N", help="show the N worst questions (5; 0: none)"
    )


def _check(args: argparse.Namespace) -> None:
    if (args.questions is None) == (not args.from_archive):
        raise DiploqaError("give a questions file or --from-archive (one of the two)")
    if args.sample is not None and not args.from_archive:
        raise DiploqaError("--sample works with --from-archive only")
    if args.worst < 0:
        raise DiploqaError(f"--worst must be 0 or more, not {args.worst}")
    if args.json is not None and not args.json.parent.is_dir():
        raise DiploqaError(f"--json: no folder {args.json.parent} to write {args.json.name} in")
    if args.questions is not None and not args.questions.is_file():
        raise DiploqaError(f"{args.questions}: no such questions file")
    if args.against is not None and (args.compare or args.from_archive):
        other = "--compare" if args.compare else "--from-archive"
        raise DiploqaError(f"--against takes a questions file and no {other}")


def _dictionary_line(index: Index) -> str:
    from ..dictionary import shared_dictionary

    found = shared_dictionary(index.dictionary) if index.ranking.dictionary else None
    if found is None:
        return "dictionary: none (English question words are not translated for keywords)"
    return f"dictionary: {index.dictionary.path}"


def _against(folder: Path, index: Index, settings: Settings) -> Index:
    """The index ``--against`` names: a FAISS folder, not the one ``--index`` loaded."""
    from ..index import load_index

    if folder.resolve() == Path(index.path).resolve():
        raise DiploqaError(f"--against names the index itself ({folder}): name another one")
    return load_index(folder, settings=settings)


def _labels(*folders: str | Path) -> list[str]:
    """Names for indexes side by side: their folders' names where those differ (a table
    stays readable), else their paths."""
    names = [Path(folder).name for folder in folders]
    return names if len(set(names)) == len(names) else [str(folder) for folder in folders]


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """``diploqa eval``: print the tables (and write ``--json``); 0 when done."""
    from tqdm import tqdm

    from ..config import RankingConfig
    from ..index import load_index
    from . import compare, compare_indexes, evaluate, proxy_questions
    from .text import comparison_text, report_text
    from .variants import parse_variants

    _check(args)
    if args.compare:
        parse_variants(args.compare, RankingConfig())  # a bad specification fails before loading
    if args.against is not None and settings.store.is_milvus:
        raise DiploqaError("--against compares index folders: leave out --store (FAISS)")
    index = load_index(settings=settings)
    against = _against(args.against, index, settings) if args.against else None
    if args.from_archive:
        questions = proxy_questions(index, args.sample or SAMPLE, args.seed)
        if not questions:
            raise DiploqaError("the archive has no article of two or more passages to ask about")
        articles = len({q.relevant[0] for q in questions})
        source = f"{len(questions)} proxy questions from {articles} articles"
    else:
        questions, source = args.questions, str(args.questions)
    print(
        f"diploqa eval: {source}; index {index.path} ({len(index.stored.articles)} articles, "
        f"{len(index)} passages); {_dictionary_line(index)}",
        flush=True,
    )
    bar = tqdm(unit="question", file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        if against is not None:
            indexes = dict(zip(_labels(index.path, against.path), (index, against), strict=True))
            result = compare_indexes(indexes, questions, k=args.k, seed=args.seed,
                                     progress=progress)  # fmt: skip
            print("\n" + comparison_text(result, args.worst))
        elif args.compare:
            result = compare(index, questions, args.compare, k=args.k, seed=args.seed,
                             progress=progress)  # fmt: skip
            print("\n" + comparison_text(result, args.worst))
        else:
            result = evaluate(index, questions, k=args.k, seed=args.seed, progress=progress)
            print("\n" + report_text(result, args.worst))
    finally:
        bar.close()
    if args.json is not None:
        text = json.dumps(result.as_dict(args.worst), ensure_ascii=False, indent=2)
        args.json.write_text(text + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0
