"""Proxy questions from the archive (``--from-archive``): made on the seeds, their own
passages out of reach of the search."""

from __future__ import annotations

import hashlib
import json

from deterministic_encoder import DeterministicEncoder

from diploqa import config
from diploqa.articles import Article
from diploqa.chunking import PASSAGE, SECTION, Chunk
from diploqa.cli import main
from diploqa.evaluation import evaluate, proxy_questions
from diploqa.index import Index
from diploqa.query import Query
from diploqa.store import Manifest, StoredIndex
from diploqa.store.faiss import FaissStore


def test_proxy_questions_of_the_seeds(seed_index):
    questions = proxy_questions(seed_index, sample=3, seed=1)
    assert questions == proxy_questions(seed_index, sample=3, seed=1)  # seeded
    assert questions != proxy_questions(seed_index, sample=3, seed=2)
    assert all(q.proxy and len(q.relevant) == 1 for q in questions)
    articles = {q.relevant[0] for q in questions}
    assert len(articles) == 3
    kinds = sorted(q.lang for q in questions)
    assert kinds == ["de headline"] * 3 + ["de sentence"] * 3
    chunks = seed_index.stored.chunks
    for q in questions:
        article = seed_index.article(q.relevant[0])
        if q.lang.endswith("headline"):
            assert q.question == " ".join(article.title.split())
        else:
            assert q.question in " ".join(article.text.split())
            # every passage holding the sentence is left out, and only those
            holding = {i for i, c in enumerate(chunks) if q.question in " ".join(c.text.split())}
            assert holding and q.left_out == holding
            assert any(
                c.article_id == article.id and c.kind == PASSAGE and i not in q.left_out
                for i, c in enumerate(chunks)
            )
    assert len(proxy_questions(seed_index, sample=50)) == 10  # five articles, two each


def test_a_left_out_passage_never_answers(seed_index):
    question = next(q for q in proxy_questions(seed_index, 5) if q.lang == "de sentence")
    plain = seed_index.search(question.question, k=30)
    assert any(
        seed_index.stored.chunks.index(_chunk_of(seed_index, h)) in question.left_out
        for h in plain[:1]
    )  # asked plainly, the passage holding the sentence comes first
    hits = seed_index.search_without(Query(question.question, k=30), question.left_out)
    rows = {seed_index.stored.chunks.index(_chunk_of(seed_index, h)) for h in hits}
    assert rows and not rows & question.left_out
    assert len(hits) == len(plain) - len(question.left_out)


def _chunk_of(index, hit):
    return next(
        c for c in index.stored.chunks if c.article_id == hit.source and c.start == hit.start
    )


def _index(articles: dict[str, list[str]]) -> Index:
    """A FAISS index of articles given as passages, each with its section (the whole text)."""
    encoder = DeterministicEncoder(dim=16)
    items, chunks = [], []
    for aid, passages in articles.items():
        text = " ".join(passages)
        items.append(
            Article(aid, aid, text, None, None, None, hashlib.sha256(text.encode()).hexdigest())
        )
        start = 0
        for n, passage in enumerate(passages):
            chunks.append(Chunk(aid, n, start, start + len(passage), passage))
            start += len(passage) + 1
        chunks.append(Chunk(aid, 0, 0, len(text), text, SECTION))
    vectors = FaissStore.from_vectors(encoder.encode_passages([c.text for c in chunks]), 16)
    manifest = Manifest(
        format_version=config.INDEX_FORMAT_VERSION, generation="gen-000001",
        model=encoder.model_id, backend=encoder.backend, dimension=16, files={},
        articles={a.id: a.content_hash for a in items}, chunking={}, n_chunks=len(chunks),
    )  # fmt: skip
    stored = StoredIndex(None, manifest, vectors, {a.id: a for a in items}, chunks)
    return Index(stored, encoder, config.RankingConfig(dictionary=False))


def test_a_left_out_section_lifts_no_passage():
    """A section holds its whole article: left out, it may not lift the article's other
    passages (it is linked to them, and linked chunks join the candidates)."""
    index = _index({"a.txt": ["Erster Teil.", "Zweiter Teil."], "b.txt": ["Anderes.", "Mehr."]})
    section = next(i for i, c in enumerate(index.stored.chunks) if c.kind == SECTION)
    whole = index.stored.chunks[section].text
    assert index.search(whole, k=1)[0].score >= 1.0  # lifted by its section (plus BM25's bonus)
    hits = index.search_without(Query(whole, k=4), {section})
    assert {h.source for h in hits} == {"a.txt", "b.txt"}
    assert max(h.score for h in hits) < 0.9


def test_cli_from_archive_says_they_are_proxies(built, capsys, tmp_path):
    _, index_dir = built
    out = tmp_path / "proxy.json"
    assert main(["eval", "--from-archive", "--sample", "2", "--index", str(index_dir),
                 "--json", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "4 proxy questions from 2 articles" in text
    assert "PROXY QUESTIONS, made from the archive itself" in text
    assert "de headline" in text and "de sentence" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["proxy"] is True and data["overall"]["n"] == 4
    assert set(data["by_lang"]) == {"de headline", "de sentence"}


def test_proxy_report_is_marked(seed_index):
    report = evaluate(seed_index, proxy_questions(seed_index, 2))
    assert report.proxy and report.overall.metrics["answer sentence"].n == 0
