"""A small archive for the mechanics of standing questions: the seeds and articles a test adds,
built with the deterministic encoder (milliseconds), and a matcher a test can steer.

The matcher is the real one (the whole ranking, hits and highlights made as in production)
with its rank and floor off, keeping the articles whose text holds the question's last word:
the deterministic encoder's scores mean nothing, so a test says by that word what matches.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from deterministic_encoder import DeterministicEncoder

from diploqa.alerts import Matcher
from diploqa.alerts.matching import Match
from diploqa.config import RankingConfig, Settings
from diploqa.index import Index
from diploqa.query import Query

REPO = Path(__file__).resolve().parents[2]
ENCODER = DeterministicEncoder(dim=16)
RANKING = RankingConfig(dictionary=False)

#: A story, and another outlet's copy of it (the same wording, a few words changed).
STORY = (
    "Die Außenminister Lawrow und Blinken haben sich am Freitag in Genf getroffen. Sie "
    "sprachen zwei Stunden lang über die Ukraine und die Sicherheit in Europa. Eine Einigung "
    "gab es nicht, beide Seiten wollen aber weiter miteinander verhandeln. Blinken sprach "
    "danach von einem offenen und substanziellen Austausch, Lawrow von einem konstruktiven "
    "Gespräch. Ein weiteres Treffen ist für die kommende Woche geplant."
)
COPY = STORY.replace("am Freitag", "am vergangenen Freitag").replace("zwei Stunden", "knapp "
                                                                     "zwei Stunden")  # fmt: skip
OTHER = (
    "Der Stadtrat von Reykjavík hat beschlossen, die Leuchttürme am Hafen künftig mit Solarstrom "
    "zu betreiben. Die Umrüstung soll im Frühjahr beginnen und zwei Jahre dauern."
)


def article(title: str, body: str, outlet: str = "Testzeitung", date: str = "2022-01-21") -> str:
    return f"title: {title}\ndate: {date}\nsource: {outlet}\n\n{body}\n"


class Archive:
    """An articles folder (a copy of the seeds) and its index, rebuilt on :meth:`index`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.articles = shutil.copytree(REPO / "seeds", root / "articles")
        self.index_dir = root / "index"

    def write(self, name: str, text: str) -> None:
        (self.articles / name).write_text(text, encoding="utf-8")

    def remove(self, name: str) -> None:
        (self.articles / name).unlink()

    def index(self) -> Index:
        from diploqa.build import build

        _, stored = build(self.articles, self.index_dir, encoder=ENCODER, settings=Settings())
        return Index(stored, ENCODER, RANKING)


def load(index_dir: Path) -> Index:
    """The archive's index as another process loads it."""
    from diploqa.store import open_location

    return Index(open_location(index_dir).load(), ENCODER, RANKING)


class WordMatcher(Matcher):
    """See the module: real matching, the match decided by the question's last word."""

    def __init__(self) -> None:
        super().__init__(rank=10_000, floor=-10.0, margin=0.0)

    def match(self, index: Index, queries: list[Query], article_ids) -> list[list[Match]]:
        found = super().match(index, queries, article_ids)
        return [
            [m for m in matches if _word(q) in index.article(m.article_id).text.lower()]
            for q, matches in zip(queries, found, strict=True)
        ]


def _word(query: Query) -> str:
    return query.question.split()[-1].strip("?").lower()


#: What a subprocess runs to check once, as ``diploqa alerts check`` would, on the archive.
CHECK_SCRIPT = """
import sys
from alerts_archive import WordMatcher, load
from diploqa.alerts import AlertStore
store = AlertStore(sys.argv[1], allow_private_webhooks=True)
print(store.check(load(sys.argv[2]), WordMatcher()).summary())
"""


def check_command(alerts: Path, index_dir: Path) -> list[str]:
    return [sys.executable, "-c", CHECK_SCRIPT, str(alerts), str(index_dir)]


def subprocess_env(**extra: str) -> dict[str, str]:
    import os

    paths = [str(REPO / "tests" / "alerts"), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": ":".join(p for p in paths if p), **extra}
