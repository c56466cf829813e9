"""The default model's tokenizer on sentencepiece gives the ids of its ``tokenizer.json``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diploqa.encoders import materialize_e5_small
from diploqa.encoders.openvino import calibration_texts
from diploqa.encoders.xlmr_tokenizer import SentencePieceTokenizer, sentencepiece_files

REPO = Path(__file__).resolve().parents[2]
EDGE_CASES = [
    "",
    " ",
    "  leading  and   trailing  ",
    "\ufeffEin Text mit Byte-Order-Mark",
    "tab\there\nnew line\r\nand\u00a0no-break\u2009thin space",
    "ｆｕｌｌｗｉｄｔｈ ① ﬁ Straße ß Ⅻ ½ ㎞ ℃ ¼",
    "Emoji 😀🇩🇪 and rare scripts 𓀀 ꙮ ᚠ and \u200b zero width \u200d joiner",
    "query: Wer traf Lawrow in Sotschi?",
    "passage: Die EU verlängert die Sanktionen gegen Russland – Öl, Gas, Banken.",
    "ALL CAPS, numbers 1.234,56 € and 2016-10-14, URLs https://example.org/a?b=c",
    "日本語のテキストと中文文本와 한국어",
    "Ελληνικά, русский текст, العربية, עברית",
    "~～≈ ＃＄％",
    "<s>",  # special tokens written in a text are those tokens (hypothesis found this one)
    "a <s> b</s>x<<mask>>  <pad>  <unk>\n",
]


@pytest.fixture(scope="module")
def reference():
    """``tokenizer.json`` in ``tokenizers``, set up as the encoder used it before: one
    instance untruncated (counting), one truncated to 512 and padded to multiples of 16."""
    from tokenizers import Tokenizer

    path = Path(materialize_e5_small()) / "tokenizer.json"
    count = Tokenizer.from_file(str(path))
    batch = Tokenizer.from_file(str(path))
    batch.enable_truncation(max_length=512)
    batch.enable_padding(pad_id=1, pad_token="<pad>", pad_to_multiple_of=16)
    return count, batch


@pytest.fixture(scope="module")
def tokenizer() -> SentencePieceTokenizer:
    return SentencePieceTokenizer(sentencepiece_files(Path(materialize_e5_small())), 512)


def real_texts() -> list[str]:
    seeds = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    paragraphs = [line for text in seeds for line in text.splitlines()]
    return EDGE_CASES + calibration_texts() + seeds + paragraphs


def _same(tokenizer, reference, text: str) -> None:
    count, _ = reference
    for special in (False, True):
        expected = count.encode(text, add_special_tokens=special).ids
        assert tokenizer(text, add_special_tokens=special)["input_ids"] == expected, repr(text)


def test_same_ids_as_tokenizer_json_on_real_text_and_edge_cases(tokenizer, reference):
    for text in real_texts():
        _same(tokenizer, reference, text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
        | st.sampled_from(["<s>", "</s>", "<pad>", "<unk>", "<mask>", " ", "<"]),
        max_size=6,
    ).map("".join)
)
def test_same_ids_on_any_text(tokenizer, reference, text):
    _same(tokenizer, reference, text)


def test_batches_are_truncated_and_padded_as_before(tokenizer, reference):
    _, batch = reference
    seeds = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    for texts in (EDGE_CASES[1:], seeds, ["Kurz.", seeds[0] * 3], ["query: Wer?"]):
        got = tokenizer(texts)
        expected = batch.encode_batch(texts)
        np.testing.assert_array_equal(got["input_ids"], [e.ids for e in expected])
        np.testing.assert_array_equal(got["attention_mask"], [e.attention_mask for e in expected])
        assert got["input_ids"].dtype == np.int64 and got["input_ids"].shape[1] % 16 == 0
    assert tokenizer([seeds[0] * 3])["input_ids"].shape == (1, 512)  # cut to the model's window


def test_the_sentencepiece_files_are_written_once(tmp_path):
    folder = Path(materialize_e5_small())
    first = sentencepiece_files(folder, tmp_path)
    model = first / "sentencepiece.model"
    stamp = model.stat().st_mtime_ns
    assert sentencepiece_files(folder, tmp_path) == first and model.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no scratch folder left
