"""How long a small update of an index on a real Milvus server takes, and how much of it is
the server's reads (each Strong read waits for the server's next time tick).

Starts the Milvus 2.3.5 standalone server of the ``milvus`` package (tests/milvus_standalone.py)
with its own default time tick (200 ms, what a user's server has) or ``--tick``, builds the
seeds with the default model, then adds one article at a time and times each update and the
pymilvus calls in it. Compare two trees by running it with each one's ``src`` first on
``PYTHONPATH``, in turns:

    PYTHONPATH=<tree>/src:benchmarks:tests python benchmarks/milvus_update.py [--tick 200]
"""

from __future__ import annotations

import argparse
import collections
import inspect
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import milvus_standalone  # tests/milvus_standalone.py
import pymilvus
import report  # benchmarks/report.py

import diploqa
from diploqa.build import build
from diploqa.encoders import get_encoder

SEEDS = report.REPO / "seeds"


def count_calls() -> dict[str, list[float]]:
    """Time every public method of pymilvus's MilvusClient from now on (name → seconds)."""
    calls: dict[str, list[float]] = collections.defaultdict(list)

    def timed(name, method):
        def call(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                calls[name].append(time.perf_counter() - start)

        return call

    for name, method in list(vars(pymilvus.MilvusClient).items()):
        if not name.startswith("_") and inspect.isfunction(method):
            setattr(pymilvus.MilvusClient, name, timed(name, method))
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tick", type=int, default=200, help="proxy.timeTickInterval, ms")
    parser.add_argument("--updates", type=int, default=4)
    args = parser.parse_args()
    print(f"CPU: {report.cpu()}; diploqa from {Path(diploqa.__file__).parent}; tick {args.tick} ms")

    settings = dict(milvus_standalone.QUICK_SETTINGS)
    settings["proxy.timeTickInterval"] = args.tick
    milvus_standalone.QUICK_SETTINGS = settings
    work = Path(tempfile.mkdtemp(prefix="milvus-update-"))
    server = milvus_standalone.MilvusStandalone(
        milvus_standalone.unpack_binary(work / "binary"), work / "server"
    )
    server.start()
    try:
        os.environ["DIPLOQA_MILVUS_TOKEN"] = server.token
        encoder = get_encoder()
        articles = work / "articles"
        shutil.copytree(SEEDS, articles, ignore=shutil.ignore_patterns("*.toml"))
        store = server.address("update")
        start = time.perf_counter()
        build(articles, work / "unused", store=store, encoder=encoder)
        print(f"first build of the seeds: {time.perf_counter() - start:.2f} s")
        calls = count_calls()
        took = []
        for n in range(args.updates):
            (articles / f"new_{n}.txt").write_text(
                f"title: Gespräche in Genf, Teil {n}\n\nLawrow und Blinken trafen sich zum "
                f"{n + 1}. Mal in Genf. Eine Einigung über die Ukraine gab es nicht.\n",
                encoding="utf-8",
            )
            calls.clear()
            start = time.perf_counter()
            done, _ = build(articles, work / "unused", store=store, encoder=encoder)
            took.append(time.perf_counter() - start)
            assert done.added == [f"new_{n}.txt"], done
            slowest = sorted(calls.items(), key=lambda kv: -sum(kv[1]))[:4]
            spent = ", ".join(f"{name} {len(t)}× {sum(t):.2f} s" for name, t in slowest)
            print(f"update {n + 1}: {took[-1]:.2f} s; {spent}")
        print(f"update median {statistics.median(took):.2f} s (of {len(took)})")
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
