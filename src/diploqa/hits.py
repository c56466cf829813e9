"""What a search returns: ranked passages (:class:`Hit`), the other printings of their
story (:class:`Copy`), and with the counts of the articles matching the question
(:class:`Answer`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .articles import Article
from .chunking import Chunk
from .fragments import text_fragment_url

if TYPE_CHECKING:
    from .matching import Matches
    from .timeline import Timeline


@dataclass(frozen=True)
class Copy:
    """Another printing of a hit's story: an article the index holds as a near-duplicate of
    the hit's (same agency story, another outlet's edit)."""

    source: str
    title: str
    outlet: str | None
    url: str | None
    date: str | None


@dataclass(frozen=True)
class Hit:
    """One ranked passage.

    Attributes:
        text: the passage.
        score: relevance, higher is better: the weighted cosine similarity of question and
            passage (e5, plus USE for the default model), plus a keyword bonus of at most 0.05.
            Comparable across questions: the web UI warns below
            ``RankingConfig.low_score_threshold``.
        source: the article id (the same value as ``Article.id`` and ``Chunk.article_id``):
            the article's path relative to its articles folder.
        title: the article's title.
        date: the article's date in ISO form of its precision (``2016``, ``2016-10``,
            ``2016-10-14``), or None; what the date filters compare.
        start: offset of the passage in the cleaned article text.
        end: offset after the passage's last character.
        outlet: the publishing outlet where known, else None.
        url: the article's address where known (header, page or record), else None.
        date_text: the date as the source wrote it ("14. Oktober 2016"), for display.
        rank: 1 for the best hit.
        highlight: ``(start, end)`` of the sentence inside ``text`` that best answers the
            question.
        duplicates: the same story in other articles (other outlets' copies), by article id;
            they are not shown as hits of their own (``RankingConfig.group_duplicates``).
    """

    text: str
    score: float
    source: str
    title: str
    date: str | None
    start: int
    end: int
    outlet: str | None = None
    url: str | None = None
    date_text: str | None = None
    rank: int = 0
    highlight: tuple[int, int] = (0, 0)
    duplicates: tuple[Copy, ...] = ()

    @property
    def highlighted_sentence(self) -> str:
        return self.text[self.highlight[0] : self.highlight[1]]

    @property
    def sentence_url(self) -> str | None:
        """:attr:`url` with a text fragment of the answer sentence (``#:~:text=…``), so that a
        browser that supports them scrolls the outlet's page to it; None without a web
        address (see :func:`~diploqa.fragments.text_fragment_url`)."""
        return text_fragment_url(self.url, self.highlighted_sentence)


@dataclass(frozen=True)
class Answer:
    """A question's hits and, where asked for, how the articles matching it spread over time
    and outlets (:meth:`diploqa.Index.ask`).

    Attributes:
        hits: the ranked passages (as :meth:`~diploqa.Index.search` returns them).
        timeline: matching articles per period, or None where not asked for.
        facets: matching articles per outlet, most first, or None where not asked for.
        matches: the articles both count, or None where neither was asked for.
    """

    hits: list[Hit] = field(default_factory=list)
    timeline: Timeline | None = None
    facets: dict[str, int] | None = None
    matches: Matches | None = None


def make_hit(
    chunk: Chunk,
    article: Article,
    score: float,
    rank: int,
    highlight: tuple[int, int],
    copies: tuple[Copy, ...],
) -> Hit:
    """The hit of a ranked passage of ``article``."""
    return Hit(
        text=chunk.text,
        score=float(score),
        source=article.id,
        title=article.title,
        date=article.date,
        start=chunk.start,
        end=chunk.end,
        outlet=article.outlet,
        url=article.url,
        date_text=article.date_text,
        rank=rank,
        highlight=highlight,
        duplicates=copies,
    )


def copy_of(article: Article) -> Copy:
    """``article`` as another printing of a hit's story."""
    return Copy(article.id, article.title, article.outlet, article.url, article.date)


def newest_first(hits: list[Hit]) -> list[Hit]:
    """``hits`` by date, newest first and undated last (a stable sort: equal dates keep their
    relevance order, and every hit keeps its relevance rank)."""
    return sorted(hits, key=lambda h: (h.date is not None, h.date or ""), reverse=True)
