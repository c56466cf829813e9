"""Collections of text pieces: how the manifest, the metadata, the keyword index's files and
a build's lease record are kept in the engine (a VARCHAR holds at most 65,535 bytes, so a text
is cut into pieces ``key#000000``, ``key#000001`` … read back in order)."""

from __future__ import annotations

from ...errors import IndexCorruptError
from ..manifest import REBUILD_HINT
from .client import MilvusConnection, pymilvus_module
from .expressions import prefix_expression

#: Text pieces of the metadata collection (VARCHAR holds at most 65,535 bytes; 4 per char).
PIECE_CHARS = 16_000


def create_text_collection(connection: MilvusConnection, name: str) -> None:
    """A collection of text pieces (``key#000000`` → ``data``); the caller wraps it in
    :meth:`~.client.MilvusConnection.errors`."""
    pymilvus = pymilvus_module()
    client = connection.client
    schema = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", pymilvus.DataType.VARCHAR, is_primary=True, max_length=256)
    schema.add_field("data", pymilvus.DataType.VARCHAR, max_length=65_535)
    # Milvus wants a vector field in every collection: a constant one.
    schema.add_field("unused", pymilvus.DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("unused", index_type="FLAT", metric_type="L2")
    connection.create_collection(name, schema, index)


def insert_pieces(
    connection: MilvusConnection, name: str, texts: dict[str, str], piece: int = PIECE_CHARS
) -> None:
    """Insert each of ``texts`` (key → text) into collection ``name`` in pieces, made to
    last (:meth:`~.client.MilvusConnection.persist`)."""
    client = connection.client
    rows = [
        {"key": f"{key}#{i // piece:06d}", "data": text[i : i + piece], "unused": [0.0, 0.0]}
        for key, text in texts.items()
        for i in range(0, max(len(text), 1), piece)
    ]
    for start in range(0, len(rows), 256):
        client.insert(name, rows[start : start + 256])
    connection.persist(name)


def write_texts(connection: MilvusConnection, name: str, texts: dict[str, str]) -> None:
    """A new collection ``name`` holding ``texts``."""
    with connection.errors(f"writing {name}"):
        create_text_collection(connection, name)
        insert_pieces(connection, name, texts)


def pieces_expression(key: str) -> str:
    """The pieces of the text ``key`` (a range of keys: every Milvus version has it, while
    ``like`` patterns differ between versions)."""
    expression = prefix_expression("key", f"{key}#")
    assert expression is not None  # the prefix ends in "#"
    return expression


def read_text(connection: MilvusConnection, collection: str, key: str) -> str:
    """The text ``key`` of ``collection`` ("" where it has none).

    Raises:
        IndexCorruptError: a piece is missing.
    """
    return read_texts(connection, collection, [key])[key]


def read_texts(connection: MilvusConnection, collection: str, keys: list[str]) -> dict[str, str]:
    """The texts ``keys`` of ``collection`` ("" where one has none), read in one query: each
    read waits for the server's time tick, so a generation's keyword files come in one
    wait, not one each.

    Raises:
        IndexCorruptError: a piece is missing.
    """
    pieces: dict[str, dict[int, str]] = {key: {} for key in keys}
    expression = " or ".join(f"({pieces_expression(key)})" for key in keys)
    with connection.errors("reading the index metadata"):
        for batch in connection.iterate(collection, ["key", "data"], expression):
            for record in batch:
                key, number = record["key"].rsplit("#", 1)
                pieces[key][int(number)] = record["data"]
    texts = {}
    for key, found in pieces.items():
        if sorted(found) != list(range(len(found))):
            raise IndexCorruptError(
                f"{collection} in {connection.address} is incomplete: {REBUILD_HINT}"
            )
        texts[key] = "".join(found[i] for i in range(len(found)))
    return texts
