"""Articles → passages (chunks) with character offsets into the cleaned article text.

Two granularities are embedded. *Passages* (about 160 tokens) are what a user reads and what a
question's answer is pinned to. A *section* is the whole article as one more vector, for
articles that span several passages but still fit the model's window (up to 400 tokens): a
question often spans two passages, and the whole then matches better than either half. A
passage is ranked by the better of its own score and its section's (see :mod:`diploqa.ranking`);
sections are never shown. Long articles get no section: on long news (NTREX) 400-token slices
of an article ranked worse than passages alone (docs/quality.md).

Chunks are measured in *model tokens* (LangChain's ``RecursiveCharacterTextSplitter`` with the
model's tokenizer as length function), so a chunk never exceeds the model's 512-token window,
whatever the language. Split points prefer paragraphs, then sentence ends, then clauses, then
words: a passage shown to a user starts and ends where a reader expects.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .articles import Article
from .config import ChunkingConfig
from .errors import SettingsError
from .sentences import SENTENCE_BREAK

if TYPE_CHECKING:  # LangChain is imported when a build first splits: a server that only
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # answers never does

#: Break points, best first: paragraphs, lines, sentences (:mod:`diploqa.sentences`), clauses,
#: words.
SEPARATORS = (
    r"\n\n",
    r"\n",
    SENTENCE_BREAK,
    r"(?<=[;:])\s+",
    r"(?<=,)\s+",
    r"\s+",
    r"",
)


PASSAGE = "passage"
SECTION = "section"

#: The shortest and the longest passage a build cuts (the longest leaves room for the prompt
#: and the title in the model's 512 tokens).
MIN_CHUNK_TOKENS, MAX_CHUNK_TOKENS = 16, 448


def check_chunking(cfg: ChunkingConfig) -> ChunkingConfig:
    """``cfg`` if a build can cut with it, else :class:`~diploqa.errors.SettingsError` naming
    what is wrong: whole numbers of tokens, passages of :data:`MIN_CHUNK_TOKENS` to
    :data:`MAX_CHUNK_TOKENS`, overlapping by at most half their length."""
    sizes = cfg.as_dict()
    if not all(type(v) is int for v in sizes.values()):
        raise SettingsError(f"passage sizes must be whole numbers of tokens, not {sizes}")
    if not MIN_CHUNK_TOKENS <= cfg.chunk_tokens <= MAX_CHUNK_TOKENS:
        raise SettingsError(
            f"passages must be {MIN_CHUNK_TOKENS} to {MAX_CHUNK_TOKENS} tokens long, "
            f"not {cfg.chunk_tokens}"
        )
    if not 0 <= cfg.overlap_tokens <= cfg.chunk_tokens // 2:
        raise SettingsError(
            f"passages of {cfg.chunk_tokens} tokens may overlap by 0 to "
            f"{cfg.chunk_tokens // 2}, not {cfg.overlap_tokens}"
        )
    if cfg.section_tokens < 0:
        raise SettingsError(f"section_tokens must be 0 or more, not {cfg.section_tokens}")
    return cfg


def parse_chunking(text: str) -> ChunkingConfig:
    """``TOKENS`` or ``TOKENS/OVERLAP`` (``diploqa index --passages 96/24``), checked; without
    an overlap a fifth of the length, as in the default 160/32."""
    tokens, _, overlap = text.strip().partition("/")
    try:
        length = int(tokens)
        cfg = ChunkingConfig(length, int(overlap) if overlap else length // 5)
    except ValueError:
        raise SettingsError(
            f"passages are TOKENS or TOKENS/OVERLAP in model tokens (e.g. 96/24), not {text!r}"
        ) from None
    return check_chunking(cfg)


@dataclass(frozen=True)
class Chunk:
    """One passage (or section) of an article.

    Attributes:
        article_id: the article id, the same value as ``Article.id`` and ``Hit.source``.
        index: position of the chunk among its article's chunks of the same kind (0-based).
        start: offset of the first character in ``Article.text``.
        end: offset after the last character (``text == article.text[start:end]``).
        text: the passage itself.
        kind: ``"passage"`` (shown to users) or ``"section"`` (a wider window, for ranking).
    """

    article_id: str
    index: int
    start: int
    end: int
    text: str
    kind: str = PASSAGE


#: Texts whose token counts :func:`chunk_articles` remembers (pieces repeat within an article).
COUNT_CACHE = 1024


def make_splitter(
    count_tokens: Callable[[str], int], chunk_tokens: int, overlap_tokens: int
) -> RecursiveCharacterTextSplitter:
    """A LangChain splitter that measures length in tokens of the embedding model."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        separators=list(SEPARATORS),
        is_separator_regex=True,
        keep_separator="end",
        chunk_size=chunk_tokens,
        chunk_overlap=overlap_tokens,
        length_function=count_tokens,
        strip_whitespace=True,
    )


def chunk_article(
    article: Article, splitter: RecursiveCharacterTextSplitter, kind: str = PASSAGE
) -> list[Chunk]:
    """Split one article; each chunk records where it sits in ``article.text``."""
    chunks: list[Chunk] = []
    cursor = 0
    for piece in splitter.split_text(article.text):
        # Chunks come in order and may overlap, so each one starts at or after the previous
        # start: searching from there finds the right occurrence even for repeated sentences.
        start = article.text.find(piece, cursor)
        if start < 0:  # cannot happen for exact substrings; fail loudly rather than lie
            raise ValueError(f"{article.id}: chunk not found in article text")
        chunks.append(Chunk(article.id, len(chunks), start, start + len(piece), piece, kind))
        cursor = start + 1
    return chunks


def chunk_articles(
    articles: Iterable[Article], count_tokens: Callable[[str], int], cfg: ChunkingConfig
) -> list[Chunk]:
    """Passages of every article, each followed by its section (the whole article) if any.

    The splitter measures each piece more than once (a piece, then the pieces it merges):
    counts are remembered for the last :data:`COUNT_CACHE` texts, so the tokenizer reads
    each piece of an article once."""
    count_tokens = functools.lru_cache(maxsize=COUNT_CACHE)(count_tokens)
    passages = make_splitter(count_tokens, cfg.chunk_tokens, cfg.overlap_tokens)
    out: list[Chunk] = []
    for article in articles:
        own = chunk_article(article, passages)
        out += own
        if len(own) > 1 and count_tokens(article.text) <= cfg.section_tokens:
            out.append(Chunk(article.id, 0, 0, len(article.text), article.text, SECTION))
    return out


def passage_for_embedding(article: Article, chunk: Chunk) -> str:
    """The text the model embeds for a chunk: the article title gives every passage its topic.

    A passage from the middle of an article often never names what it is about ("Er traf ihn am
    Sonntag."); the headline does. The title is left out when the chunk already starts with it.
    """
    if not article.title or chunk.text.startswith(article.title):
        return chunk.text
    return f"{article.title}\n\n{chunk.text}"


def passages_for_embedding(articles: Mapping[str, Article], chunks: Iterable[Chunk]) -> list[str]:
    """:func:`passage_for_embedding` of each chunk, its article looked up by id (what a build
    embeds, and what the keyword index scores)."""
    return [passage_for_embedding(articles[c.article_id], c) for c in chunks]
