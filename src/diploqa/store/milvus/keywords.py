"""The keyword index in the engine.

Its segments (:mod:`diploqa.lexical.postings`) are immutable and most outlive a generation, so they
live in one collection per index, ``<name>__keywords`` (base64 pieces, a marker row once a
segment is complete): a build sends only the segments it made, a server reads the keyword
index from there instead of splitting every passage, and a build deletes the segments neither
its generation nor the previous one names. The keyword index's other files go into the
generation's ``__meta`` collection (:mod:`.location`).
"""

from __future__ import annotations

import base64
import json
import logging
import tempfile
from pathlib import Path

from ...errors import DiploqaError
from ...lexical import Bm25Index
from ...lexical.postings import is_segment_file
from ..manifest import Manifest
from . import texts
from .client import MilvusConnection
from .expressions import string_literal

log = logging.getLogger(__name__)

#: Pieces of the keyword index's files, base64 (ASCII: one byte per character).
KEYWORD_PIECE_CHARS = 60_000


class KeywordCollection:
    """The collection ``<name>__keywords`` of the index ``name``."""

    def __init__(self, connection: MilvusConnection, name: str) -> None:
        self.connection = connection
        self.collection = f"{name}__keywords"

    def stored_segments(self) -> set[str]:
        """The segment files stored whole (a marker row is written after a segment's last
        piece: one a killed build left half-written is not listed)."""
        client = self.connection.client
        if not client.has_collection(self.collection):
            return set()
        self.connection.ensure_loaded(self.collection)
        names = set()
        # Every key is read (a suffix ``like`` is unknown to Milvus 2.3): a few per segment.
        for batch in self.connection.iterate(self.collection, ["key"], 'key != ""'):
            keys = (record["key"] for record in batch)
            names.update(k.rsplit("@", 1)[0] for k in keys if k.endswith("@complete"))
        return names

    def store(self, keywords: Bm25Index) -> tuple[dict[str, str], dict[str, str]]:
        """Send the segments of ``keywords`` the collection lacks; returns its other files as
        text (base64, for the generation's ``__meta``) and every file's SHA-256."""
        connection = self.connection
        with connection.errors(f"writing {self.collection}"):
            stored = self.stored_segments()
            other: dict[str, str] = {}
            with tempfile.TemporaryDirectory(prefix="diploqa-keywords-") as tmp:
                files = keywords.save(Path(tmp), skip=stored)  # those stored are not written
                for file_name in files:
                    if file_name in stored:
                        continue
                    text = base64.b64encode((Path(tmp) / file_name).read_bytes()).decode("ascii")
                    if not is_segment_file(file_name):
                        other[file_name] = text
                        continue
                    self._send(file_name, text)
        return other, files

    def _send(self, file_name: str, text: str) -> None:
        client = self.connection.client
        if not client.has_collection(self.collection):
            texts.create_text_collection(self.connection, self.collection)
        texts.insert_pieces(self.connection, self.collection, {file_name: text},
                            KEYWORD_PIECE_CHARS)  # fmt: skip
        marker = {"key": f"{file_name}@complete", "data": "", "unused": [0.0, 0.0]}
        client.insert(self.collection, [marker])
        self.connection.persist(self.collection)

    def read(self, meta: str, manifest: Manifest, passages: int) -> Bm25Index | None:
        """The keyword index of the generation whose ``__meta`` collection is ``meta``;
        None where there is none or it is damaged (logged; the caller builds it)."""
        with tempfile.TemporaryDirectory(prefix="diploqa-keywords-") as tmp:
            try:
                self._fetch(meta, manifest, Path(tmp))
            except (DiploqaError, OSError, ValueError) as err:
                address = self.connection.address
                log.warning("%s: keyword index not read (%s); building it", address, err)
                return None
            return Bm25Index.load(Path(tmp), manifest.files, passages, dictionary=None)

    def _fetch(self, meta: str, manifest: Manifest, folder: Path) -> None:
        """Write the keyword index's files into ``folder`` (checked by
        :meth:`~diploqa.lexical.Bm25Index.load` against the manifest's checksums)."""
        wanted: dict[str, list[str]] = {}  # collection → its files, each read in one query
        for file_name in manifest.files:
            if file_name.startswith("keywords."):
                collection = self.collection if is_segment_file(file_name) else meta
                wanted.setdefault(collection, []).append(file_name)
        for collection, file_names in wanted.items():
            self.connection.ensure_loaded(collection)
            for file_name, text in texts.read_texts(
                self.connection, collection, file_names
            ).items():
                (folder / file_name).write_bytes(base64.b64decode(text))

    def drop_unused(self, manifest: Manifest, previous_meta: str | None) -> None:
        """Delete the segments neither ``manifest``'s generation nor the previous one (its
        ``__meta`` collection) names: those of dropped generations, and any a killed build
        sent; quietly: the commit is done."""
        client = self.connection.client
        try:
            wanted = {f for f in manifest.files if is_segment_file(f)}
            if previous_meta is not None:
                self.connection.ensure_loaded(previous_meta)
                text = texts.read_text(self.connection, previous_meta, "manifest")
                wanted |= {f for f in json.loads(text).get("files", {}) if is_segment_file(f)}
            unused = self.stored_segments() - wanted
            for file_name in unused:
                marker = string_literal(f"{file_name}@complete")
                client.delete(
                    self.collection,
                    filter=f"({texts.pieces_expression(file_name)}) or key == {marker}",
                )
            if unused:
                self.connection.persist(self.collection)
        except Exception as err:  # a leftover segment costs space, never answers
            log.warning("%s: unused keyword segments not deleted: %s", self.connection.address, err)
