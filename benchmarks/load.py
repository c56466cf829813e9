"""Load on the web server: ``GET /api/search`` with 1 and 16 keep-alive clients, the Gradio API
beside it, cold start and memory, against the in-process search measured in the same run.

The real server (``diploqa serve``) is started as a subprocess on a free loopback port against
an existing index; the seconds from its start to its first answer are the cold start, its
``VmHWM`` at the end the peak memory. Every request asks a distinct question (XQuAD questions
in German and English, then NTREX English sentences, from ``--data``), so nothing can be
answered from a cache. Each client holds one keep-alive connection: by default a minimal
asyncio HTTP/1.1 client (``--client raw``), because ``httpx.AsyncClient`` (``--client httpx``)
spends about 3 ms of CPU per request on the same two cores as the server, and its 16 clients
then kept fewer than 7 requests in flight at the server (py-spy).
Before the load, the server's CPU over 10 s of doing nothing. The in-process rate is
``Index.search`` one question after another on one thread, in this process, on the same index
and questions, measured before and after the server runs (the better of the two is the
ratio's base). Answers are checked: each one must list the same
passages in the same order as the in-process search of that question.

Usage::

    python benchmarks/load.py --index /tmp/news-index --articles /tmp/news \
        [--data ../shared/data] [--requests 480] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"  # --src: the diploqa source tree to run (another checkout: before/after)


def questions(data: Path) -> list[str]:
    """Distinct questions: XQuAD German and English interleaved, then NTREX English sentences."""
    seen, out = set(), []
    de = json.loads((data / "xquad" / "xquad.de.json").read_text(encoding="utf-8"))
    en = json.loads((data / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))

    def qs(doc):
        return [qa["question"] for a in doc["data"] for p in a["paragraphs"] for qa in p["qas"]]

    ntrex = (data / "ntrex" / "newstest2019-src.eng.txt").read_text(encoding="utf-8").splitlines()
    for q in [q for pair in zip(qs(de), qs(en), strict=False) for q in pair] + ntrex:
        q = " ".join(q.split())[:300]
        if q and q not in seen:
            seen.add(q)
            out.append(q)
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def summary(latencies: list[float], wall: float, errors: int) -> dict:
    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "p50_ms": pct(latencies, 50),
        "p95_ms": pct(latencies, 95),
        "p99_ms": pct(latencies, 99),
        "per_s": len(latencies) / wall if wall else 0.0,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def in_process(index, qs: list[str], k: int) -> tuple[dict, dict[str, list[str]]]:
    """``Index.search`` one question after another; the answers (passages, highlights)."""
    answers, latencies = {}, []
    start = time.perf_counter()
    for q in qs:
        t = time.perf_counter()
        hits = index.search(q, k, per_article=_per_article())
        latencies.append(time.perf_counter() - t)
        answers[q] = [_key(h.source, h.text, h.highlighted_sentence) for h in hits]
    return summary(latencies, time.perf_counter() - start, 0), answers


def _key(source: str, text: str, sentence: str) -> str:
    """What must match between two answers: the passage and its highlighted sentence."""
    return f"{source}|{text}|{sentence}"


def _per_article() -> int | None:
    from diploqa.config import Settings

    return Settings.from_env().server.passages_per_article


class RawConnection:
    """One keep-alive HTTP/1.1 connection that sends GET requests and reads the answers by
    their Content-Length: a load generator that costs the machine little."""

    def __init__(self, base: str) -> None:
        self.host, _, port = base.removeprefix("http://").partition(":")
        self.port = int(port or 80)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, params: dict) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        target = f"{path}?{urllib.parse.urlencode(params)}"
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = None
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise OSError("an answer without Content-Length")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


class HttpxConnection:
    """:class:`RawConnection`'s interface on ``httpx.AsyncClient`` (one keep-alive
    connection): the client this benchmark used before."""

    def __init__(self, base: str) -> None:
        import httpx

        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.client = httpx.AsyncClient(base_url=base, limits=limits, timeout=60)

    async def get(self, path: str, params: dict) -> tuple[int, bytes]:
        response = await self.client.get(path, params=params)
        return response.status_code, response.content

    async def close(self) -> None:
        await self.client.aclose()


async def http_load(
    base: str,
    qs: list[str],
    clients: int,
    k: int,
    expected: dict[str, list[str]],
    connection: type[RawConnection] | type[HttpxConnection] = RawConnection,
) -> tuple[dict, int]:
    """``clients`` keep-alive clients (each a ``connection``), each asking its share of ``qs``
    one after another."""
    latencies: list[float] = []
    errors = mismatches = 0

    async def client(share: list[str]) -> None:
        nonlocal errors, mismatches
        http = connection(base)
        try:
            for q in share:
                t = time.perf_counter()
                try:
                    status, body = await http.get("/api/search", {"q": q, "k": k})
                    if status != 200:
                        raise OSError(f"HTTP {status}")
                    hits = json.loads(body)["hits"]
                except Exception as err:  # counted, and the run goes on
                    errors += 1
                    logging.warning("request failed: %s", err)
                    continue
                latencies.append(time.perf_counter() - t)
                got = [_key(h["source"], h["text"], h["answer_sentence"]) for h in hits]
                if q in expected and got != expected[q]:
                    mismatches += 1
        finally:
            await http.close()

    shares = [qs[i::clients] for i in range(clients)]
    start = time.perf_counter()
    await asyncio.gather(*(client(s) for s in shares))
    return summary(latencies, time.perf_counter() - start, errors), mismatches


def gradio_load(
    url: str, qs: list[str], clients: int, k: int, expected: dict[str, list[str]]
) -> tuple[dict, int]:
    """The Gradio API (``/search_json``) through ``gradio_client``, ``clients`` threads."""
    from gradio_client import Client

    latencies: list[float] = []
    counts = {"errors": 0, "mismatches": 0}
    lock = threading.Lock()

    def run(share: list[str]) -> None:
        client = Client(url, verbose=False)
        for q in share:
            t = time.perf_counter()
            try:
                records = client.predict(q, k, api_name="/search_json")
            except Exception as err:
                with lock:
                    counts["errors"] += 1
                logging.warning("gradio request failed: %s", err)
                continue
            took = time.perf_counter() - t
            got = [_key(r["source"], r["text"], r["answer_sentence"]) for r in records or []]
            with lock:
                latencies.append(took)
                if q in expected and got != expected[q]:
                    counts["mismatches"] += 1

    threads = [threading.Thread(target=run, args=(qs[i::clients],)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summary(latencies, time.perf_counter() - start, counts["errors"]), counts["mismatches"]


def browser_latency(url: str, qs: list[str]) -> dict:
    """Real Chromium (``/usr/bin/chromium`` through Playwright) on the page: seconds from
    pressing Enter in the question box until the first result card of that question is in
    the page (Playwright polls once per animation frame, so up to ~16 ms are added)."""
    from playwright.sync_api import sync_playwright

    latencies = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            page = browser.new_page()
            page.goto(url, wait_until="domcontentloaded", timeout=120_000)
            box = page.locator("#question textarea")
            box.wait_for(timeout=120_000)
            for i, q in enumerate(qs):
                box.fill(q)
                t = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(
                    """(q) => {
                        const r = document.querySelector('#results .dq-results');
                        return r && r.dataset.question === q && r.querySelector('.dq-card');
                    }""",
                    arg=" ".join(q.split()),
                    timeout=60_000,
                )
                if i:  # the first question also loads what the page loads lazily
                    latencies.append(time.perf_counter() - t)
        finally:
            browser.close()
    return summary(latencies, sum(latencies), 0)


def start_server(index: Path, articles: Path, port: int, probe: str) -> tuple:
    """``diploqa serve`` as a subprocess; returns it, the seconds to its first answer on
    ``/api/search`` (the cold start) and the seconds until the page answers too (since the
    staged start the page follows the JSON endpoint; before it, both came together)."""
    import httpx

    env = dict(os.environ, PYTHONPATH=str(SRC))
    cmd = [sys.executable, "-m", "diploqa.cli", "serve", "--index", str(index)]
    cmd += ["--articles", str(articles), "--port", str(port)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def answered(path: str, **kw) -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"diploqa serve exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            response = httpx.get(base + path, timeout=30, **kw)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and (path != "/api/search" or response.json()["hits"])

    first = page = None
    while time.perf_counter() - started < 180:
        if first is None and answered("/api/search", params={"q": probe, "k": 5}):
            first = time.perf_counter() - started
        if page is None and answered("/", headers={"accept": "text/html"}):
            page = time.perf_counter() - started
        if first is not None and page is not None:
            return proc, first, page
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("no answer within 180 s")


def idle_cpu(pid: int, seconds: float = 10.0) -> float:
    """The share of one core the process uses over ``seconds`` while nothing asks it."""

    def used() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    before, start = used(), time.perf_counter()
    time.sleep(seconds)
    return (used() - before) / (time.perf_counter() - start)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="an existing index folder")
    parser.add_argument("--articles", type=Path, required=True, help="its articles folder")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--requests", type=int, default=480, help="requests per HTTP phase")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--client", choices=("raw", "httpx"), default="raw", help="the HTTP client (see above)"
    )
    parser.add_argument("--gradio-requests", type=int, default=160)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--browser", type=int, default=0, help="questions typed in Chromium")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--src", type=Path, default=REPO / "src", help="diploqa tree to run")
    parser.add_argument(
        "--cold-starts",
        type=int,
        default=0,
        help="only measure this many cold starts (alternating with --src-before if given)",
    )
    parser.add_argument("--src-before", type=Path, default=None, help="tree to compare with")
    parser.add_argument(
        "--index-before",
        type=Path,
        default=None,
        help="the same index in the format --src-before writes (default: --index)",
    )
    args = parser.parse_args()
    global SRC
    SRC = args.src.resolve()
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(SRC))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import diploqa

    pool = questions(args.data)
    n_http = args.requests
    need = 3 * n_http + args.gradio_requests + 21
    if len(pool) < need:
        raise SystemExit(f"only {len(pool)} distinct questions, {need} needed")
    probe, pool = pool[0], pool[1:]
    one_qs, many_qs = pool[:n_http], pool[n_http : 2 * n_http]
    gradio_qs = pool[2 * n_http : 2 * n_http + args.gradio_requests]
    after_qs = pool[2 * n_http + args.gradio_requests :][:n_http]
    R: dict = {"index": str(args.index), "src": str(SRC), "load_before": os.getloadavg()}

    if args.cold_starts:
        return cold_starts(args, probe)

    # The server first: its cold start is measured on a machine not yet busy with this process.
    port = free_port()
    proc, cold, page = start_server(args.index, args.articles, port, probe)
    R["cold_start_s"], R["page_ready_s"] = cold, page
    print(f"cold start (serve → first answer): {cold:.2f} s; page {page:.2f} s", flush=True)

    time.sleep(5)  # the page's start-up work done
    R["idle_cpu"] = idle_cpu(proc.pid)
    print(f"the idle server: {R['idle_cpu']:.1%} of a core", flush=True)
    index = diploqa.load_index(args.index)
    for q in pool[-20:]:  # warm-up, questions not used below
        index.search(q, args.k)
    base = f"http://127.0.0.1:{port}"
    try:
        single, expected = in_process(index, one_qs + many_qs + gradio_qs, args.k)
        R["in_process"] = single
        print(f"in-process: {single}", flush=True)
        connection = RawConnection if args.client == "raw" else HttpxConnection
        one, bad1 = asyncio.run(http_load(base, one_qs, 1, args.k, expected, connection))
        R["http_1"] = dict(one, mismatches=bad1)
        print(f"HTTP 1 client: {R['http_1']}", flush=True)
        many, bad16 = asyncio.run(
            http_load(base, many_qs, args.clients, args.k, expected, connection)
        )
        R[f"http_{args.clients}"] = dict(many, mismatches=bad16)
        print(f"HTTP {args.clients} clients: {R[f'http_{args.clients}']}", flush=True)
        grad, badg = gradio_load(base + "/", gradio_qs, args.clients, args.k, expected)
        R["gradio"] = dict(grad, mismatches=badg)
        print(f"Gradio {args.clients} clients: {R['gradio']}", flush=True)
        if args.browser:  # after the load: the page alone, one question at a time
            R["browser"] = browser_latency(base + "/", after_qs[: args.browser + 1])
            print(f"Chromium, Enter → first result: {R['browser']}", flush=True)
        # fresh questions, none asked before
        again, _ = in_process(index, after_qs[args.browser + 1 :], args.k)
        R["in_process_after"] = again
        R["server_peak_rss_mb"] = vm_hwm_mb(proc.pid)
    finally:
        stop(proc)
    base_rate = max(single["per_s"], again["per_s"])
    base_p50 = min(single["p50_ms"], again["p50_ms"])
    R["ratios"] = {
        "http_1_p50_vs_in_process_p50": R["http_1"]["p50_ms"] / base_p50,
        "http_many_rate_vs_in_process_rate": many["per_s"] / base_rate,
    }
    R["load_after"] = os.getloadavg()
    print(json.dumps(R["ratios"], indent=1))
    print(f"server peak RSS {R['server_peak_rss_mb']:.0f} MB; load {R['load_before']}")
    if args.json:
        args.json.write_text(json.dumps(R, indent=2))
    return 0


def cold_starts(args: argparse.Namespace, probe: str) -> int:
    """``--cold-starts N``: start and stop the server N times per tree, trees alternating
    (so that the machine's load hits both alike); medians of first answer and page."""
    global SRC
    trees = {"after": args.src.resolve()}
    if args.src_before:
        trees = {"before": args.src_before.resolve(), **trees}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    indexes = {"before": args.index_before or args.index, "after": args.index}
    for _ in range(args.cold_starts):
        for name, tree in trees.items():
            SRC = tree
            proc, first, page = start_server(indexes[name], args.articles, free_port(), probe)
            stop(proc)
            times[name].append((first, page))
            print(f"{name}: first answer {first:.2f} s, page {page:.2f} s", flush=True)
    R = {"load": os.getloadavg()}
    for name, pairs in times.items():
        R[name] = {
            "first_answer_median_s": float(np.median([f for f, _ in pairs])),
            "page_median_s": float(np.median([p for _, p in pairs])),
            "runs": pairs,
        }
    print(json.dumps(R, indent=1))
    if args.json:
        args.json.write_text(json.dumps(R, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
