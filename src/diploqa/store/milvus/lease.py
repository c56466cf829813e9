"""One builder at a time on a Milvus server: a lease held by an alias."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from datetime import UTC, datetime

from ...errors import DiploqaError
from . import texts
from .client import MilvusConnection, MilvusError

log = logging.getLogger(__name__)

#: How long a builder's lease on a server holds without being renewed (a killed builder's
#: lease is taken over after this); renewed every third of it while the build runs.
LEASE_SECONDS = 60.0


class BuildLease:
    """A build's lease on a Milvus server: the alias ``<name>__lock`` names a small collection
    of this build's own (``<name>__lease_<random>``) whose one record says who holds it
    (host, pid, since) and until when.

    Creating an alias that exists fails in Milvus, so of two builders only one gets it; the
    other reads the record and fails at once with one line saying who builds. The holder
    renews the expiry every third of :data:`LEASE_SECONDS`; a killed builder's lease expires
    and the next builder takes it over (moves the alias, drops the old record); at once when
    the record names this host and a process that no longer runs. The check before the alias
    switch (:class:`~.location.MilvusGeneration`) still guards the commit, should two builders
    ever both believe they hold the lease (a takeover race).
    """

    def __init__(self, connection: MilvusConnection) -> None:
        self.connection = connection
        self.address = connection.address
        self.alias = f"{self.address.collection}__lock"
        self.name = f"{self.address.collection}__lease_{secrets.token_hex(6)}"
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(),
                      "since": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _record(self) -> str:
        return json.dumps({**self.owner, "expires": time.time() + LEASE_SECONDS})

    def _write(self) -> None:
        with self.connection.errors("renewing the build lease"):
            self.connection.client.upsert(
                self.name, [{"key": "lease#000000", "data": self._record(), "unused": [0.0, 0.0]}]
            )

    def holder(self) -> tuple[str, dict] | None:
        """The lease collection the alias names and its record; None when no one holds it.
        An unreadable record reads as expired (its builder died while writing it)."""
        client = self.connection.client
        with self.connection.errors("reading the build lease"):
            if self.alias not in client.list_aliases().get("aliases", []):
                return None
            held_by = client.describe_alias(self.alias)["collection_name"]
        try:
            self.connection.ensure_loaded(held_by)
            record = json.loads(texts.read_text(self.connection, held_by, "lease"))
        except (DiploqaError, ValueError):
            record = {}
        return held_by, record

    def __enter__(self) -> BuildLease:
        texts.write_texts(self.connection, self.name, {"lease": self._record()})
        try:
            self._take()
        except BaseException:
            self.connection.drop_collection(self.name, quietly=True)
            raise
        self._renewer = threading.Thread(target=self._renew, daemon=True, name="milvus-lease")
        self._renewer.start()
        return self

    def _take(self) -> None:
        client = self.connection.client
        try:
            with self.connection.errors("taking the build lease"):
                client.create_alias(self.name, self.alias)
            return
        except MilvusError:
            found = self.holder()
            if found is None:  # released in between: one more try
                with self.connection.errors("taking the build lease"):
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
        with self.connection.errors("taking over the build lease"):
            client.alter_alias(self.name, self.alias)
        self.connection.drop_collection(held_by, quietly=True)

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
        client = self.connection.client
        try:
            with self.connection.errors("releasing the build lease"):
                held = self.alias in client.list_aliases().get("aliases", [])
                if held and client.describe_alias(self.alias)["collection_name"] == self.name:
                    client.drop_alias(self.alias)
        except DiploqaError as err:
            log.warning("could not release the build lease: %s", err)
        self.connection.drop_collection(self.name, quietly=True)


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
