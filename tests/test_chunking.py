"""Chunking: token budgets, exact offsets, sentence-aware splits, sections."""

from __future__ import annotations

import itertools

import pytest
from conftest import SEEDS

from diploqa.articles import load_articles, parse_article
from diploqa.chunking import (
    PASSAGE,
    SECTION,
    check_chunking,
    chunk_articles,
    make_splitter,
    parse_chunking,
    passage_for_embedding,
)
from diploqa.config import ChunkingConfig
from diploqa.encoders import E5_PROMPTS
from diploqa.errors import SettingsError


@pytest.fixture(scope="module")
def seed_chunks(embedder):
    articles, _ = load_articles(SEEDS)
    return articles, chunk_articles(articles, embedder.count_tokens, ChunkingConfig())


def test_offsets_point_into_the_cleaned_text(seed_chunks):
    articles, chunks = seed_chunks
    by_id = {a.id: a for a in articles}
    for chunk in chunks:
        assert by_id[chunk.article_id].text[chunk.start : chunk.end] == chunk.text


def test_passages_respect_the_token_budget(seed_chunks, embedder):
    articles, chunks = seed_chunks
    by_id = {a.id: a for a in articles}
    cfg = ChunkingConfig()
    for chunk in chunks:
        limit = cfg.chunk_tokens if chunk.kind == PASSAGE else cfg.section_tokens
        assert embedder.count_tokens(chunk.text) <= limit
        embedded = E5_PROMPTS["document"] + passage_for_embedding(by_id[chunk.article_id], chunk)
        assert embedder.count_tokens(embedded) + 2 < 512  # never truncated by the model


def test_passages_cover_every_article_in_order(seed_chunks):
    articles, chunks = seed_chunks
    for article in articles:
        own = [c for c in chunks if c.article_id == article.id and c.kind == PASSAGE]
        assert [c.index for c in own] == list(range(len(own)))
        assert own[0].start == 0 and own[-1].end == len(article.text)
        for a, b in itertools.pairwise(own):
            assert a.start < b.start <= a.end + 2  # overlapping or adjacent, no gap


def test_sections_only_for_short_articles_of_several_passages(embedder):
    short = parse_article("Kurz.\n\nLawrow traf Kerry in Genf.", "short.txt")
    paragraph = "Absatz {}: Lawrow und Kerry sprachen in Genf über Syrien und die Ukraine. "
    medium = parse_article("\n\n".join(paragraph.format(i) * 2 for i in range(9)), "medium.txt")
    long = parse_article("\n\n".join(paragraph.format(i) * 2 for i in range(40)), "long.txt")
    assert 160 < embedder.count_tokens(medium.text) <= 400 < embedder.count_tokens(long.text)
    chunks = chunk_articles([short, medium, long], embedder.count_tokens, ChunkingConfig())
    sections = [c for c in chunks if c.kind == SECTION]
    assert [(c.article_id, c.start, c.end) for c in sections] == [
        ("medium.txt", 0, len(medium.text))
    ]
    assert sum(c.article_id == "long.txt" for c in chunks) > 2
    no_sections = chunk_articles([medium], embedder.count_tokens, ChunkingConfig(section_tokens=0))
    assert {c.kind for c in no_sections} == {PASSAGE}


def test_sentence_splits_avoid_ordinals(embedder):
    sentence = "Seit Abbruch der Gespräche am 3. Oktober sitzen sie wieder an einem Tisch. "
    article = parse_article("Titel\n\n" + sentence * 30, "a.txt")
    chunks = chunk_articles([article], embedder.count_tokens, ChunkingConfig(section_tokens=0))
    assert len(chunks) > 1
    for chunk in chunks[1:]:
        assert not chunk.text.startswith("Oktober")
        assert chunk.text.startswith("Titel") or chunk.text.startswith("Seit")


def test_title_is_prepended_once(seed_chunks):
    articles, chunks = seed_chunks
    article = next(a for a in articles if a.id.startswith("003"))
    own = [c for c in chunks if c.article_id == article.id]
    assert passage_for_embedding(article, own[0]) == own[0].text  # starts with the title
    assert passage_for_embedding(article, own[1]).startswith(article.title + "\n\n")


def test_each_piece_is_measured_once_and_the_chunks_are_the_same(embedder):
    """The splitter asks for a piece's length more than once; the tokenizer runs once each."""
    articles, _ = load_articles(SEEDS)
    asked: list[str] = []

    def counting(text: str) -> int:
        asked.append(text)
        return embedder.count_tokens(text)

    cfg = ChunkingConfig()
    chunks = chunk_articles(articles, counting, cfg)
    assert len(asked) == len(set(asked))
    plain = make_splitter(embedder.count_tokens, cfg.chunk_tokens, cfg.overlap_tokens)
    pieces = [piece for article in articles for piece in plain.split_text(article.text)]
    assert [c.text for c in chunks if c.kind == PASSAGE] == pieces


@pytest.mark.parametrize(
    ("text", "expected"),
    [("96/24", (96, 24)), ("96", (96, 19)), (" 160/32 ", (160, 32)), ("448/0", (448, 0))],
)
def test_passage_sizes_from_the_command_line(text, expected):
    assert parse_chunking(text) == ChunkingConfig(*expected)


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (ChunkingConfig(15, 0), "16 to 448 tokens long, not 15"),
        (ChunkingConfig(449, 32), "16 to 448 tokens long, not 449"),
        (ChunkingConfig(96, 49), "may overlap by 0 to 48, not 49"),
        (ChunkingConfig(96, 24, -1), "section_tokens must be 0 or more"),
        (ChunkingConfig(96.0, 24), "whole numbers of tokens"),
        (ChunkingConfig(True, 0), "whole numbers of tokens"),
    ],
)
def test_passage_sizes_a_build_cannot_cut_with(cfg, message):
    with pytest.raises(SettingsError, match=message):
        check_chunking(cfg)
    assert check_chunking(ChunkingConfig()) == ChunkingConfig()
