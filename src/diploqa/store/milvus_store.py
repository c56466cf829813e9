"""The Milvus store: the whole index inside a Milvus engine (server, cluster or Milvus Lite).

One generation is two collections, both written completely before anyone reads them::

    <name>__gen_000007         a row per chunk: row (primary key), vector, and the scalar
                               fields the filters test (article_id, outlet words, date range)
    <name>__gen_000007__meta   the manifest and the metadata (articles, chunks, stories) as
                               JSON text in pieces, checked against the manifest's checksum

The alias ``<name>`` names the live generation's chunk collection; a build switches it in one
``alter_alias`` after both collections are complete, so a search never sees half an update. A
reader resolves the alias once per load and then reads that generation only. A killed build
leaves the old alias, and so the old generation, answering; the next build drops what it left
(it keeps the previous generation for readers that loaded it a moment ago, as the FAISS
folder does).

Filters become Milvus expressions evaluated inside the search (:func:`filter_expression`);
an article-id glob with character classes, which ``like`` cannot express, is sent as the
list of allowed rows instead (also inside the search).

pymilvus logs every failed call with a traceback at ERROR; :func:`connect` silences its logger,
and every engine error reaches the user as one :class:`~diploqa.errors.DiploqaError` line
(the token never in it).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .. import config
from ..articles import Article
from ..chunking import Chunk
from ..encoders import Encoder
from ..errors import DiploqaError, IndexCorruptError, StoreUnavailableError
from ..faults import fault_point
from ..filters import SearchFilter, date_range
from .manifest import REBUILD_HINT, Manifest, parse_manifest
from .metadata import METADATA_FILE, Stories, dump_metadata, parse_metadata

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'diploqa[milvus]' (pymilvus and milvus-lite)"
#: Generation collections of alias ``name``: ``name__gen_000007`` and ``…__meta``.
_GENERATION = "{name}__gen_{number:06d}"
#: Text pieces of the metadata collection (VARCHAR holds at most 65,535 bytes; 4 per char).
PIECE_CHARS = 16_000
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
            client = pymilvus.MilvusClient(uri=address.uri, token=address.token, timeout=10)
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


@contextlib.contextmanager
def engine_errors(address: config.StoreAddress, doing: str) -> Iterator[None]:
    """Turn any error of the engine into one :class:`MilvusError` line."""
    try:
        yield
    except DiploqaError:
        raise
    except Exception as err:
        if type(err).__module__.split(".")[0] not in ("pymilvus", "grpc", "milvus_lite"):
            raise
        reason = _reason(err, address)
        if "does not exist" in reason or "not found" in reason:
            raise IndexCorruptError(
                f"Milvus at {address} lost part of the index while {doing} ({reason}): "
                f"{REBUILD_HINT}"
            ) from None
        raise MilvusError(f"Milvus at {address} failed while {doing}: {reason}") from None


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
        self.client = connect(address)
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
        with engine_errors(self.address, "searching"):
            results = self.client.search(
                self.collection,
                data=queries.tolist(),
                limit=limit,
                filter=expression or "",
                search_params={"metric_type": "IP", "params": {"ef": ef}},
                output_fields=[],
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
        with engine_errors(self.address, "reading vectors"):
            records = self.client.query(
                self.collection,
                filter=_rows_expression(wanted),
                output_fields=["row", "vector"],
                limit=len(wanted),
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
        with engine_errors(self.address, f"counting {self.collection}"):
            result = self.client.query(self.collection, filter="", output_fields=["count(*)"])
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

    def _generations(self) -> dict[int, str]:
        """Generation number → chunk collection name, for every generation of which either
        collection exists (a half-written or half-dropped one too)."""
        prefix = re.escape(self.address.collection)
        pattern = re.compile(rf"^({prefix}__gen_(\d{{6}}))(?:__meta)?$")
        with engine_errors(self.address, "listing collections"):
            names = self.client.list_collections()
        return {int(m.group(2)): m.group(1) for name in names if (m := pattern.match(name))}

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
        """Two builds on one Milvus Lite file wait for each other (a lock file beside it);
        against a server, run one builder at a time (README: Milvus)."""
        if self.address.kind != "milvus-lite":
            return contextlib.nullcontext()
        from .generations import build_lock

        db = Path(self.address.uri)
        return build_lock(db.parent, name=f".{db.name}.lock")

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
        live = self._collection(manifest.generation)
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
        return StoredIndex(self.path, manifest, vectors, articles, chunks, stories)

    def _collection(self, generation: str) -> str:
        return _GENERATION.format(name=self.address.collection, number=int(generation[4:]))

    def write(
        self,
        encoder: Encoder,
        articles: list[Article],
        chunks: list[Chunk],
        vectors: np.ndarray,
        chunking: config.ChunkingConfig,
        stories: Stories,
        backends: list[str] | None = None,
    ):
        """Write a new generation (two collections), then switch the alias to it.

        Raises:
            MilvusError: the engine failed; what this build wrote is dropped, the previous
                index is unchanged.
        """
        from .generations import StoredIndex

        client = self.client
        existing = self._generations()
        live = self.live_collection()
        number = max(existing, default=0) + 1
        generation = f"gen-{number:06d}"
        name = self._collection(generation)
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
            manifest = Manifest(
                format_version=config.INDEX_FORMAT_VERSION,
                generation=generation,
                model=encoder.model_id,
                backend=encoder.backend,
                backends=backends or [encoder.backend],
                dimension=encoder.dim,
                index_type=store.index_type,
                chunking=chunking.as_dict(),
                articles={a.id: a.content_hash for a in articles},
                n_chunks=len(chunks),
                files={METADATA_FILE: hashlib.sha256(metadata).hexdigest()},
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                extra={"store": "milvus", "collection": name},
            )
            self._write_meta(
                f"{name}__meta",
                {"manifest": manifest.to_json().decode(), "metadata": metadata.decode()},
            )
            fault_point("before-swap")
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
        self._drop({n for n in existing.values() if n not in keep}, quietly=True)
        return StoredIndex(self.path, manifest, store, by_id, chunks, stories)

    def _write_meta(self, name: str, texts: dict[str, str]) -> None:
        pymilvus = _pymilvus()
        client = self.client
        with engine_errors(self.address, f"writing {name}"):
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
            rows = [
                {
                    "key": f"{key}#{i // PIECE_CHARS:06d}",
                    "data": text[i : i + PIECE_CHARS],
                    "unused": [0.0, 0.0],
                }
                for key, text in texts.items()
                for i in range(0, max(len(text), 1), PIECE_CHARS)
            ]
            for start in range(0, len(rows), 256):
                client.insert(name, rows[start : start + 256])
            client.flush(name)

    def _drop(self, chunk_collections: set[str | None], quietly: bool = False) -> None:
        for name in chunk_collections:
            if not name:
                continue
            for collection in (name, f"{name}__meta"):
                try:
                    with engine_errors(self.address, f"dropping {collection}"):
                        if self.client.has_collection(collection):
                            self.client.drop_collection(collection)
                except DiploqaError as err:
                    if not quietly:
                        raise
                    log.warning("could not drop %s: %s", collection, err)
