"""English spellings of names in questions → the German ones."""

from __future__ import annotations

import pytest
from keyword_samples import PASSAGES

from diploqa.lexical import NAME_SPELLINGS, Bm25Index
from diploqa.lexical.spellings import german_spelling, read_spellings


def test_english_spellings_are_mapped_to_german_ones():
    bm25 = Bm25Index.build(PASSAGES)
    result = bm25.score("Lavrov in Sochi")
    assert int(result.scores.argmax()) == 0
    result = bm25.score("ceasefire talks in Munich")
    assert int(result.scores.argmax()) == 1


def test_the_table_is_read_from_its_data_file():
    assert NAME_SPELLINGS["lavrov"] == "lawrow" and german_spelling("kyiv") == "kiew"
    assert german_spelling("berlin") == "berlin"  # a word without another spelling
    assert len(NAME_SPELLINGS) == 36 and not any(k.startswith("#") for k in NAME_SPELLINGS)
    assert all(k == k.lower() and v == v.lower() for k, v in NAME_SPELLINGS.items())


def test_a_malformed_line_is_refused_with_its_line_number(tmp_path):
    path = tmp_path / "spellings.tsv"
    path.write_text("# a comment\nlavrov\tlawrow\nsochi sotschi\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"spellings\.tsv:3: not two tab-separated words"):
        read_spellings(path)
    path.write_text("# a comment\nlavrov\tlawrow\n\nsochi\tsotschi\n", encoding="utf-8")
    assert read_spellings(path) == {"lavrov": "lawrow", "sochi": "sotschi"}
