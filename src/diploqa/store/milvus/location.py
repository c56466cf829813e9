"""A stored index in a Milvus engine (server, cluster or Milvus Lite), as a
:class:`~diploqa.store.location.Location`.

One generation is two collections, both written completely before anyone reads them::

    <name>__gen_000007_1f2e3d4c         a row per chunk: row (primary key), vector, and the
                                        scalar fields the filters test (article_id, outlet
                                        words, date range)
    <name>__gen_000007_1f2e3d4c__meta   the manifest and the metadata (articles, chunks,
                                        stories) as JSON text in pieces, checked against the
                                        manifest's checksum; and the keyword index's own
                                        files (base64), all but its segments (:mod:`.keywords`)

The alias ``<name>`` names the live generation's chunk collection; a build switches it in one
``alter_alias`` after both collections are complete, so a search never sees half an update. A
reader resolves the alias once per load and then reads that generation only. A killed build
leaves the old alias, and so the old generation, answering; the next build drops what it left
(it keeps the previous generation for readers that loaded it a moment ago, as the FAISS
folder does). Two builders on one server: :class:`~.lease.BuildLease` and the check before the
switch (:meth:`MilvusGeneration.commit`).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ...config import VectorSettings
from ...errors import IndexCorruptError
from ...lexical import Bm25Index
from ..address import StoreAddress
from ..filelock import build_lock
from ..manifest import REBUILD_HINT, Manifest, parse_manifest
from ..metadata import METADATA_FILE, parse_metadata
from ..stored import StoredIndex
from ..vectors import logged_ef_search
from . import texts
from .client import MilvusConnection, MilvusError
from .expressions import outlet_words, row_fields
from .keywords import KeywordCollection
from .lease import BuildLease
from .vectors import MilvusStore

if TYPE_CHECKING:
    from ..commit import GenerationContent

#: Generation collections of alias ``name``: ``name__gen_000007_1f2e3d4c`` and ``…__meta``;
#: the random tail keeps two builders out of one collection (both may pick number 7).
_GENERATION = "{name}__gen_{number:06d}_{tail}"


class MilvusLocation:
    """An index in a Milvus engine (the counterpart of the FAISS index folder); it owns its
    :class:`~.client.MilvusConnection`, shared with the stores it loads."""

    def __init__(self, address: StoreAddress, vectors: VectorSettings | None = None) -> None:
        self.address = address
        #: How the vector indexes this location creates or loads search.
        self.vectors = vectors or VectorSettings()
        self.connection = MilvusConnection(address)
        self.keywords = KeywordCollection(self.connection, address.collection)
        #: While a build holds the lock: the live collection it started from (None: none).
        self._base: tuple[str | None] | None = None

    @property
    def path(self) -> str:
        return str(self.address)

    @property
    def client(self):
        """The connection's pymilvus client."""
        return self.connection.client

    def close(self) -> None:
        self.connection.close()

    def generations(self) -> dict[str, int]:
        """Chunk collection name → generation number, for every generation of which either
        collection exists (a half-written or half-dropped one too)."""
        prefix = re.escape(self.address.collection)
        pattern = re.compile(rf"^({prefix}__gen_(\d{{6}})(?:_[0-9a-f]{{8}})?)(?:__meta)?$")
        with self.connection.errors("listing collections"):
            names = self.client.list_collections()
        return {m.group(1): int(m.group(2)) for name in names if (m := pattern.match(name))}

    def live_collection(self) -> str | None:
        """The chunk collection the alias names, None when there is no index yet."""
        client = self.client
        with self.connection.errors("reading the alias"):
            if self.address.collection not in client.list_aliases().get("aliases", []):
                return None
            return client.describe_alias(self.address.collection)["collection_name"]

    def prepare(self) -> None:
        """Connect (a wrong address fails before any article is read)."""
        self.live_collection()

    def lock(self):
        """Held while a build runs. Milvus Lite: a lock file beside the file (a second build
        waits). A server: a lease (:class:`~.lease.BuildLease`), so a second builder fails at
        once with who holds it. Both remember the live collection the build starts from; the
        alias switch checks it is still live (:meth:`MilvusGeneration.commit`)."""
        if self.address.kind == "milvus-lite":
            db = Path(self.address.uri)
            held = build_lock(db.parent, name=f".{db.name}.lock")
        else:
            held = BuildLease(self.connection)
        return self._based(held)

    @contextlib.contextmanager
    def _based(self, held) -> Iterator[None]:
        with held:
            self._base = (self.live_collection(),)
            try:
                yield
            finally:
                self._base = None

    def has_index(self) -> bool:
        return self.live_collection() is not None

    def signature(self) -> str | None:
        """What changes when a build commits (the live collection's name)."""
        return self.live_collection()

    def read_manifest(self) -> Manifest:
        """The live generation's manifest.

        Raises:
            IndexCorruptError: no index under this name, or its records are damaged.
            MilvusError: the engine cannot be reached.
        """
        live = self.live_collection()
        if live is None:
            raise IndexCorruptError(
                f"no index at {self.address}: run `diploqa index --store {self.address}` to "
                "build one"
            )
        self.connection.ensure_loaded(f"{live}__meta")
        text = texts.read_text(self.connection, f"{live}__meta", "manifest")
        if not text:
            raise IndexCorruptError(f"{live} in {self.address} has no manifest: {REBUILD_HINT}")
        return parse_manifest(text, f"{self.address} ({live})", (METADATA_FILE,))

    def _live_of(self, manifest: Manifest) -> str:
        return manifest.extra.get("collection") or self._collection(manifest.generation)

    def load(self, manifest: Manifest | None = None) -> StoredIndex:
        """The live generation, loaded and checked (the metadata against the manifest's
        checksum, the number of vectors against the number of passages)."""
        manifest = manifest or self.read_manifest()
        live = self._live_of(manifest)
        self.connection.ensure_loaded(f"{live}__meta", live)
        data = texts.read_text(self.connection, f"{live}__meta", "metadata").encode("utf-8")
        if hashlib.sha256(data).hexdigest() != manifest.files.get(METADATA_FILE):
            raise IndexCorruptError(
                f"the metadata of {live} in {self.address} does not match its manifest's "
                f"checksum: {REBUILD_HINT}"
            )
        try:
            articles, chunks, stories = parse_metadata(data, manifest)
        except (ValueError, KeyError, TypeError) as err:
            raise IndexCorruptError(f"{live} cannot be parsed ({err}): {REBUILD_HINT}") from None
        outlets = frozenset(outlet_words(a.outlet) for a in articles.values())
        vectors = MilvusStore(self.connection, live, manifest.dimension, manifest.index_type, 0,
                              self.vectors, outlets)  # fmt: skip
        vectors._count = vectors.count()
        if len(vectors) != len(chunks):
            raise IndexCorruptError(
                f"{live} in {self.address}: {len(vectors)} vectors for {len(chunks)} passages: "
                f"{REBUILD_HINT}"
            )
        if manifest.index_type.startswith("milvus-hnsw"):
            logged_ef_search(self.vectors, len(vectors))  # what each search passes as ``ef``
        return StoredIndex(self.path, manifest, vectors, articles, chunks, stories, self)

    def read_keywords(self, manifest: Manifest, passages: int) -> Bm25Index | None:
        return self.keywords.read(f"{self._live_of(manifest)}__meta", manifest, passages)

    def _collection(self, generation: str, tail: str = "") -> str:
        """The chunk collection of ``generation`` (indexes before the random tail had none)."""
        name = _GENERATION.format(
            name=self.address.collection, number=int(generation[4:]), tail=tail
        )
        return name if tail else name.rstrip("_")

    @contextlib.contextmanager
    def new_generation(self, rows: int) -> Iterator[MilvusGeneration]:
        """Two new collections beside the live ones; dropped if the build fails before its
        alias switch (the live index is unchanged)."""
        existing = self.generations()
        live = self.live_collection()
        base = self._base[0] if self._base is not None else live
        number = max(existing.values(), default=0) + 1
        generation = f"gen-{number:06d}"
        pending = MilvusGeneration(
            self, generation, self._collection(generation, secrets.token_hex(4)), base, existing
        )
        try:
            yield pending
        except BaseException:
            if not pending.committed:
                self._drop({pending.collection}, quietly=True)
            raise

    def _drop(self, chunk_collections: set[str | None], quietly: bool = False) -> None:
        for name in chunk_collections:
            if name:
                self.connection.drop_collection(name, quietly)
                self.connection.drop_collection(f"{name}__meta", quietly)


class MilvusGeneration:
    """A generation being written to the engine
    (:class:`~diploqa.store.location.PendingGeneration`): both its collections are created
    first (a server loads them meanwhile); its chunk collection is filled first, its
    ``__meta`` collection (manifest, metadata, the keyword index's files but its segments) at
    the commit, just before the alias switch."""

    def __init__(
        self,
        location: MilvusLocation,
        name: str,
        collection: str,
        base: str | None,
        existing: dict[str, int],
    ) -> None:
        self.location = location
        self.name = name
        self.collection = collection
        self.extra = {"store": "milvus", "collection": collection}
        self.committed = False
        self._base = base  # the live collection the build started from
        self._existing = existing
        self._texts: dict[str, str] = {}  # for the __meta collection

    def write_vectors(self, content: GenerationContent) -> tuple[MilvusStore, dict[str, str]]:
        connection = self.location.connection
        store = MilvusStore.create(connection, self.collection, content.encoder.dim,
                                   len(content.vectors), self.location.vectors)  # fmt: skip
        with connection.errors(f"creating {self.collection}__meta"):  # loads meanwhile
            texts.create_text_collection(connection, f"{self.collection}__meta")
        by_id = content.by_id()
        store.add(content.vectors, [row_fields(by_id[c.article_id]) for c in content.chunks])
        store.outlets = frozenset(outlet_words(a.outlet) for a in by_id.values())
        store.flush()
        return store, {}

    def write_metadata(self, pieces: Iterable[bytes]) -> dict[str, str]:
        """Kept as one text until the commit writes the ``__meta`` collection."""
        data = b"".join(pieces)
        self._texts["metadata"] = data.decode("utf-8")
        return {METADATA_FILE: hashlib.sha256(data).hexdigest()}

    def write_keywords(self, keywords: Bm25Index) -> dict[str, str]:
        """The segments go to the keyword collection now (those an earlier generation stored
        are not sent again), the other files with the metadata at the commit."""
        other, files = self.location.keywords.store(keywords)
        self._texts.update(other)
        return files

    def commit(self, manifest: Manifest, before_swap: Callable[[], None]) -> None:
        """Write the ``__meta`` collection, then switch the alias, after checking that the
        live collection is still the one the build started from: a build another process
        committed meanwhile is never silently replaced by one computed from an older index.

        Raises:
            MilvusError: the engine failed, or another build committed first.
        """
        location, connection = self.location, self.location.connection
        meta = f"{self.collection}__meta"
        with connection.errors(f"writing {meta}"):
            texts.insert_pieces(connection, meta, {"manifest": manifest.to_json().decode(),
                                                   **self._texts})  # fmt: skip
        # The generation goes live loaded: its readers never wait for the engine.
        connection.ensure_loaded(self.collection, meta)
        before_swap()
        live = location.live_collection()
        if live != self._base:
            raise MilvusError(
                f"another build committed {live} to {location.address} while this one ran; "
                "this build changed nothing: run it again to add its changes"
            )
        with connection.errors("switching the alias"):
            if live is None:
                connection.client.create_alias(self.collection, location.address.collection)
            else:
                connection.client.alter_alias(self.collection, location.address.collection)
        self.committed = True
        # Drop generations no alias names (crashed builds), but keep the previous one for
        # readers that loaded it a moment ago.
        keep = {self.collection, live}
        location._drop({n for n in self._existing if n not in keep}, quietly=True)
        location.keywords.drop_unused(manifest, f"{live}__meta" if live else None)
