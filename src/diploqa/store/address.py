"""Where an index lives, as the user writes it (``--store``, ``DIPLOQA_STORE``): the FAISS
index folder (default), a Milvus server or cluster, or a Milvus Lite file.

Parsed once into a :class:`StoreAddress` (:func:`parse_store`); the locations
(:func:`~diploqa.store.open_location`) take the parsed value. The Milvus token travels with the
address but is never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SettingsError

#: The collection alias a Milvus store answers under when the address names none.
DEFAULT_MILVUS_COLLECTION = "diploqa"
_COLLECTION_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,150}"


@dataclass(frozen=True)
class StoreAddress:
    """Where vectors and metadata live (``--store`` / ``DIPLOQA_STORE``).

    * ``faiss``: the index folder (``--index``), the default;
    * ``milvus://HOST:PORT[/COLLECTION]``: a Milvus standalone or cluster (``milvuss://`` for
      TLS); the token comes from ``DIPLOQA_MILVUS_TOKEN`` (``user:password`` or an API key);
    * ``milvus-lite:PATH[#COLLECTION]``: a local Milvus Lite file (the ``milvus-lite``
      package, the real engine in-process; one process at a time).

    The token is never shown: not in ``repr``, not in ``str``, not in any message.
    """

    kind: str  # "faiss" | "milvus" | "milvus-lite"
    uri: str = ""  # what pymilvus.MilvusClient connects to
    collection: str = DEFAULT_MILVUS_COLLECTION
    token: str = field(default="", repr=False, compare=False)

    @property
    def is_milvus(self) -> bool:
        return self.kind != "faiss"

    def __str__(self) -> str:
        if self.kind == "faiss":
            return "faiss"
        if self.kind == "milvus-lite":
            return f"milvus-lite:{self.uri}#{self.collection}"
        return f"{self.uri.replace('http', 'milvus', 1)}/{self.collection}"


def parse_store(value: str | StoreAddress | None, token: str = "") -> StoreAddress:
    """A checked :class:`StoreAddress` from its text form (None or "": ``faiss``); ``token``:
    the Milvus token it connects with (``DIPLOQA_MILVUS_TOKEN``, resolved by the caller).

    Raises:
        SettingsError: the text is none of the three forms (the message says which are valid).
    """
    if isinstance(value, StoreAddress):
        return value
    text = (value or "").strip()
    usage = (
        "the store must be 'faiss', 'milvus://HOST:PORT[/COLLECTION]' or "
        f"'milvus-lite:PATH[#COLLECTION]', not {text!r}"
    )
    if text in ("", "faiss"):
        return StoreAddress("faiss")
    if text.startswith("milvus-lite:"):
        path, _, name = text[len("milvus-lite:") :].partition("#")
        name = name or DEFAULT_MILVUS_COLLECTION
        if not path or not re.fullmatch(_COLLECTION_NAME, name):
            raise SettingsError(usage)
        return StoreAddress("milvus-lite", str(Path(path).expanduser().resolve()), name, token)
    found = re.fullmatch(rf"(milvuss?)://([^/:\s]+):(\d{{1,5}})(?:/({_COLLECTION_NAME})?)?", text)
    if not found:
        raise SettingsError(usage)
    scheme, host, port, name = found.groups()
    http = "https" if scheme == "milvuss" else "http"
    return StoreAddress(
        "milvus", f"{http}://{host}:{port}", name or DEFAULT_MILVUS_COLLECTION, token
    )
