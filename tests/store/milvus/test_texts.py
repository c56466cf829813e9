"""Texts kept in pieces in a Milvus collection (:mod:`diploqa.store.milvus.texts`), read in
one query, or batch by batch where the first batch comes back full."""

from __future__ import annotations

import pytest
from conftest import stop_milvus_lite

from diploqa.errors import IndexCorruptError
from diploqa.store import open_location
from diploqa.store.milvus import client as client_module
from diploqa.store.milvus import texts

TEXTS = {"manifest": "{}", "keywords.a": "a" * 95, "keywords.b": "b" * 31, "empty": ""}


@pytest.mark.parametrize("batch", [client_module.ITERATE_BATCH, 4])
def test_texts_come_back_whole_from_one_query_or_from_batches(tmp_path, monkeypatch, batch):
    pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    monkeypatch.setattr(client_module, "ITERATE_BATCH", batch)  # 4: 16 pieces in 4 batches
    address = f"milvus-lite:{tmp_path / 'texts.db'}"
    location = open_location(None, address)
    try:
        connection = location.connection
        with connection.errors("writing"):
            texts.create_text_collection(connection, "t")
            texts.insert_pieces(connection, "t", TEXTS, piece=10)
        connection.ensure_loaded("t")
        assert texts.read_texts(connection, "t", list(TEXTS)) == TEXTS
        assert texts.read_text(connection, "t", "keywords.b") == TEXTS["keywords.b"]
        assert texts.read_text(connection, "t", "keywords.") == ""  # a prefix is not a key
        assert texts.read_texts(connection, "t", ["keywords.a", "none"]) == {
            "keywords.a": TEXTS["keywords.a"], "none": ""
        }  # fmt: skip
        connection.client.delete("t", filter='key == "keywords.a#000003"')
        with pytest.raises(IndexCorruptError, match="is incomplete"):
            texts.read_texts(connection, "t", ["keywords.b", "keywords.a"])
    finally:
        location.close()
        stop_milvus_lite(address)
