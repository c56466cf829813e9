"""The index folder: immutable generations committed by replacing the manifest.

Layout::

    index/
      manifest.json        the commit point: names the live generation (see manifest.py)
      gen-000007/
        index.faiss        the vectors (vectors.py)
        metadata.json      articles and chunks (metadata.py)
        keywords.*         the keyword index of the passages (diploqa.lexical; optional: an
                           index without it builds it when loaded)
      .lock                held while a build runs, so two builds never interleave

A build writes a new generation folder next to the live one and then replaces
``manifest.json`` in a single ``os.replace``: a build killed at any point leaves the previous
manifest, and so the previous generation, in place and answering. Every file is checked
against the manifest's checksums before it is parsed.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...articles import Article
from ...chunking import Chunk
from ...config import VectorSettings
from ...errors import DiploqaError, IndexCorruptError
from ...files import sha256_file, temporaries
from ..manifest import GENERATION, MANIFEST, REBUILD_HINT, Manifest, read_manifest
from ..metadata import METADATA_FILE, Stories, parse_metadata
from .vectors import FaissStore

#: The files every generation has, checked before anything is parsed.
FILES = (*FaissStore.files, METADATA_FILE)


def read_generation(
    index_dir: Path, manifest: Manifest, settings: VectorSettings | None = None
) -> tuple[FaissStore, dict[str, Article], list[Chunk], Stories]:
    """The vectors and metadata of the generation ``manifest`` names, verified; its vector
    index searches with ``settings``.

    Raises:
        IndexCorruptError: a file is missing, truncated or does not match its checksum.
    """
    gen = index_dir / manifest.generation
    for name in FILES:
        path = gen / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing: {REBUILD_HINT}")
        if sha256_file(path) != manifest.files.get(name):
            raise IndexCorruptError(f"{path} is corrupt (checksum mismatch): {REBUILD_HINT}")
    try:
        articles, chunks, stories = parse_metadata((gen / METADATA_FILE).read_bytes(), manifest)
        vectors = FaissStore.load(gen, manifest.index_type, settings)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise IndexCorruptError(f"{gen} cannot be parsed ({err}): {REBUILD_HINT}") from None
    if len(vectors) != len(chunks) or vectors.dimension != manifest.dimension:
        raise IndexCorruptError(
            f"{gen}: {len(vectors)} vectors of dimension {vectors.dimension} for "
            f"{len(chunks)} passages of dimension {manifest.dimension}: {REBUILD_HINT}"
        )
    return vectors, articles, chunks, stories


def prepare_index_dir(index_dir: Path) -> None:
    """Create the index folder if needed; refuse a file or a folder that cannot be written."""
    if index_dir.exists() and not index_dir.is_dir():
        raise DiploqaError(f"{index_dir} exists and is not a folder: choose another --index")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DiploqaError(f"cannot create index folder {index_dir}: {err.strerror}") from None
    if not os.access(index_dir, os.W_OK):
        raise DiploqaError(
            f"index folder {index_dir} is not writable; the previous index is unchanged"
        )


def next_generation(index_dir: Path) -> str:
    """The name of the generation a build writes next (after every folder there)."""
    numbers = [int(m.group(1)) for p in index_dir.iterdir() if (m := GENERATION.match(p.name))]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def remove_old_generations(index_dir: Path, keep: set[str]) -> None:
    """Drop generations no manifest names. The previous one is kept for readers that loaded
    it a moment ago; folders of crashed builds are removed."""
    gens = sorted(p.name for p in index_dir.iterdir() if GENERATION.match(p.name))
    newest = max(keep)
    previous = [g for g in gens if g < newest][-1:]
    for name in gens:
        if name not in keep and name not in previous:
            shutil.rmtree(index_dir / name, ignore_errors=True)


def _write_error_reason(err: OSError | RuntimeError) -> str:
    """The reason ("No space left on device" …), also from FAISS's long C++ messages."""
    if isinstance(err, OSError):
        return err.strerror or str(err)
    found = re.search(r"\(([^()]+)\)\s*$", str(err))
    return found.group(1) if found else "the vector file could not be written"


@contextmanager
def cleanup_on_write_error(index_dir: Path) -> Iterator[None]:
    """Turn a failed write (disk full, read-only, I/O error) into one clear error, and remove
    what the failed build left: generation folders that did not exist before it and that the
    manifest does not name, and the temporary manifest. Runs under the build lock."""
    before = {p.name for p in index_dir.iterdir() if GENERATION.match(p.name)}
    try:
        yield
    except (OSError, RuntimeError) as err:  # faiss reports failed writes as RuntimeError
        try:
            live = read_manifest(index_dir).generation
        except DiploqaError:
            live = None
        for path in index_dir.iterdir():
            if GENERATION.match(path.name) and path.name not in before and path.name != live:
                shutil.rmtree(path, ignore_errors=True)
        for tmp in temporaries(index_dir / MANIFEST):
            tmp.unlink(missing_ok=True)
        reason = _write_error_reason(err)
        if live is not None and live not in before:  # failed after the commit point
            raise DiploqaError(
                f"the index in {index_dir} was updated, but cleaning up failed: {reason}"
            ) from None
        raise DiploqaError(
            f"cannot write the index to {index_dir}: {reason}; the previous index is unchanged"
        ) from None
