"""The Milvus store: the whole index inside a Milvus engine (server, cluster or Milvus Lite).

One generation is two collections, both written completely before anyone reads them::

    <name>__gen_000007_1f2e3d4c         a row per chunk: row (primary key), vector, and the
                                        scalar fields the filters test (article_id, outlet
                                        words, date range)
    <name>__gen_000007_1f2e3d4c__meta   the manifest and the metadata (articles, chunks,
                                        stories) as JSON text in pieces, checked against the
                                        manifest's checksum; and the keyword index's own
                                        files (base64), all but its segments

The keyword index's segments (:mod:`diploqa.lexical.postings`) are immutable and most outlive a
generation, so they live in one collection per index, ``<name>__keywords`` (base64 pieces, a
marker row once a segment is complete): a build sends only the segments it made, a server
reads the keyword index from there instead of splitting every passage, and a build deletes
the segments neither its generation nor the previous one names.

The alias ``<name>`` names the live generation's chunk collection; a build switches it in one
``alter_alias`` after both collections are complete, so a search never sees half an update. A
reader resolves the alias once per load and then reads that generation only. A killed build
leaves the old alias, and so the old generation, answering; the next build drops what it left
(it keeps the previous generation for readers that loaded it a moment ago, as the FAISS
folder does). Two builders on one server: :class:`BuildLease` and the check before the switch
(:meth:`MilvusLocation.write`); a server that was down is reconnected to by itself
(:func:`engine_errors`, :func:`loaded_call`).

Filters become Milvus expressions evaluated inside the search (:func:`filter_expression`);
an article-id glob with character classes, which ``like`` cannot express, is sent as the
list of allowed rows instead (also inside the search).

pymilvus logs every failed call with a traceback at ERROR; :func:`connect` silences its logger,
and every engine error reaches the user as one :class:`~diploqa.errors.DiploqaError` line
(the token never in it).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .. import config, lexical
from ..articles import Article
from ..chunking import Chunk
from ..encoders import Encoder
from ..errors import DiploqaError, IndexCorruptError, StoreUnavailableError
from ..faults import fault_point
from ..filters import SearchFilter, date_range
from ..lexical.postings import is_segment_file
from .manifest import REBUILD_HINT, Manifest, parse_manifest
from .metadata import METADATA_FILE, Stories, dump_metadata, parse_metadata

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'diploqa[milvus]' (pymilvus and milvus-lite)"
#: Generation collections of alias ``name``: ``name__gen_000007_1f2e3d4c`` and ``…__meta``;
#: the random tail keeps two builders out of one collection (both may pick number 7).
_GENERATION = "{name}__gen_{number:06d}_{tail}"
#: How long a builder's lease on a server holds without being renewed (a killed builder's
#: lease is taken over after this); renewed every third of it while the build runs.
LEASE_SECONDS = 60.0
#: Text pieces of the metadata collection (VARCHAR holds at most 65,535 bytes; 4 per char).
PIECE_CHARS = 16_000
#: Pieces of the keyword index's files, base64 (ASCII: one byte per character).
KEYWORD_PIECE_CHARS = 60_000
#: The collection of the keyword index's segments, shared by an index's generations (a segment
#: is immutable and most are kept from one generation to the next: uploaded once).
_KEYWORD_SEGMENTS = "{name}__keywords"
#: Rows per insert call (a gRPC message holds at most 64 MB; 896-d rows are 3.5 kB).
INSERT_BATCH = 2_000
#: Milvus answers at most this many hits per query.
MAX_TOPK = 16_384
#: Date ordinals of articles without a date (dates are ordinals 1 … 3,652,059).
NO_DATE_START, NO_DATE_END = 10**9, -1
_WORDS = re.compile(r"\w+")
_STRING_FIELD = 4_096


class MilvusError(StoreUnavailableError):
    """The Milvus engine cannot be reached, refused the token, or failed a call."""


# --------------------------------------------------------------------------------------------
# Connecting
# --------------------------------------------------------------------------------------------

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def _pymilvus():
    # gRPC's C core prints to stderr when the process forks (the tokenizer and OpenVINO do)
    # and when a keep-alive ping is refused during a long build; every failed call reaches
    # the user as an exception anyway (one line, see engine_errors).
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        import pymilvus
    except ImportError:
        raise DiploqaError(
            f"the Milvus store needs pymilvus, which is not installed: {INSTALL_HINT}"
        ) from None
    # Every failed call is logged with a traceback at ERROR; diploqa reports it as one line.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    return pymilvus


def _reason(err: BaseException, address: config.StoreAddress) -> str:
    """The engine's message, without the token and without pymilvus's wrapping."""
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    if address.token:
        message = message.replace(address.token, "***")
    return " ".join(str(message).split())


def connect(address: config.StoreAddress):
    """A client for ``address`` (one per address and process; Milvus Lite allows one process
    per file).

    Raises:
        MilvusError: pymilvus or milvus-lite missing, the server unreachable, the token
            refused, or the Lite file in use by another process.
    """
    pymilvus = _pymilvus()
    key = (address.uri, hashlib.sha256(address.token.encode()).hexdigest())
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            return client
        if address.kind == "milvus-lite":
            try:
                import milvus_lite  # noqa: F401
            except ImportError:
                raise DiploqaError(
                    f"the store {address} needs the milvus-lite package: {INSTALL_HINT}"
                ) from None
            # Milvus Lite runs in this process behind a gRPC server of its own, which logs
            # tracebacks for calls it does not implement (pymilvus falls back) and for a file
            # another process holds (reported below as one line).
            for noisy in ("milvus_lite", "grpc._server"):
                logging.getLogger(noisy).setLevel(logging.CRITICAL)
            folder = Path(address.uri).parent
            if not folder.is_dir():
                raise MilvusError(f"cannot open {address}: the folder {folder} does not exist")
        try:
            # A dedicated channel: pymilvus shares one per address in a process-wide registry
            # that outlives close() and, after 30 s idle, health-checks it on reuse (a failed
            # check is a failed connect); diploqa keeps its own client per address instead.
            client = pymilvus.MilvusClient(
                uri=address.uri, token=address.token, timeout=10, dedicated=True
            )
        except Exception as err:  # pymilvus raises its own types and gRPC's
            reason = _reason(err, address)
            if address.kind == "milvus-lite":
                raise MilvusError(
                    f"cannot open the Milvus Lite file {address.uri} ({reason}); Milvus Lite "
                    "serves one process at a time: stop the other diploqa using it, or use a "
                    "Milvus server (milvus://HOST:PORT)"
                ) from None
            raise MilvusError(
                f"cannot connect to Milvus at {address} ({reason}): check that the server "
                "runs and the address and DIPLOQA_MILVUS_TOKEN are right"
            ) from None
        _clients[key] = client
        return client


def forget_client(address: config.StoreAddress) -> None:
    """Close and forget the cached client; for Milvus Lite also stop its in-process engine, so
    that another process can open the file."""
    key = (address.uri, hashlib.sha256(address.token.encode()).hexdigest())
    with _clients_lock:
        client = _clients.pop(key, None)
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()
    if address.kind == "milvus-lite":
        with contextlib.suppress(ImportError):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(address.uri)


def ensure_loaded(address: config.StoreAddress, collection: str) -> None:
    """Load ``collection`` for searching and queries (Milvus Lite releases every collection
    when the file is reopened; loading a loaded one is a no-op)."""
    client = connect(address)
    with engine_errors(address, f"loading {collection}"):
        state = client.get_load_state(collection).get("state")
        if getattr(state, "name", str(state)) != "Loaded":
            client.load_collection(collection)


def _unreachable(err: BaseException) -> bool:
    """Whether ``err`` says the server cannot be reached (down, restarting, network)."""
    code = getattr(err, "code", None)
    if callable(code):  # a grpc.RpcError
        return getattr(code(), "name", "") in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
    text = str(getattr(err, "message", None) or err)
    return code == 2 or "Fail connecting to server" in text or "server unavailable" in text


def _not_loaded(err: BaseException) -> bool:
    """Whether ``err`` says the collection is not loaded (a restarted server loads none)."""
    text = str(getattr(err, "message", None) or err)
    return getattr(err, "code", None) == 101 or "not loaded" in text or "call load()" in text


@contextlib.contextmanager
def engine_errors(address: config.StoreAddress, doing: str) -> Iterator[None]:
    """Turn any error of the engine into one :class:`MilvusError` line.

    A server that cannot be reached also drops the cached client, so that the first call
    after the server is back opens a fresh channel instead of waiting out gRPC's reconnect
    backoff: a running diploqa recovers by itself."""
    try:
        yield
    except DiploqaError:
        raise
    except Exception as err:
        if type(err).__module__.split(".")[0] not in ("pymilvus", "grpc", "milvus_lite"):
            raise
        reason = _reason(err, address)
        if address.kind == "milvus" and _unreachable(err):
            forget_client(address)
            raise MilvusError(
                f"cannot reach Milvus at {address} while {doing} ({reason}): check that the "
                "server runs; diploqa reconnects by itself once it answers"
            ) from None
        if "does not exist" in reason or "not found" in reason:
            raise IndexCorruptError(
                f"Milvus at {address} lost part of the index while {doing} ({reason}): "
                f"{REBUILD_HINT}"
            ) from None
        raise MilvusError(f"Milvus at {address} failed while {doing}: {reason}") from None


def loaded_call(address: config.StoreAddress, collection: str, doing: str, call):
    """``call()`` inside :func:`engine_errors`; if the engine says ``collection`` is not
    loaded (a restarted server, or Milvus Lite reopening its file, loads nothing), load it and
    call once more, so that a server restart needs no restart of diploqa."""
    with engine_errors(address, doing):
        try:
            return call()
        except Exception as err:
            if not _not_loaded(err):
                raise
        connect(address).load_collection(collection)
        return call()


# --------------------------------------------------------------------------------------------
# Filters as expressions
# --------------------------------------------------------------------------------------------


def _like_literal(text: str) -> str:
    """``text`` inside a ``like "…"`` pattern, matching itself only."""
    out = []
    for ch in text:
        if ch in "%_":
            out.append("\\\\" + ch)
        elif ch in '"\\':
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _glob_to_like(pattern: str) -> str | None:
    """The ``like`` pattern of an ``fnmatch`` glob, None when it has a character class."""
    if "[" in pattern:
        return None
    return "".join("%" if ch == "*" else "_" if ch == "?" else _like_literal(ch) for ch in pattern)


def outlet_words(outlet: str | None) -> str:
    """The outlet as the filter compares it: casefolded words between spaces."""
    words = _WORDS.findall(outlet.casefold()) if outlet else []
    return f" {' '.join(words)} " if words else ""


def date_fields(date: str | None) -> tuple[int, int]:
    """``(first, last)`` day ordinals of an article's date, or the no-date sentinels."""
    found = date_range(date) if date else None
    if found is None:
        return NO_DATE_START, NO_DATE_END
    return found[0].toordinal(), found[1].toordinal()


def filter_expression(wanted: SearchFilter) -> str | None:
    """The Milvus expression equal to ``wanted`` (same semantics as
    :meth:`SearchFilter.matches`), or None when the source glob has a character class."""
    parts: list[str] = []
    if wanted.outlets is not None:
        names = [f'outlet like "% {_like_literal(" ".join(n))} %"' for n in wanted.outlets if n]
        parts.append("(" + " or ".join(names) + ")" if names else "row < 0")
    if wanted.since is not None:
        parts.append(f"date_end >= {wanted.since.toordinal()}")
    if wanted.until is not None:
        parts.append(f"date_start <= {wanted.until.toordinal()}")
    if wanted.since is not None or wanted.until is not None:
        parts.append(f"date_end >= 0 and date_start < {NO_DATE_START}")
    if wanted.source is not None:
        like = _glob_to_like(wanted.source)
        if like is None:
            return None
        parts.append(f'article_id like "{like}"')
    return " and ".join(parts) if parts else None


def _rows_expression(rows: np.ndarray) -> str:
    return f"row in [{','.join(map(str, rows.tolist()))}]"


# --------------------------------------------------------------------------------------------
# The vector store on one collection
# --------------------------------------------------------------------------------------------


def _index_kind(expected: int) -> tuple[str, dict, str]:
    """Milvus index type, its build parameters, and the manifest's name for it."""
    if expected >= config.ann_threshold():
        params = {"M": config.HNSW_M, "efConstruction": config.HNSW_EF_CONSTRUCTION}
        kind = f"milvus-hnsw-ip(M={config.HNSW_M},efConstruction={config.HNSW_EF_CONSTRUCTION})"
        return "HNSW", params, kind
    return "FLAT", {}, "milvus-flat-ip"


class MilvusStore:
    """A :class:`~diploqa.store.base.VectorStore` on one Milvus collection (row = primary key).

    Besides the vectors each row holds the fields :func:`filter_expression` tests; ``add``
    takes them per row (``fields``), defaulting to "no article, no outlet, no date"."""

    files: tuple[str, ...] = ()

    def __init__(
        self,
        address: config.StoreAddress,
        collection: str,
        dimension: int,
        index_type: str,
        count: int,
    ) -> None:
        self.address = address
        connect(address)  # a wrong address fails here, not at the first search
        self.collection = collection
        self.dimension = dimension
        self.index_type = index_type
        self._count = count

    @classmethod
    def create(
        cls, address: config.StoreAddress, collection: str, dimension: int, expected: int
    ) -> MilvusStore:
        """A new empty collection for about ``expected`` vectors (exact or HNSW by count)."""
        pymilvus = _pymilvus()
        client = connect(address)
        index_type, params, kind = _index_kind(expected)
        with engine_errors(address, f"creating collection {collection}"):
            schema = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("row", pymilvus.DataType.INT64, is_primary=True)
            schema.add_field("vector", pymilvus.DataType.FLOAT_VECTOR, dim=dimension)
            schema.add_field("article_id", pymilvus.DataType.VARCHAR, max_length=_STRING_FIELD)
            schema.add_field("outlet", pymilvus.DataType.VARCHAR, max_length=_STRING_FIELD)
            schema.add_field("date_start", pymilvus.DataType.INT64)
            schema.add_field("date_end", pymilvus.DataType.INT64)
            index = client.prepare_index_params()
            index.add_index("vector", index_type=index_type, metric_type="IP", params=params)
            client.create_collection(
                collection, schema=schema, index_params=index, consistency_level="Strong"
            )
        return cls(address, collection, dimension, kind, 0)

    @property
    def client(self):
        """The process's client of the engine (a new one after the server was unreachable)."""
        return connect(self.address)

    def __len__(self) -> int:
        return self._count

    def add(self, vectors: np.ndarray, fields: Sequence[dict] | None = None) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        empty = {
            "article_id": "",
            "outlet": "",
            "date_start": NO_DATE_START,
            "date_end": NO_DATE_END,
        }
        with engine_errors(self.address, f"writing to {self.collection}"):
            for start in range(0, len(vectors), INSERT_BATCH):
                block = vectors[start : start + INSERT_BATCH]
                rows = [
                    {
                        **(fields[start + i] if fields is not None else empty),
                        "row": self._count + start + i,
                        "vector": vector,
                    }
                    for i, vector in enumerate(block.tolist())
                ]
                self.client.insert(self.collection, rows)
        self._count += len(vectors)

    def flush(self) -> None:
        """Seal what was inserted (the index is built on sealed segments)."""
        with engine_errors(self.address, f"writing to {self.collection}"):
            self.client.flush(self.collection)

    def search(
        self,
        queries: np.ndarray,
        k: int,
        rows: np.ndarray | None = None,
        where: SearchFilter | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        found = np.full((len(queries), k), -1, dtype=np.int64)
        expression = filter_expression(where) if where is not None else None
        if expression is None and rows is not None:
            rows = np.unique(np.asarray(rows, dtype=np.int64))
            rows = rows[(rows >= 0) & (rows < len(self))]
            if len(rows) == 0:
                return scores, found
            expression = _rows_expression(rows)
        limit = min(k, MAX_TOPK, max(len(self), 1))
        ef = max(config.hnsw_ef_search(), limit)
        results = loaded_call(
            self.address,
            self.collection,
            "searching",
            lambda: self.client.search(
                self.collection,
                data=queries.tolist(),
                limit=limit,
                filter=expression or "",
                search_params={"metric_type": "IP", "params": {"ef": ef}},
                output_fields=[],
            ),
        )
        for q, hits in enumerate(results):
            for j, hit in enumerate(hits):
                found[q, j] = int(hit["row"])
                scores[q, j] = float(hit["distance"])
        return scores, found

    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), self.dimension), dtype=np.float32)
        if len(rows) == 0:
            return out
        wanted = np.unique(rows)
        records = loaded_call(
            self.address,
            self.collection,
            "reading vectors",
            lambda: self.client.query(
                self.collection,
                filter=_rows_expression(wanted),
                output_fields=["row", "vector"],
                limit=len(wanted),
            ),
        )
        by_row = {int(r["row"]): r["vector"] for r in records}
        for i, row in enumerate(rows.tolist()):
            out[i] = by_row[row]
        return out

    def all_vectors(self) -> np.ndarray:
        out = np.zeros((len(self), self.dimension), dtype=np.float32)
        with engine_errors(self.address, "reading vectors"):
            for batch in _iterate(self.client, self.collection, ["row", "vector"], "row >= 0"):
                rows = np.fromiter((r["row"] for r in batch), np.int64, len(batch))
                out[rows] = np.asarray([r["vector"] for r in batch], dtype=np.float32)
        return out

    def count(self) -> int:
        """Rows the engine holds (a load compares it with the manifest)."""
        result = loaded_call(
            self.address,
            self.collection,
            f"counting {self.collection}",
            lambda: self.client.query(self.collection, filter="", output_fields=["count(*)"]),
        )
        return int(result[0]["count(*)"])

    def save(self, folder: Path) -> dict[str, str]:
        """Nothing goes to ``folder``: the vectors live in the engine (sealed here)."""
        self.flush()
        return {}


def _iterate(client, collection: str, fields: list[str], expression: str) -> Iterator[list]:
    iterator = client.query_iterator(
        collection, batch_size=1_000, filter=expression, output_fields=fields
    )
    try:
        while batch := iterator.next():
            yield batch
    finally:
        iterator.close()


# --------------------------------------------------------------------------------------------
# Generations: an alias switched to complete collections
# --------------------------------------------------------------------------------------------


@dataclass
class MilvusLocation:
    """A stored index in a Milvus engine (the counterpart of the FAISS index folder)."""

    address: config.StoreAddress

    @property
    def path(self) -> str:
        return str(self.address)

    @property
    def client(self):
        return connect(self.address)

    def _generations(self) -> dict[str, int]:
        """Chunk collection name → generation number, for every generation of which either
        collection exists (a half-written or half-dropped one too)."""
        prefix = re.escape(self.address.collection)
        pattern = re.compile(rf"^({prefix}__gen_(\d{{6}})(?:_[0-9a-f]{{8}})?)(?:__meta)?$")
        with engine_errors(self.address, "listing collections"):
            names = self.client.list_collections()
        return {m.group(1): int(m.group(2)) for name in names if (m := pattern.match(name))}

    def live_collection(self) -> str | None:
        """The chunk collection the alias names, None when there is no index yet."""
        client = self.client
        with engine_errors(self.address, "reading the alias"):
            if self.address.collection not in client.list_aliases().get("aliases", []):
                return None
            return client.describe_alias(self.address.collection)["collection_name"]

    def prepare(self) -> None:
        """Connect (a wrong address fails before any article is read)."""
        self.live_collection()

    def lock(self):
        """Held while a build runs. Milvus Lite: a lock file beside the file (a second build
        waits). A server: a lease (:class:`BuildLease`), so a second builder fails at once
        with who holds it. Both remember the live collection the build starts from; the
        alias switch in :meth:`write` checks it is still live (see there)."""
        if self.address.kind == "milvus-lite":
            from .generations import build_lock

            db = Path(self.address.uri)
            held = build_lock(db.parent, name=f".{db.name}.lock")
        else:
            held = BuildLease(self)
        return self._based(held)

    @contextlib.contextmanager
    def _based(self, held) -> Iterator[None]:
        with held:
            self._base = self.live_collection()
            try:
                yield
            finally:
                del self._base

    def has_index(self) -> bool:
        return self.live_collection() is not None

    def signature(self) -> str | None:
        """What changes when a build commits (the live collection's name)."""
        return self.live_collection()

    def _read_text(self, meta: str, key: str) -> str:
        pieces: dict[int, str] = {}
        with engine_errors(self.address, "reading the index metadata"):
            for batch in _iterate(
                self.client, meta, ["key", "data"], f'key like "{_like_literal(key)}#%"'
            ):
                for record in batch:
                    pieces[int(record["key"].rsplit("#", 1)[1])] = record["data"]
        if sorted(pieces) != list(range(len(pieces))):
            raise IndexCorruptError(f"{meta} in {self.address} is incomplete: {REBUILD_HINT}")
        return "".join(pieces[i] for i in range(len(pieces)))

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
        ensure_loaded(self.address, f"{live}__meta")
        text = self._read_text(f"{live}__meta", "manifest")
        if not text:
            raise IndexCorruptError(f"{live} in {self.address} has no manifest: {REBUILD_HINT}")
        return parse_manifest(text, f"{self.address} ({live})", (METADATA_FILE,))

    def load(self, manifest: Manifest | None = None):
        """The live generation, loaded and checked (see :func:`~diploqa.store.load_stored`)."""
        from .generations import StoredIndex

        manifest = manifest or self.read_manifest()
        live = manifest.extra.get("collection") or self._collection(manifest.generation)
        ensure_loaded(self.address, f"{live}__meta")
        ensure_loaded(self.address, live)
        data = self._read_text(f"{live}__meta", "metadata").encode("utf-8")
        if hashlib.sha256(data).hexdigest() != manifest.files.get(METADATA_FILE):
            raise IndexCorruptError(
                f"the metadata of {live} in {self.address} does not match its manifest's "
                f"checksum: {REBUILD_HINT}"
            )
        try:
            articles, chunks, stories = parse_metadata(data, manifest)
        except (ValueError, KeyError, TypeError) as err:
            raise IndexCorruptError(f"{live} cannot be parsed ({err}): {REBUILD_HINT}") from None
        vectors = MilvusStore(self.address, live, manifest.dimension, manifest.index_type, 0)
        vectors._count = vectors.count()
        if len(vectors) != len(chunks):
            raise IndexCorruptError(
                f"{live} in {self.address}: {len(vectors)} vectors for {len(chunks)} passages: "
                f"{REBUILD_HINT}"
            )
        fetch = functools.partial(self._fetch_keywords, live, manifest)
        return StoredIndex(self.path, manifest, vectors, articles, chunks, stories, None, fetch)

    def _collection(self, generation: str, tail: str = "") -> str:
        """The chunk collection of ``generation`` (indexes before the random tail had none)."""
        name = _GENERATION.format(
            name=self.address.collection, number=int(generation[4:]), tail=tail
        )
        return name if tail else name.rstrip("_")

    def write(
        self,
        encoder: Encoder,
        articles: list[Article],
        chunks: list[Chunk],
        vectors: np.ndarray,
        chunking: config.ChunkingConfig,
        stories: Stories,
        backends: list[str] | None = None,
        keywords=None,
    ):
        """Write a new generation (two collections), then switch the alias to it.
        ``keywords`` (the passages' keyword index) is stored beside it: its segments in the
        index's keyword collection (those an earlier generation stored are not sent again),
        its other files in the generation's ``__meta`` collection; a server reads it there
        instead of splitting every passage when it loads the index.

        Before the switch it checks that the live collection is still the one the build
        started from (:meth:`lock`): a build another process committed meanwhile is never
        silently replaced by one computed from an older index.

        Raises:
            MilvusError: the engine failed, or another build committed first; what this build
                wrote is dropped, the live index is unchanged.
        """
        from .generations import StoredIndex

        client = self.client
        existing = self._generations()
        live = self.live_collection()
        base = getattr(self, "_base", live)
        number = max(existing.values(), default=0) + 1
        generation = f"gen-{number:06d}"
        name = self._collection(generation, secrets.token_hex(4))
        try:
            store = MilvusStore.create(self.address, name, encoder.dim, len(vectors))
            by_id = {a.id: a for a in articles}
            fields = []
            for chunk in chunks:
                article = by_id[chunk.article_id]
                start, end = date_fields(article.date)
                fields.append(
                    {
                        "article_id": article.id,
                        "outlet": outlet_words(article.outlet),
                        "date_start": start,
                        "date_end": end,
                    }
                )
            store.add(vectors, fields)
            store.flush()
            fault_point("after-faiss")
            metadata = dump_metadata(articles, chunks, stories)
            keyword_texts, keyword_files = self._store_keywords(keywords)
            manifest = Manifest.for_build(
                encoder,
                chunking,
                articles,
                len(chunks),
                generation,
                store.index_type,
                {METADATA_FILE: hashlib.sha256(metadata).hexdigest(), **keyword_files},
                backends=backends,
                extra={"store": "milvus", "collection": name},
            )
            self._write_meta(
                f"{name}__meta",
                {
                    "manifest": manifest.to_json().decode(),
                    "metadata": metadata.decode(),
                    **keyword_texts,
                },
            )
            fault_point("before-swap")
            live = self.live_collection()
            if live != base:
                raise MilvusError(
                    f"another build committed {live} to {self.address} while this one ran; "
                    "this build changed nothing: run it again to add its changes"
                )
            with engine_errors(self.address, "switching the alias"):
                if live is None:
                    client.create_alias(name, self.address.collection)
                else:
                    client.alter_alias(name, self.address.collection)
        except BaseException:
            self._drop({name}, quietly=True)
            raise
        # The commit point has passed: drop generations no alias names (crashed builds), but
        # keep the previous one for readers that loaded it a moment ago.
        keep = {name, live}
        self._drop({n for n in existing if n not in keep}, quietly=True)
        self._drop_unused_segments(manifest, live)
        stored = StoredIndex(
            self.path,
            manifest,
            store,
            by_id,
            chunks,
            stories,
            keywords,
            functools.partial(self._fetch_keywords, name, manifest),
        )
        if keywords is not None:
            lexical.remember(stored.key, keywords)
        return stored

    def _write_meta(self, name: str, texts: dict[str, str]) -> None:
        with engine_errors(self.address, f"writing {name}"):
            self._create_text_collection(name)
            self._insert_pieces(name, texts)

    def _create_text_collection(self, name: str) -> None:
        """A collection of text pieces (``key#000000`` → ``data``)."""
        pymilvus = _pymilvus()
        client = self.client
        schema = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", pymilvus.DataType.VARCHAR, is_primary=True, max_length=256)
        schema.add_field("data", pymilvus.DataType.VARCHAR, max_length=65_535)
        # Milvus wants a vector field in every collection: a constant one.
        schema.add_field("unused", pymilvus.DataType.FLOAT_VECTOR, dim=2)
        index = client.prepare_index_params()
        index.add_index("unused", index_type="FLAT", metric_type="L2")
        client.create_collection(
            name, schema=schema, index_params=index, consistency_level="Strong"
        )

    def _insert_pieces(self, name: str, texts: dict[str, str], piece: int = PIECE_CHARS) -> None:
        client = self.client
        rows = [
            {"key": f"{key}#{i // piece:06d}", "data": text[i : i + piece], "unused": [0.0, 0.0]}
            for key, text in texts.items()
            for i in range(0, max(len(text), 1), piece)
        ]
        for start in range(0, len(rows), 256):
            client.insert(name, rows[start : start + 256])
        client.flush(name)

    # The keyword index in the engine ------------------------------------------------------

    def _keyword_collection(self) -> str:
        return _KEYWORD_SEGMENTS.format(name=self.address.collection)

    def _stored_segments(self) -> set[str]:
        """The segment files stored whole in the keyword collection (a marker row is written
        after a segment's last piece: one a killed build left half-written is not listed)."""
        collection = self._keyword_collection()
        if not self.client.has_collection(collection):
            return set()
        ensure_loaded(self.address, collection)
        names = set()
        for batch in _iterate(self.client, collection, ["key"], 'key like "%@complete"'):
            names.update(record["key"].rsplit("@", 1)[0] for record in batch)
        return names

    def _store_keywords(self, keywords) -> tuple[dict[str, str], dict[str, str]]:
        """Send the segments of ``keywords`` the keyword collection lacks; returns its other
        files as text (for the generation's ``__meta``) and every file's SHA-256."""
        if keywords is None:
            return {}, {}
        collection = self._keyword_collection()
        with engine_errors(self.address, f"writing {collection}"):
            stored = self._stored_segments()
            texts: dict[str, str] = {}
            with tempfile.TemporaryDirectory(prefix="diploqa-keywords-") as tmp:
                files = keywords.save(Path(tmp), skip=stored)  # those stored are not written
                for file_name in files:
                    if file_name in stored:
                        continue
                    text = base64.b64encode((Path(tmp) / file_name).read_bytes()).decode("ascii")
                    if not is_segment_file(file_name):
                        texts[file_name] = text
                        continue
                    if not self.client.has_collection(collection):
                        self._create_text_collection(collection)
                    ensure_loaded(self.address, collection)
                    self._insert_pieces(collection, {file_name: text}, KEYWORD_PIECE_CHARS)
                    marker = {"key": f"{file_name}@complete", "data": "", "unused": [0.0, 0.0]}
                    self.client.insert(collection, [marker])
                    self.client.flush(collection)
        return texts, files

    def _fetch_keywords(self, live: str, manifest: Manifest, folder: Path) -> None:
        """Write the keyword index's files of generation ``live`` into ``folder`` (checked
        by :meth:`~diploqa.lexical.Bm25Index.load` against the manifest's checksums)."""
        for file_name in manifest.files:
            if not file_name.startswith("keywords."):
                continue
            if is_segment_file(file_name):
                collection = self._keyword_collection()
            else:
                collection = f"{live}__meta"
            ensure_loaded(self.address, collection)
            text = self._read_text(collection, file_name)
            (folder / file_name).write_bytes(base64.b64decode(text))

    def _drop_unused_segments(self, manifest: Manifest, previous: str | None) -> None:
        """Delete the segments neither the new generation nor the previous one names (those
        of dropped generations, and any a killed build sent); quietly: the commit is done."""
        try:
            wanted = {f for f in manifest.files if is_segment_file(f)}
            if previous is not None:
                text = self._read_text(f"{previous}__meta", "manifest")
                wanted |= {f for f in json.loads(text).get("files", {}) if is_segment_file(f)}
            unused = self._stored_segments() - wanted
            collection = self._keyword_collection()
            for file_name in unused:
                literal = _like_literal(file_name)
                self.client.delete(
                    collection,
                    filter=f'key like "{literal}#%" or key == "{file_name}@complete"',
                )
            if unused:
                self.client.flush(collection)
        except Exception as err:  # a leftover segment costs space, never answers
            log.warning("%s: unused keyword segments not deleted: %s", self.address, err)

    def _drop(self, chunk_collections: set[str | None], quietly: bool = False) -> None:
        for name in chunk_collections:
            if name:
                self._drop_collection(name, quietly)
                self._drop_collection(f"{name}__meta", quietly)

    def _drop_collection(self, collection: str, quietly: bool = False) -> None:
        try:
            with engine_errors(self.address, f"dropping {collection}"):
                if self.client.has_collection(collection):
                    self.client.drop_collection(collection)
        except DiploqaError as err:
            if not quietly:
                raise
            log.warning("could not drop %s: %s", collection, err)


# --------------------------------------------------------------------------------------------
# One builder at a time on a server: a lease held by an alias
# --------------------------------------------------------------------------------------------


class BuildLease:
    """A build's lease on a Milvus server: the alias ``<name>__lock`` names a small collection
    of this build's own (``<name>__lease_<random>``) whose one record says who holds it
    (host, pid, since) and until when.

    Creating an alias that exists fails in Milvus, so of two builders only one gets it; the
    other reads the record and fails at once with one line saying who builds. The holder
    renews the expiry every third of :data:`LEASE_SECONDS`; a killed builder's lease expires
    and the next builder takes it over (moves the alias, drops the old record); at once when
    the record names this host and a process that no longer runs. The check in
    :meth:`MilvusLocation.write` still guards the commit, should two builders ever both
    believe they hold the lease (a takeover race).
    """

    def __init__(self, location: MilvusLocation) -> None:
        self.location = location
        self.address = location.address
        self.alias = f"{self.address.collection}__lock"
        self.name = f"{self.address.collection}__lease_{secrets.token_hex(6)}"
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(),
                      "since": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _record(self) -> str:
        return json.dumps({**self.owner, "expires": time.time() + LEASE_SECONDS})

    def _write(self) -> None:
        with engine_errors(self.address, "renewing the build lease"):
            self.location.client.upsert(
                self.name, [{"key": "lease#000000", "data": self._record(), "unused": [0.0, 0.0]}]
            )

    def holder(self) -> tuple[str, dict] | None:
        """The lease collection the alias names and its record; None when no one holds it.
        An unreadable record reads as expired (its builder died while writing it)."""
        client = self.location.client
        with engine_errors(self.address, "reading the build lease"):
            if self.alias not in client.list_aliases().get("aliases", []):
                return None
            held_by = client.describe_alias(self.alias)["collection_name"]
        try:
            ensure_loaded(self.address, held_by)
            record = json.loads(self.location._read_text(held_by, "lease"))
        except (DiploqaError, ValueError):
            record = {}
        return held_by, record

    def __enter__(self) -> BuildLease:
        self.location._write_meta(self.name, {"lease": self._record()})
        try:
            self._take()
        except BaseException:
            self.location._drop_collection(self.name, quietly=True)
            raise
        self._renewer = threading.Thread(target=self._renew, daemon=True, name="milvus-lease")
        self._renewer.start()
        return self

    def _take(self) -> None:
        client = self.location.client
        try:
            with engine_errors(self.address, "taking the build lease"):
                client.create_alias(self.name, self.alias)
            return
        except MilvusError:
            found = self.holder()
            if found is None:  # released in between: one more try
                with engine_errors(self.address, "taking the build lease"):
                    client.create_alias(self.name, self.alias)
                return
        held_by, record = found
        if record.get("expires", 0) > time.time() and not _died_here(record):
            since = record.get("since", "?")
            raise MilvusError(
                f"another build (host {record.get('host', '?')}, pid {record.get('pid', '?')}, "
                f"since {since}) is running on {self.address}; wait for it to finish"
            )
        log.warning("taking over the stale build lease of %s", record or held_by)
        with engine_errors(self.address, "taking over the build lease"):
            client.alter_alias(self.name, self.alias)
        self.location._drop_collection(held_by, quietly=True)

    def _renew(self) -> None:
        while not self._stop.wait(LEASE_SECONDS / 3):
            try:
                self._write()
            except DiploqaError as err:  # the commit check still guards the index
                log.warning("could not renew the build lease: %s", err)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        client = self.location.client
        try:
            with engine_errors(self.address, "releasing the build lease"):
                held = self.alias in client.list_aliases().get("aliases", [])
                if held and client.describe_alias(self.alias)["collection_name"] == self.name:
                    client.drop_alias(self.alias)
        except DiploqaError as err:
            log.warning("could not release the build lease: %s", err)
        self.location._drop_collection(self.name, quietly=True)


def _died_here(record: dict) -> bool:
    """Whether the lease's builder ran on this host and its process is gone (a crashed build
    need not wait out the expiry; a reused pid only makes the next build wait)."""
    pid = record.get("pid")
    if record.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by another user
        return False
    return False
