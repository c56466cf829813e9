"""Load the models a server will need while it starts (``diploqa serve``).

Compiling the OpenVINO model and reading USE's weights spend most of their time outside the
GIL, so they run on threads while the main thread imports Gradio and builds the page; the
index load that follows finds them loaded (:func:`~diploqa.encoders.get_encoder` returns the
process-wide instances, waiting for a load in progress rather than starting another).
:func:`start_preload` returns a :class:`Preload` that the caller holds and waits on.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .encoders import get_embedder, get_use
from .encoders.use import USE_NAME
from .errors import DiploqaError
from .store import StoreAddress, location_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preload:
    """The loads :func:`start_preload` began (none where there was nothing to load)."""

    threads: tuple[threading.Thread, ...] = ()

    def wait(self, timeout: float = 60) -> None:
        """Wait until the loads are done, at most ``timeout`` seconds in all. The page build
        waits here before importing Gradio, so that the import does not take the two cores
        the first answer needs (``diploqa.app.server``: the JSON endpoint answers first); a
        process waits here before it exits (a thread inside OpenVINO at interpreter exit
        would crash it)."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def _model_of(index_dir: Path, store: str | StoreAddress | None, settings: Settings) -> str | None:
    """The model an existing index names, in the folder or the Milvus store (None: no
    readable index; then nothing is loaded, as the server would not load one either until it
    builds)."""
    try:
        location = location_of(settings, index_dir, store)
        try:
            return location.read_manifest().model
        finally:
            location.close()
    except (DiploqaError, OSError, ValueError):
        return None


def start_preload(
    index_dir: Path, store: str | StoreAddress | None = None, settings: Settings | None = None
) -> Preload:
    """Start loading the encoder of the index in ``index_dir`` (or in the Milvus ``store``,
    ``--store``) on daemon threads (the primary model on one, USE on another), as ``settings``
    (default :class:`~diploqa.config.Settings`) have the server load it; errors are only
    logged, the index load reports them again."""
    settings = settings or Settings()
    model = _model_of(index_dir, store, settings)
    if model is None:
        return Preload()
    encoder = settings.encoder

    def primary() -> None:
        try:
            base = model.removesuffix("+" + USE_NAME)
            get_embedder(base, settings=encoder).encode_queries(["Start"])
        except Exception as err:  # the real load reports it
            log.debug("preloading the model failed: %s", err)

    def partner() -> None:
        try:
            get_use(encoder.cache, encoder.use_runtime).encode(["Start"])  # reads its weights
        except Exception as err:
            log.debug("preloading USE failed: %s", err)

    threads = [threading.Thread(target=primary, name="diploqa-preload-model", daemon=True)]
    if model.endswith("+" + USE_NAME):
        threads.append(threading.Thread(target=partner, name="diploqa-preload-use", daemon=True))
    for thread in threads:
        thread.start()
    return Preload(tuple(threads))
