"""Infer requests of a compiled OpenVINO model, reused across calls and threads."""

from __future__ import annotations

import queue

import numpy as np


class InferRequests:
    """The infer requests of one compiled ``model``: creating one per call costs more than a
    short text's inference, so they are reused; each caller takes a free one (or a new one),
    so calls from several threads never share a request."""

    def __init__(self, model) -> None:
        self.model = model
        self._free: queue.SimpleQueue = queue.SimpleQueue()

    def infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """The model's first output for ``inputs``, a copy of its own (the GIL is released
        while the model runs; the inputs are read in place)."""
        try:
            request = self._free.get_nowait()
        except queue.Empty:
            request = self.model.create_infer_request()
        try:
            return request.infer(inputs, share_inputs=True)[0]
        finally:
            self._free.put(request)
