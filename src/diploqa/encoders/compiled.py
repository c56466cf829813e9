"""Compiled OpenVINO models kept on disk, so that a start imports one instead of compiling.

OpenVINO's own cache (``CACHE_DIR``) was not safe for this: it names a blob by a hash of the
model and its properties but not of the CPU or of oneDNN's ISA setting, so a blob compiled in
one configuration was imported in another; and it writes the blob in place (truncate, then
write) while other processes map the same file, so a process that starts while another writes,
or a writer killed halfway, can import a torn blob (issue #23: a bf16 blob that gave NaN to
every later process). Here a blob's name is a hash of everything that changes the kernels
(:func:`cache_key`); it is written beside its place and renamed in, never rewritten; a blob that
fails to import or fails the self-check is deleted (processes that mapped it keep their copy).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from pathlib import Path

import numpy as np

from ..files import atomic_write
from .cpu import cpu_info, kernel_settings

log = logging.getLogger(__name__)

#: Blobs kept per IR (the least recently used go; each is 200-250 MB).
MAX_BLOBS = 4
#: Blobs OpenVINO's own cache wrote (numeric names) before this cache existed.
_OPENVINO_BLOB = re.compile(r"\d+\.blob")


def cache_key(xml: Path, properties: dict) -> tuple[str, dict]:
    """The blob name for ``xml`` compiled with ``properties`` on this machine in this process,
    and what it was made of: OpenVINO's version, the CPU and its flags, the kernel settings of
    the environment, the IR's files and the properties."""
    import openvino as ov

    name, flags = cpu_info()
    parts = {
        "openvino": ov.get_version(),
        "cpu": name,
        "flags": " ".join(sorted(flags)),
        "environment": kernel_settings(),
        "ir": [
            [p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in (xml, xml.with_suffix(".bin"))
        ],
        "properties": {k: str(v) for k, v in sorted(properties.items())},
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]
    return digest, parts


class CompiledCache:
    """The compiled blobs of one IR, in ``folder`` (``<ir>/compiled``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def beside(cls, ir: Path) -> CompiledCache | None:
        """The cache folder of the IR in ``ir``; None where it cannot be written (then every
        start compiles)."""
        folder = ir / "compiled"
        try:
            folder.mkdir(exist_ok=True)
        except OSError:
            return None
        if not os.access(folder, os.W_OK):
            return None
        stale = time.time() - 3600
        for old in folder.iterdir():
            # what OpenVINO's own cache left (never read again), and what a killed write left
            if _OPENVINO_BLOB.fullmatch(old.name) or (
                old.name.endswith(".tmp") and old.stat().st_mtime < stale
            ):
                old.unlink(missing_ok=True)
        return cls(folder)

    def _blob(self, key: str) -> Path:
        return self.folder / f"{key}.blob"

    def load(self, core, key: str, properties: dict):
        """The compiled model stored under ``key``, or None (none stored, or it failed to
        import: then it is deleted)."""
        blob = self._blob(key)
        if not blob.is_file():
            return None
        try:
            # Mapped copy-on-write: pages are shared with the page cache, and the file may be
            # replaced or deleted by another process without changing what this one reads.
            data = np.memmap(blob, dtype=np.uint8, mode="c")
            import openvino as ov

            model = core.import_model(ov.Tensor(data, shared_memory=True), "CPU", properties)
        except Exception as err:  # a damaged or foreign blob: compile instead
            log.warning("discarding the compiled model %s: it cannot be imported (%s)", blob, err)
            self.discard(key)
            return None
        os.utime(blob)  # recently used: kept by prune()
        model._diploqa_blob = data  # the mapping lives as long as the model
        return model

    def save(self, model, key: str, parts: dict) -> None:
        """Store ``model`` under ``key`` (written beside, renamed in); a failure is logged
        and costs only the next start's compile."""
        try:
            atomic_write(self._blob(key), model.export_model().getvalue())
            atomic_write(self.folder / f"{key}.json", json.dumps(parts, indent=1).encode("utf-8"))
            self.prune()
        except OSError as err:
            log.info("cannot keep the compiled model in %s: %s", self.folder, err)

    def discard(self, key: str) -> None:
        """Delete the blob stored under ``key`` (a process that mapped it keeps its pages)."""
        for path in (self._blob(key), self.folder / f"{key}.json"):
            path.unlink(missing_ok=True)

    def prune(self) -> None:
        """Keep the :data:`MAX_BLOBS` most recently used blobs."""
        blobs = sorted(self.folder.glob("*.blob"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in blobs[MAX_BLOBS:]:
            self.discard(old.stem)
