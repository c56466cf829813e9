"""The README's picture: ``diploqa serve`` on a built index, one question asked in Chromium.

    python benchmarks/screenshot.py --index build/wikinews-index --articles build/wikinews \\
        --question "Wer gewann die Australian Open 2022?" --out docs/screenshot.png

``make screenshot`` builds that index from the shared German Wikinews articles (not the
seeds: the page describes whatever archive it serves) and runs this. Headless Chromium is
the system's (``/usr/bin/chromium``, driven by Playwright as tests/app/test_browser.py does;
never ``playwright install``). The window is a laptop's (1280×800); the picture is what a
user sees after asking, unscrolled.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="a built index folder")
    parser.add_argument("--articles", type=Path, required=True, help="its articles folder")
    parser.add_argument("--question", required=True, help="the question asked")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshot.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "diploqa.cli", "serve", "--index", str(args.index),
               "--articles", str(args.articles), "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 300
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                print("diploqa serve did not start", file=sys.stderr)
                return 1
            time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            viewport = {"width": args.width, "height": args.height}
            page = browser.new_context(viewport=viewport).new_page()
            page.goto(url, timeout=120_000)
            page.locator("#question textarea").fill(args.question)
            page.locator("#ask").click()
            page.locator("#results .dq-card").first.wait_for(timeout=120_000)
            page.wait_for_timeout(500)  # the progress marks fade
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
