"""Search quality on the seeds and the search API's contract."""

from __future__ import annotations

from dataclasses import replace

import pytest

import diploqa
from diploqa.chunking import PASSAGE
from diploqa.errors import QueryError
from diploqa.ranking import title_only_rows

LAUSANNE = "000_2ef6d3f0dcbaccb7.txt"
SOCHI = "001_50e04ee83bc37b66.txt"
ZEIT = "002_be091d36af22014c.txt"
TILLERSON = "003_fa869275608591a9.txt"
MUNICH = "004_6afb54f85d6e1e90.txt"

#: (question, the article that answers it). Half German, half English; some use English
#: spellings of names (Sochi, Lavrov, Munich), numbers, dates, and opinion vs fact.
SEED_QUESTIONS_DE = [
    ("Wer traf Lawrow in Sotschi?", SOCHI),
    ("Wer schätzte die Chance auf eine Waffenruhe auf 49 Prozent?", MUNICH),
    ("Welche Staaten nehmen an den Gesprächen in Lausanne teil?", LAUSANNE),
    ("Warum brachen die USA die Gespräche über eine Waffenruhe ab?", ZEIT),
    ("Was sagte Tillerson über die Herrschaft der Assad-Familie?", TILLERSON),
    ("Worüber telefonierten Obama und Putin?", MUNICH),
    ("Wann besuchte Kerry zuletzt Moskau vor der Ukraine-Krise?", SOCHI),
    ("Wohin verlegte Russland Iskander-Raketen?", LAUSANNE),
    ("Wann wird Mogherini in Moskau erwartet?", TILLERSON),
    ("Welche Waffen könnten die USA den syrischen Rebellen liefern?", ZEIT),
    ("Unter welcher Bedingung stellte Kerry die Aufhebung der Sanktionen in Aussicht?", SOCHI),
]
SEED_QUESTIONS_EN = [
    ("Who did Kerry meet in Sochi?", SOCHI),
    ("Who put the chance of a ceasefire at 49 percent?", MUNICH),
    ("Which countries take part in the Lausanne talks on Syria?", LAUSANNE),
    ("Why did the United States break off the ceasefire talks with Russia?", ZEIT),
    ("What did Tillerson say about Assad?", TILLERSON),
    ("What did Obama and Putin discuss on the phone?", MUNICH),
    ("Where did Russia move Iskander missiles?", LAUSANNE),
    ("When is Federica Mogherini expected in Moscow?", TILLERSON),
    ("Under which condition would the sanctions against Russia be lifted?", SOCHI),
    ("Is Kerry a dreamer or a realist, according to the commentary?", ZEIT),
    ("Who met at the Munich Security Conference?", MUNICH),
]
SEED_QUESTIONS = SEED_QUESTIONS_DE + SEED_QUESTIONS_EN


@pytest.mark.parametrize(("question", "expected"), SEED_QUESTIONS)
def test_seed_question_finds_its_article_in_top_3(seed_index, question, expected):
    hits = seed_index.search(question, k=3)
    assert expected in [h.source for h in hits], [(h.source, round(h.score, 3)) for h in hits]


def test_hit_fields(seed_index, seed_copy):
    hits = seed_index.search("Wer traf Lawrow in Sotschi?", k=5)
    assert len(hits) == 5
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = hits[0]
    assert top.source == SOCHI
    assert top.title.startswith("Kerry in Moskau")
    article = seed_index.article(top.source)
    assert article.text[top.start : top.end] == top.text
    assert 0 <= top.highlight[0] < top.highlight[1] <= len(top.text)
    assert "Sotschi" in top.highlighted_sentence
    assert 0 < top.score <= 1.0001


def test_date_comes_from_the_header(seed_index):
    hits = seed_index.search("Gespräche in Lausanne", k=1)
    assert hits[0].source == LAUSANNE
    assert hits[0].date == "2016-10"


def test_k_larger_than_index_returns_everything(seed_index):
    """Every passage but those that hold only their article's title (never ranked where the
    article has others: ``RankingConfig.skip_title_passages``)."""
    hits = seed_index.search("Syrien", k=10**6)
    title_only = title_only_rows(seed_index.stored)
    assert len(hits) == len(seed_index) - len(title_only)
    shown = {(h.source, h.start) for h in hits}
    chunks = seed_index.stored.chunks
    assert not shown & {(chunks[r].article_id, chunks[r].start) for r in title_only}


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\x00\x01", None, 42])
def test_bad_questions_are_rejected_clearly(seed_index, question):
    with pytest.raises(QueryError):
        seed_index.search(question)


@pytest.mark.parametrize("k", [0, -1, 2.5, "3", True, None])
def test_bad_k_is_rejected_clearly(seed_index, k):
    with pytest.raises(QueryError, match="k must be"):
        seed_index.search("Syrien", k=k)


@pytest.mark.parametrize(
    "question",
    ["x" * 100_000, "Was sagt Putin? 🤔🇷🇺", "<script>alert(1)</script>", "'; DROP TABLE x; --"],
)
def test_odd_questions_give_sane_results(seed_index, question):
    hits = seed_index.search(question, k=3)
    assert len(hits) == 3


def test_the_public_api(seed_index):
    """``diploqa.load_index``, ``diploqa.build_index``, ``Index.search`` and the values they
    take and give; no process-wide default index hides behind a module-level function."""
    assert {"load_index", "build_index", "Index", "Query", "Hit"} <= set(diploqa.__all__)
    assert not hasattr(diploqa, "search") and "search" not in diploqa.__all__
    query = diploqa.Query("Wer traf Lawrow in Sotschi?", k=2)
    hits = seed_index.search(query)
    assert hits == seed_index.search("Wer traf Lawrow in Sotschi?", 2)
    assert all(isinstance(h, diploqa.Hit) for h in hits) and hits[0].source == SOCHI
    with pytest.raises(TypeError, match="inside the Query"):
        seed_index.search(query, k=3)


def test_the_read_path_never_imports_the_write_pipeline():
    """Loading and searching need neither the build nor what only it uses."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import diploqa, diploqa.index, diploqa.query, diploqa.hits, diploqa.ranking\n"
        "import diploqa.highlight, diploqa.filters\n"
        "print(sorted(m for m in ('diploqa.build', 'diploqa.duplicates') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ("Wann war Kerry zuvor zuletzt in Moskau?", "Mai 2013"),
        ("When had Kerry last been to Moscow before?", "Mai 2013"),
        # "Wer …?" asks for the sentence with the name, not the one with the number
        ("Wer schätzte die Chance auf eine Feuerpause ein?", "Lawrow"),
        ("Who was asked about the chance of a ceasefire?", "Lawrow"),
        ("Wann wird Mogherini in Moskau erwartet?", "24. April"),
        ("When is Federica Mogherini expected in Moscow?", "24. April"),
    ],
)
def test_highlight_names_the_answering_sentence(seed_index, question, fragment):
    top = seed_index.search(question, k=3)[0]
    assert fragment in top.highlighted_sentence, top.highlighted_sentence


def test_sections_are_never_returned_as_hits(tmp_path, seed_copy):
    """Ranking mechanics (a section found leads to its passages): on the deterministic encoder,
    which spares embedding whole articles as sections with the real model."""
    from deterministic_encoder import DeterministicEncoder

    from diploqa.build import build
    from diploqa.chunking import PASSAGE

    encoder = DeterministicEncoder()
    chunking = diploqa.config.ChunkingConfig(section_tokens=1000)
    _, stored = build(seed_copy, tmp_path / "index", chunking=chunking, encoder=encoder)
    index = diploqa.Index(stored, encoder)
    kinds = {c.kind for c in index.stored.chunks}
    assert kinds == {"passage", "section"}
    hits = index.search("Syrien", k=len(index))
    assert len(hits) == len(index) == sum(c.kind == PASSAGE for c in index.stored.chunks)
    assert len({(h.source, h.start) for h in hits}) == len(hits)


def test_few_candidates_still_rank_consistently(seed_index):
    """With tiny candidate lists, sections found without their passages must not break
    ranking (a regression seen on XQuAD)."""
    few = seed_index.with_ranking(replace(seed_index.ranking, candidates=1))
    for question, _ in SEED_QUESTIONS:
        for k in (1, 2):
            hits = few.search(question, k=k)
            assert 1 <= len(hits) <= k
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_ranking_variants_share_the_loaded_index(seed_index):
    """Benchmarks compare rankings on one loaded index: a variant shares vectors, metadata and
    (with the same keyword settings) the keyword index; each setting takes effect."""
    seed_index.warm()
    question = "Who did Kerry meet in Sochi?"
    default = seed_index.search(question, k=5)
    dense_only = seed_index.with_ranking(
        replace(seed_index.ranking, use_weight=0.0, hybrid_weight=0.0, sections=False)
    )
    assert dense_only.stored is seed_index.stored and dense_only.lexical is seed_index.lexical
    assert dense_only.ranking.use_weight == 0.0 and seed_index.ranking.use_weight == 0.15
    plain = dense_only.search(question, k=5)
    raw = seed_index.encoder.encode_queries([question])[0][: seed_index.encoder.primary.dim]
    vectors = seed_index.stored.all_vectors()[:, : seed_index.encoder.primary.dim]
    rows = [i for i, c in enumerate(seed_index.stored.chunks) if c.kind == PASSAGE]
    best = sorted(rows, key=lambda i: -float(vectors[i] @ raw))[:5]
    assert [(h.source, h.start) for h in plain] == [
        (seed_index.stored.chunks[i].article_id, seed_index.stored.chunks[i].start) for i in best
    ]  # e5 alone, passages alone: exactly the raw model's order
    assert [h.score for h in plain] != [h.score for h in default]
    no_dictionary = seed_index.with_ranking(replace(seed_index.ranking, dictionary=False))
    assert no_dictionary.lexical is not seed_index.lexical
    loaded = diploqa.load_index(seed_index.path, ranking=dense_only.ranking)
    assert loaded.search(question, k=5) == plain


def test_keyword_index_is_built_on_first_use_or_warm(seed_index):
    index = diploqa.load_index(seed_index.path)
    assert index._lexical is None  # loading (and building) does not pay for it
    assert index.warm() is index and index._lexical is not None
    again = diploqa.load_index(seed_index.path)
    assert again.search("Wer traf Lawrow in Sotschi?", k=1) == index.search(
        "Wer traf Lawrow in Sotschi?", k=1
    )
    assert again._lexical is not None


def test_searching_imports_neither_torch_nor_sentence_transformers(seed_index):
    """The default model runs on OpenVINO alone: importing PyTorch and sentence-transformers
    costs a server seconds of its start and hundreds of MB of its memory (docs/benchmarks.md);
    the keyword index needs only bm25s's stopwords, not bm25s and scipy (0.5 s)."""
    import subprocess
    import sys

    code = (
        "import sys, diploqa\n"
        f"hits = diploqa.load_index({str(seed_index.path)!r}).search('Wer traf Lawrow?', k=3)\n"
        "assert hits and hits[0].text\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'scipy', "
        "'bm25s') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# --- The keyword index saved with the generation (cold start, issue #16) ------------------------


def _answers(index, questions) -> list:
    return [
        [(h.source, h.text, h.highlight, round(h.score, 6)) for h in index.search(q, k=5)]
        for q in questions
    ]


def test_a_loaded_index_reads_its_keyword_index_instead_of_building_it(
    built, monkeypatch, seed_index
):
    """The generation holds the build's keyword index; loading it builds nothing, and the
    answers are those of an index that builds its keyword index from the passages (an index
    written before the keyword files existed)."""
    import json

    from diploqa.lexical import KEYWORDS_FILE, Bm25Index

    _, index_dir = built
    questions = [q for q, _ in SEED_QUESTIONS_DE[:4] + SEED_QUESTIONS_EN[:4]]
    loaded = diploqa.load_index(index_dir)
    assert KEYWORDS_FILE in loaded.manifest.files

    def no_build(*_, **__):
        raise AssertionError("the keyword index was built, not read")

    with monkeypatch.context() as patch:
        patch.setattr(Bm25Index, "build", classmethod(no_build))
        _ = loaded.lexical
    saved = _answers(loaded, questions)

    manifest = index_dir / "manifest.json"
    data = json.loads(manifest.read_text())
    data["files"] = {n: h for n, h in data["files"].items() if not n.startswith("keywords.")}
    manifest.write_text(json.dumps(data))
    older = diploqa.load_index(index_dir)
    assert older.stored.saved_keywords() is None
    assert _answers(older, questions) == saved == _answers(seed_index, questions)


def test_a_damaged_keyword_file_costs_time_not_answers(built, seed_index, caplog):
    _, index_dir = built
    loaded = diploqa.load_index(index_dir)
    segment = next(n for n in loaded.manifest.files if n.startswith("keywords.seg-"))
    (index_dir / loaded.manifest.generation / segment).write_bytes(b"damaged")
    questions = [q for q, _ in SEED_QUESTIONS_DE[:3] + SEED_QUESTIONS_EN[:3]]
    with caplog.at_level("WARNING", logger="diploqa.lexical"):
        index = diploqa.load_index(index_dir)
        answers = _answers(index, questions)
    assert f"{segment} damaged" in caplog.text
    assert answers == _answers(seed_index, questions)


# --- Every parameter of a Query, from Python ----------------------------------------------------


def test_sort_by_date_keeps_the_relevance_ranks(seed_index):
    question = "Was sagte Kerry über Syrien?"
    relevant = seed_index.search(question, k=8)
    by_date = seed_index.search(question, k=8, sort="date")
    assert sorted(by_date, key=lambda h: h.rank) == relevant  # the same hits, ranks and scores
    dates = [h.date for h in by_date]
    dated = [d for d in dates if d is not None]
    assert dated == sorted(dated, reverse=True) and dates == dated + [None] * dates.count(None)
    assert [h.rank for h in by_date] != [h.rank for h in relevant]  # the seeds' dates differ
    with pytest.raises(QueryError, match="sort must be one of relevance, date"):
        seed_index.search(question, sort="newest")


def test_every_parameter_from_python(seed_index):
    question = "Was sagte Kerry?"
    outlet = seed_index.outlets()[0]
    assert {h.outlet for h in seed_index.search(question, 10, outlet=outlet)} == {outlet}
    dated = seed_index.search(diploqa.Query(question, 10, since="2016", until="2016-10"))
    assert {h.source for h in dated} == {LAUSANNE}
    found = seed_index.search(question, 10, source="00[34]_*")
    assert found and {h.source for h in found} <= {TILLERSON, MUNICH}
    one = seed_index.search(question, 8, per_article=1)
    assert len({h.source for h in one}) == len(one) > 1


def test_use_runs_only_for_questions_that_weigh_it_with_the_same_answers(seed_index, monkeypatch):
    """A question whose words are all in the archive weights USE zero and compares no sentence
    by meaning: it is not encoded by USE, and its hits are exactly those of the full path."""
    from diploqa.highlight import compares_by_meaning

    secondary = seed_index.encoder.secondary
    calls: list[list[str]] = []
    encode = secondary.encode
    monkeypatch.setattr(secondary, "encode", lambda t, *a: calls.append(list(t)) or encode(t, *a))
    questions = [q for q, _ in SEED_QUESTIONS]
    fast = {q: seed_index.search(q, k=5) for q in questions}
    asked = {c[0] for c in calls if len(c) == 1}
    skipped = [q for q in questions if q not in asked]
    for q in questions:
        lexical = seed_index.lexical.score(q)
        needed = seed_index.ranker.weighs_partner(
            seed_index.lexical, lexical
        ) or compares_by_meaning(lexical, seed_index.ranking)
        assert needed == (q in asked), q
    assert skipped and len(skipped) < len(questions)  # both paths are taken
    assert all(seed_index.lexical.score(q).coverage == 1.0 for q in skipped)
    monkeypatch.setattr(seed_index.ranker, "weighs_partner", lambda keywords, lexical: True)
    assert {q: seed_index.search(q, k=5) for q in questions} == fast
