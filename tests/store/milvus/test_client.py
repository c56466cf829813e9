"""The connection a Milvus location owns (:mod:`diploqa.store.milvus.client`): closed, it
frees a Milvus Lite file for another process once no other client here uses it."""

from __future__ import annotations

import pytest
from conftest import opens_elsewhere

from diploqa.store import open_location


@pytest.mark.slow
def test_closing_frees_a_milvus_lite_file_once_its_last_client_here_closes(tmp_path):
    pytest.importorskip("milvus_lite", reason="the Milvus store needs pymilvus and milvus-lite")
    address = f"milvus-lite:{tmp_path / 'index.db'}"
    first, second = open_location(None, address), open_location(None, address)
    first.prepare()
    second.prepare()  # two clients of one file in this process: one engine serves both
    assert "Milvus Lite serves one process at a time" in opens_elsewhere(address)
    first.close()
    assert not second.has_index()  # the other client is still served
    assert "Milvus Lite serves one process at a time" in opens_elsewhere(address)
    second.close()
    assert opens_elsewhere(address) == "opened"
    assert not first.has_index()  # a closed location opens again when used
    first.close()
    first.close()  # closing twice is harmless
    assert opens_elsewhere(address) == "opened"
