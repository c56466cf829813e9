"""Load the models a server will need while it starts (``diploqa serve``).

Compiling the OpenVINO model and reading USE's weights spend most of their time outside the
GIL, so they run on threads while the main thread imports Gradio and builds the page; the
index load that follows finds them loaded (:func:`~diploqa.encoders.get_encoder` returns the
process-wide instances, waiting for a load in progress rather than starting another).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from .config import StoreAddress
from .encoders import get_embedder, get_use
from .encoders.ensemble import USE_NAME
from .errors import DiploqaError
from .store import open_location

log = logging.getLogger(__name__)


def _model_of(index_dir: Path, store: str | StoreAddress | None) -> str | None:
    """The model an existing index names, in the folder or the Milvus store (None: no
    readable index; then nothing is loaded, as the server would not load one either until it
    builds)."""
    try:
        location = open_location(index_dir, store)
        try:
            return location.read_manifest().model
        finally:
            location.close()
    except (DiploqaError, OSError, ValueError):
        return None


#: The loads :func:`start_preload` began in this process.
_started: list[threading.Thread] = []


def wait_for_preload(timeout: float = 60) -> None:
    """Wait until the loads :func:`start_preload` began are done. The page build waits here
    before importing Gradio, so that the import does not take the two cores the first answer
    needs (``diploqa.app.server``: the JSON endpoint answers first)."""
    deadline = time.monotonic() + timeout
    for thread in list(_started):
        thread.join(max(0.0, deadline - time.monotonic()))


def start_preload(
    index_dir: Path, store: str | StoreAddress | None = None
) -> list[threading.Thread]:
    """Start loading the encoder of the index in ``index_dir`` (or in the Milvus ``store``,
    ``--store``) on daemon threads (the primary model on one, USE on another) and return them;
    errors are only logged, the index load reports them again."""
    model = _model_of(index_dir, store)
    if model is None:
        return []

    def primary() -> None:
        try:
            get_embedder(model.removesuffix("+" + USE_NAME)).encode_queries(["Start"])
        except Exception as err:  # the real load reports it
            log.debug("preloading the model failed: %s", err)

    def partner() -> None:
        try:
            get_use().encode(["Start"])  # reads its weights
        except Exception as err:
            log.debug("preloading USE failed: %s", err)

    threads = [threading.Thread(target=primary, name="diploqa-preload-model", daemon=True)]
    if model.endswith("+" + USE_NAME):
        threads.append(threading.Thread(target=partner, name="diploqa-preload-use", daemon=True))
    for thread in threads:
        thread.start()
    _started.extend(threads)
    return threads
