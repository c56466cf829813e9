"""Writing files so that no reader ever sees half of one, and checking them.

* :func:`atomic_write` (and :func:`replacing`, for writers that need a path, such as SQLite):
  a file is written under a hidden temporary name in its own folder and renamed onto its final
  name in one ``os.replace``; on error the temporary file is removed.
* :func:`build_folder`: the same for a whole folder (materialised and exported models), and
  :func:`made_once`: such a folder made by one process at a time (:func:`one_at_a_time`).
* :func:`sha256_file`: the checksum the index manifest and the model cache names use.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (model files and index files are large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    """Sync a file's data, or a folder's entries (a rename in it), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path: Path, fsync: bool = True, mode: int | None = None) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``path`` (an empty file, ``.<name>.<random>.tmp``);
    when the block succeeds that file is renamed onto ``path`` in one ``os.replace`` (with
    ``fsync``: its data synced to disk before, the folder after), so readers see the old file or
    the new one, never part of one. On error the temporary file is removed and the error
    propagates. ``mode``: the permission bits of the result (else those a plain write gives);
    the scratch file has them from its creation, so a secret is never readable by others."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)  # mkstemp creates it 0600
    scratch = Path(name)
    try:
        yield scratch
        # mkstemp makes the file private (0600); the result gets the mode a plain write would
        # give it (the old file's, else 0666 less the umask), so a team can share an index.
        os.chmod(scratch, _mode_for(path) if mode is None else mode)
        if fsync:
            fsync_path(scratch)
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    if fsync:
        fsync_path(path.parent)


def _mode_for(path: Path) -> int:
    """The permission bits ``path`` has, or those a new file gets under this umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        pass
    try:  # the umask, read without changing it (os.umask would race with other threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def atomic_write(
    path: Path,
    data: bytes,
    fsync: bool = True,
    before_replace: Callable[[], None] | None = None,
    mode: int | None = None,
) -> None:
    """Replace ``path`` with ``data`` in one step: written to a hidden temporary file in the
    same folder, flushed (with ``fsync``: synced to disk), renamed onto ``path`` with
    ``os.replace``, then the folder synced. On error the temporary file is removed and ``path``
    is left as it was. ``before_replace`` runs just before the rename (the crash tests stop a
    build there). ``mode``: as for :func:`replacing`."""
    with replacing(path, fsync, mode) as scratch:
        scratch.write_bytes(data)
        if before_replace is not None:
            before_replace()


def temporaries(path: Path) -> list[Path]:
    """Temporary files :func:`replacing` left beside ``path`` (after a crash)."""
    path = Path(path)
    return sorted(path.parent.glob(f".{path.name}.*tmp"))


def write_synced(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write a new file and sync it to disk (inside a folder that is renamed in later);
    ``data`` may come in pieces (a large file is then never whole in memory)."""
    with open(path, "wb") as fh:
        for piece in [data] if isinstance(data, bytes) else data:
            fh.write(piece)
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def build_folder(target: Path, prefix: str) -> Iterator[tuple[Path, Path]]:
    """Yield ``(scratch, out)`` beside ``target``. What the caller writes into ``out`` is renamed
    to ``target`` in one step when the block succeeds (if a concurrent process got there first,
    its folder is kept), so an interrupted run leaves nothing half-written; the scratch folder
    is removed in any case."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        out = work / "out"
        yield work, out
        try:
            os.replace(out, target)
        except OSError:
            if not target.exists():  # else another process renamed its own in first: kept
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def one_at_a_time(target: Path) -> Iterator[None]:
    """Hold an exclusive lock for making ``target`` (a file ``.<name>.lock`` beside it): other
    processes making it wait here. The lock file is removed once ``target`` exists: whoever
    opens a lock file after that finds ``target`` made and has no need of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.parent / f".{target.name}.lock"
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
            if target.exists():
                path.unlink(missing_ok=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def made_once(
    target: Path,
    prefix: str,
    ready: Callable[[Path], bool],
    make: Callable[[Path, Path], None],
) -> Path:
    """``target``, made by ``make(scratch, out)`` in a :func:`build_folder` unless
    ``ready(target)``. Processes that find it missing make it :func:`one_at_a_time` and look
    again once they hold the lock: two programs started together on a new machine make a model
    once, instead of each on half the cores."""
    if not ready(target):
        with one_at_a_time(target):
            if not ready(target):
                with build_folder(target, prefix) as (scratch, out):
                    make(scratch, out)
    return target
