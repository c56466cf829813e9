"""One connection to a Milvus engine (server, cluster or Milvus Lite), and its errors.

A :class:`MilvusConnection` is owned by the location that opened it and shared with the
vector stores it loads; :meth:`MilvusConnection.close` releases it. A server that could not be
reached drops the client, so that the next call opens a fresh channel instead of waiting out
gRPC's reconnect backoff: a running diploqa recovers by itself.

Milvus Lite serves a file from a server inside this process (one per file, shared by every
client of the file, :mod:`milvus_lite.server_manager`) and holds the file against other
processes; it is stopped when the last client of the file here closes.

pymilvus logs every failed call with a traceback at ERROR; it is silenced here, and every
engine error reaches the user as one :class:`~diploqa.errors.DiploqaError` line (the token
never in it). A token the server refuses (or none where it wants one) is said as such,
naming ``DIPLOQA_MILVUS_TOKEN``.

Versions: the store works with Milvus 2.3 servers and later and with Milvus Lite; where
they differ (``like`` patterns, see :mod:`.expressions`) :attr:`MilvusConnection.full_like`
says which the engine is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ...errors import DiploqaError, IndexCorruptError, StoreUnavailableError
from ..address import StoreAddress
from ..manifest import REBUILD_HINT

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'diploqa[milvus]' (pymilvus and milvus-lite)"

T = TypeVar("T")

#: The oldest Milvus server version the store is tested with.
OLDEST_SERVER = (2, 3)
#: From this version on a server knows every ``like`` pattern (2.3: a prefix only).
FULL_LIKE_SINCE = (2, 4)
#: Records per query of :meth:`MilvusConnection.iterate`.
ITERATE_BATCH = 1_000


class MilvusError(StoreUnavailableError):
    """The Milvus engine cannot be reached, refused the token, or failed a call."""


def pymilvus_module():
    """pymilvus, imported on first use (an optional dependency), its logging silenced."""
    # gRPC's C core prints to stderr when the process forks (the tokenizer and OpenVINO do)
    # and when a keep-alive ping is refused during a long build; every failed call reaches
    # the user as an exception anyway (one line, see MilvusConnection.errors).
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


def _reason(err: BaseException, address: StoreAddress) -> str:
    """The engine's message, without the token and without pymilvus's wrapping."""
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    if address.token:
        message = message.replace(address.token, "***")
    return " ".join(str(message).split())


def _grpc_code(err: BaseException) -> str:
    """The gRPC status name of ``err`` or of the gRPC error pymilvus raised it from."""
    for cause in (err, err.__cause__):
        code = getattr(cause, "code", None)
        if callable(code):
            return getattr(code(), "name", "")
    return ""


def _token_refused(err: BaseException) -> bool:
    """Whether ``err`` says the server refused the token (wrong, or none given)."""
    if _grpc_code(err) == "UNAUTHENTICATED":
        return True
    text = str(getattr(err, "message", None) or err)
    return "auth check failure" in text or "missing authorization" in text


def _token_message(address: StoreAddress) -> str:
    given = "refused the token in" if address.token else "wants a token and none is set in"
    return (
        f"Milvus at {address} {given} DIPLOQA_MILVUS_TOKEN: set it to user:password (or an "
        "API key) of an account on that server"
    )


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


#: Open clients of each Milvus Lite file in this process (the engine's in-process server of a
#: file is stopped when the last closes). Read and written only here, under the lock.
_lite_clients: dict[str, int] = {}
_lite_lock = threading.Lock()


def _open_lite(address: StoreAddress) -> Any:
    pymilvus_module()
    try:
        import milvus_lite  # noqa: F401
    except ImportError:
        raise DiploqaError(
            f"the store {address} needs the milvus-lite package: {INSTALL_HINT}"
        ) from None
    # Milvus Lite runs in this process behind a gRPC server of its own, which logs tracebacks
    # for calls it does not implement (pymilvus falls back) and for a file another process
    # holds (reported as one line).
    for noisy in ("milvus_lite", "grpc._server"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    folder = Path(address.uri).parent
    if not folder.is_dir():
        raise MilvusError(f"cannot open {address}: the folder {folder} does not exist")
    path = os.path.abspath(address.uri)
    with _lite_lock:
        client = _new_client(address)
        _lite_clients[path] = _lite_clients.get(path, 0) + 1
    return client


def _close_lite(address: StoreAddress) -> None:
    path = os.path.abspath(address.uri)
    with _lite_lock:
        left = _lite_clients.get(path, 1) - 1
        if left > 0:
            _lite_clients[path] = left
            return
        _lite_clients.pop(path, None)
        with contextlib.suppress(ImportError):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(address.uri)


def _new_client(address: StoreAddress) -> Any:
    pymilvus = pymilvus_module()
    try:
        # A dedicated channel: pymilvus shares one per address in a process-wide registry
        # that outlives close() and, after 30 s idle, health-checks it on reuse (a failed
        # check is a failed connect); each connection here has its own client instead.
        return pymilvus.MilvusClient(
            uri=address.uri, token=address.token, timeout=10, dedicated=True
        )
    except Exception as err:  # pymilvus raises its own types and gRPC's
        reason = _reason(err, address)
        if address.kind == "milvus" and _token_refused(err):
            raise MilvusError(_token_message(address)) from None
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


class MilvusConnection:
    """A client of the engine at ``address``, opened on first use and again after
    :meth:`close` (or after the server was unreachable)."""

    def __init__(self, address: StoreAddress) -> None:
        self.address = address
        self._client: Any = None
        self._lock = threading.Lock()
        self._full_like: bool | None = None

    @property
    def client(self) -> Any:
        """The pymilvus client.

        Raises:
            MilvusError: pymilvus or milvus-lite missing, the server unreachable, the token
                refused, or the Lite file in use by another process.
        """
        with self._lock:
            if self._client is None:
                if self.address.kind == "milvus-lite":
                    self._client = _open_lite(self.address)
                else:
                    self._client = _new_client(self.address)
            return self._client

    @property
    def full_like(self) -> bool:
        """Whether the engine knows every ``like`` pattern (Milvus Lite, servers from 2.4),
        asked once per client; True where the version cannot be read (a newer service).

        Raises:
            MilvusError: the engine cannot be reached.
        """
        if self.address.kind == "milvus-lite":
            return True
        if self._full_like is None:
            with self.errors("reading the server version"):
                version = str(self.client.get_server_version())
            found = re.search(r"(\d+)\.(\d+)", version)
            numbers = (int(found[1]), int(found[2])) if found else FULL_LIKE_SINCE
            self._full_like = numbers >= FULL_LIKE_SINCE
        return self._full_like

    def close(self) -> None:
        """Close the client; for Milvus Lite, stop the engine's in-process server once no
        other client of the file is open here, so that another process can open it."""
        with self._lock:
            client, self._client = self._client, None
            self._full_like = None
        if client is None:
            return
        with contextlib.suppress(Exception):
            client.close()
        if self.address.kind == "milvus-lite":
            _close_lite(self.address)

    @contextlib.contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Turn any error of the engine into one :class:`MilvusError` line (a lost collection:
        :class:`IndexCorruptError`). A server that cannot be reached also drops the client
        (the next call connects afresh)."""
        address = self.address
        try:
            yield
        except DiploqaError:
            raise
        except Exception as err:
            if type(err).__module__.split(".")[0] not in ("pymilvus", "grpc", "milvus_lite"):
                raise
            reason = _reason(err, address)
            if address.kind == "milvus" and _token_refused(err):
                self.close()
                raise MilvusError(_token_message(address)) from None
            if address.kind == "milvus" and _unreachable(err):
                self.close()
                raise MilvusError(
                    f"cannot reach Milvus at {address} while {doing} ({reason}): check that "
                    "the server runs; diploqa reconnects by itself once it answers"
                ) from None
            if "does not exist" in reason or "not found" in reason:
                raise IndexCorruptError(
                    f"Milvus at {address} lost part of the index while {doing} ({reason}): "
                    f"{REBUILD_HINT}"
                ) from None
            raise MilvusError(f"Milvus at {address} failed while {doing}: {reason}") from None

    def loaded_call(self, collection: str, doing: str, call: Callable[[], T]) -> T:
        """``call()`` inside :meth:`errors`; if the engine says ``collection`` is not loaded
        (a restarted server, or Milvus Lite reopening its file, loads nothing), load it and
        call once more, so that a server restart needs no restart of diploqa."""
        with self.errors(doing):
            try:
                return call()
            except Exception as err:
                if not _not_loaded(err):
                    raise
            self.client.load_collection(collection)
            return call()

    def create_collection(self, name: str, schema: Any, index: Any) -> None:
        """Create collection ``name`` with its index and start loading it, without waiting:
        a server loads in a second or two, most of it waiting for its query coordinator's
        once-a-second look, which the build spends writing (inserts need no load); whoever
        reads it first waits in :meth:`ensure_loaded`. Nor is the index waited for: the
        collection is empty, and pymilvus would first sleep half a second. The caller wraps
        it in :meth:`errors`."""
        client = self.client
        client.create_collection(name, schema=schema, consistency_level="Strong")
        client.create_index(name, index, sync=False)
        client.load_collection(name, _async=True)

    def ensure_loaded(self, *collections: str) -> None:
        """Load ``collections`` for searching and queries, and wait until they are (Milvus
        Lite releases every collection when the file is reopened, a restarted server too;
        a collection still loading is waited for; loading a loaded one is a no-op). Those
        not loaded load side by side."""
        client = self.client
        with self.errors(f"loading {', '.join(collections)}"):
            waiting = []
            for collection in collections:
                state = client.get_load_state(collection).get("state")
                if getattr(state, "name", str(state)) != "Loaded":
                    client.load_collection(collection, _async=True)
                    waiting.append(collection)
            for collection in waiting:
                client.load_collection(collection)

    def seal(self, collection: str) -> None:
        """Seal the segments of ``collection``, so that the engine builds its index on them.
        Milvus Lite writes its file on it, which is waited for; a server has the rows in its
        log already, and sealing goes on in the background (waiting for it adds nothing a
        search or a restart needs). The caller wraps it in :meth:`errors`."""
        if self.address.kind == "milvus-lite":
            self.client.flush(collection)
        else:
            self.client.flush(collection, _async=True)

    def persist(self, collection: str) -> None:
        """Make what was written to ``collection`` last: Milvus Lite writes its file on a
        flush; a server has every insert in its log once the call returns, and sealing is
        left to the vector collections, whose index is built on sealed segments
        (:meth:`seal`; the caller wraps it in :meth:`errors`)."""
        if self.address.kind == "milvus-lite":
            self.client.flush(collection)

    def iterate(self, collection: str, fields: list[str], expression: str) -> Iterator[list]:
        """The records of ``collection`` matching ``expression``, in batches (the caller
        wraps it in :meth:`errors`). One query first: most reads (a manifest, a keyword
        file, a lease) fit in one batch, and a query iterator makes several calls, each of
        which a Strong read makes wait for the server's next time tick (200 ms by default).
        Only where the batch comes back full does the iterator read it all."""
        first = self.client.query(
            collection, filter=expression, output_fields=fields, limit=ITERATE_BATCH
        )
        if len(first) < ITERATE_BATCH:
            if first:
                yield first
            return
        iterator = self.client.query_iterator(
            collection, batch_size=ITERATE_BATCH, filter=expression, output_fields=fields
        )
        try:
            while batch := iterator.next():
                yield batch
        finally:
            iterator.close()

    def drop_collection(self, collection: str, quietly: bool = False) -> None:
        """Drop ``collection`` if it exists (``quietly``: a failure is only logged)."""
        try:
            with self.errors(f"dropping {collection}"):
                if self.client.has_collection(collection):
                    self.client.drop_collection(collection)
        except DiploqaError as err:
            if not quietly:
                raise
            log.warning("could not drop %s: %s", collection, err)
