"""A webhook receiver on loopback for the tests: records every POST (headers and body), can be
told to fail the next deliveries, and waits for deliveries with a deadline."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def batch(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """``with Receiver() as hook:`` — ``hook.url`` takes POSTs; ``hook.fail(n)`` answers the
    next ``n`` with HTTP 500; ``hook.status`` is what the others get (200), each after
    ``hook.delay`` seconds."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.failed: list[Delivery] = []
        self.status = 200
        self.delay = 0.0  # seconds each answer waits (a slow receiver)
        self._failures = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                delivery = Delivery(self.path, {k.lower(): v for k, v in self.headers.items()},
                                    body)  # fmt: skip
                with receiver._lock:
                    failing = receiver._failures > 0
                    receiver._failures -= failing
                    (receiver.failed if failing else receiver.deliveries).append(delivery)
                    status = 500 if failing else receiver.status
                time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fail(self, times: int) -> None:
        with self._lock:
            self._failures = times

    def wait(self, count: int, timeout: float = 60.0) -> list[Delivery]:
        """The first ``count`` deliveries answered 2xx, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, f"{len(self.deliveries)} of {count} deliveries"
            time.sleep(0.05)
        return list(self.deliveries)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
