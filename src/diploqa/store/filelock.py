"""The lock file a build holds beside what it writes (the FAISS folder; a Milvus Lite file),
so that two builds on one machine never interleave: the second waits for the first."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import DiploqaError

log = logging.getLogger(__name__)


@contextmanager
def build_lock(folder: Path, name: str = ".lock") -> Iterator[None]:
    """Hold an exclusive lock on the file ``name`` in ``folder``; a second build waits for the
    first."""
    try:
        fh = open(folder / name, "a+")  # noqa: SIM115 (closed by the with below)
    except OSError as err:
        raise DiploqaError(
            f"cannot lock the index folder {folder}: {err.strerror or err}; "
            "the previous index is unchanged"
        ) from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another build of %s is running; waiting for it to finish", folder)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
