"""Peak memory of an incremental update at scale, measured in a process of its own (issue #29).

``prepare`` writes ``--passages`` worth of synthetic articles (four chunks each: three passages
and the article's section) into WORK/articles and builds their index into WORK/index with an
encoder whose vectors come from benchmarks/scale.py's generator (grown from the real news
vectors of ``--source-index``), so that no model runs and the vectors look like real ones.
It then writes WORK/changed: the same articles with ``--changed`` of them edited.

``update`` copies WORK/index to WORK/run and, in a fresh subprocess, loads it with its keyword
index (as a server holds it) and updates it to WORK/changed with ``build(previous=…)``, as
``diploqa serve`` does; the subprocess reads VmRSS of /proc/self/status before the build and
VmHWM (the peak) of each of the build's steps (``Steps``). To compare two versions of the
code, run ``update`` once with each first on PYTHONPATH (the subprocess inherits it)::

    PYTHONPATH=src:benchmarks python benchmarks/update_memory.py prepare --work /tmp/um \\
        --source-index /tmp/newsbench/news-faiss --passages 200000
    PYTHONPATH=src:benchmarks python benchmarks/update_memory.py update --work /tmp/um \\
        --source-index /tmp/newsbench/news-faiss
    PYTHONPATH=/work/main/src:benchmarks python benchmarks/update_memory.py update ...
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scale import Generator  # benchmarks/scale.py

import diploqa
from diploqa import build as build_module
from diploqa.build import build
from diploqa.config import Settings
from diploqa.store import commit as commit_module
from diploqa.store import open_location
from diploqa.store.faiss.location import FolderGeneration

#: Chunks per article: three passages of the splitter's 160 words (32 overlapping) and the
#: whole article as its section (at most 400 words); the real news has about five (9,814
#: passage and section vectors in 2,026 articles).
CHUNKS_PER_ARTICLE = 4
WORDS_PER_ARTICLE = 390
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


class GeneratedEncoder:
    """Implements :class:`diploqa.encoders.Encoder` with the generator's vectors (each call
    a new sample), and one token per word."""

    model_id = "synthetic-news"
    backend = "numpy"
    max_tokens = 512
    batch_size = 64

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.dim = generator.real.shape[1]
        self.passages_encoded = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def encode_passages(self, passages, show_progress: bool = False) -> np.ndarray:
        self.passages_encoded += len(passages)
        return self.generator.sample(len(passages), seed=self.passages_encoded)

    def encode_queries(self, queries, partner: bool = True) -> np.ndarray:
        return self.generator.sample(len(queries), seed=-len(queries))

    def query_vector(self, raw: np.ndarray, partner_weight: float) -> np.ndarray:
        return raw[None, :].copy()

    def sentence_similarity(self, raw, sentences) -> None:
        return None


def encoder(source: Path) -> GeneratedEncoder:
    real = open_location(source).load().all_vectors()
    return GeneratedEncoder(Generator(real))


def article_text(i: int, words: list[str], edited: bool = False) -> str:
    """A German-looking article of sentences of seed words, distinct for every ``i``."""
    rng = random.Random(i)
    body, count = [], 0
    while count < WORDS_PER_ARTICLE:
        sentence = rng.sample(words, rng.randint(8, 14))
        body.append(" ".join(sentence).capitalize() + ".")
        count += len(sentence)
    if edited:
        body[-1] = f"Aktualisiert: {body[-1]}"
    return (
        f"title: Meldung {i}: {' '.join(rng.sample(words, 3))}\n"
        f"date: {2000 + i % 25}-{i % 12 + 1:02d}-{i % 28 + 1:02d}\n"
        f"source: Zeitung {i % 8}\n\n" + " ".join(body) + "\n"
    )


def prepare(work: Path, source: Path, passages: int, changed: int) -> None:
    texts = [p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")]
    words = sorted({w for text in texts for w in re.findall(r"[^\W\d_]{5,}", text)})
    articles, edited = work / "articles", work / "changed"
    for folder in (articles, edited, work / "index"):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    n = passages // CHUNKS_PER_ARTICLE
    for i in range(n):
        name = f"a{i:07d}.txt"
        (articles / name).write_text(article_text(i, words), encoding="utf-8")
        (edited / name).write_text(article_text(i, words, i < changed), encoding="utf-8")
    started = time.perf_counter()
    report, stored = build(articles, work / "index", encoder=encoder(source), settings=Settings())
    print(f"{n:,} articles: {report.summary()}; {time.perf_counter() - started:.0f} s")
    print(f"index: {stored.manifest.index_type}, {len(stored.chunks):,} chunks")


def status() -> dict[str, float]:
    """VmRSS and VmHWM of this process in MB."""
    text = Path("/proc/self/status").read_text()
    return {k: int(re.search(rf"^{k}:\s+(\d+) kB", text, re.M).group(1)) / 1024
            for k in ("VmRSS", "VmHWM")}  # fmt: skip


class Steps:
    """The peak of each step of a build: where one step hands over to the next (the calls of
    ``build._assemble``, ``build.write_generation`` and the write's steps, wrapped),
    VmHWM is read and reset (``5`` written to /proc/self/clear_refs); a step entered twice
    keeps its higher peak."""

    def __init__(self, first: str) -> None:
        self.step, self.peaks = first, {}

    def switch(self, step: str) -> None:
        self.peaks[self.step] = max(self.peaks.get(self.step, 0), status()["VmHWM"])
        Path("/proc/self/clear_refs").write_text("5")
        self.step = step

    def wrap(self, module, name: str, during: str, after: str) -> None:
        original = getattr(module, name)

        def wrapped(*args, **kwargs):
            self.switch(during)
            try:
                return original(*args, **kwargs)
            finally:
                self.switch(after)

        setattr(module, name, wrapped)


def measure(work: Path, source: Path) -> None:
    """The update, in this process (``update`` starts it as a subprocess)."""
    enc = encoder(source)
    stored = open_location(work / "run").load()
    stored.saved_keywords()  # a server holds it
    gc.collect()
    before = status()
    steps = Steps("read, chunk, embed")
    steps.wrap(build_module, "_assemble", "assemble the vectors", "stories, keyword index")
    # the write step in three: the vector index built and saved; from the fault point after
    # the vectors (since issue #29 the float32 array is released before it), the metadata
    # serialised and written; the keyword index's files, the manifest and the commit
    steps.wrap(build_module, "write_generation", "write: vector index (built, saved)", "done")
    steps.wrap(FolderGeneration, "write_metadata", "write: metadata",
               "write: keywords, manifest, commit")  # fmt: skip
    fault_point = commit_module.fault_point

    def at_fault_point(name: str) -> None:
        if name == "after-vectors":
            steps.switch("write: metadata")
        fault_point(name)

    commit_module.fault_point = at_fault_point
    started = time.perf_counter()
    report, _ = build(work / "changed", work / "run", encoder=enc, previous=stored,
                      settings=Settings())  # fmt: skip
    seconds = time.perf_counter() - started
    steps.switch("done")
    above = {step: round(peak - before["VmRSS"]) for step, peak in steps.peaks.items()}
    print(json.dumps({
        "diploqa": str(Path(diploqa.__file__).parent), "summary": report.summary(),
        "seconds": round(seconds, 1), "rss_before_mb": round(before["VmRSS"]),
        "hwm_before_mb": round(before["VmHWM"]), "peak_mb": round(max(steps.peaks.values())),
        "peak_above_loaded_mb": max(above.values()), "peak_above_loaded_mb_by_step": above,
    }))  # fmt: skip


def update(work: Path, source: Path) -> None:
    run = work / "run"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(work / "index", run)
    disk = sum(f.stat().st_size for f in run.rglob("*") if f.is_file()) / 2**20
    command = [sys.executable, __file__, "measure", "--work", str(work), "--source-index",
               str(source)]  # fmt: skip
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["index_folder_mb"] = round(disk)
    result["load"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["prepare", "update", "measure"])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--source-index", type=Path, required=True, help="real news vectors")
    parser.add_argument("--passages", type=int, default=200_000)
    parser.add_argument("--changed", type=int, default=1_000, help="articles an update edits")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.work, args.source_index, args.passages, args.changed)
    elif args.step == "update":
        update(args.work, args.source_index)
    else:
        measure(args.work, args.source_index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
