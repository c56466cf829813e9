"""A real Milvus server for the tests and benchmarks: the standalone server the PyPI package
``milvus`` ships (2.3.5, the newest Linux build there; embedded etcd, local storage, its own
coordinators), started without Docker and without downloading anything.

The package's own launcher (``milvus-server``) picks fixed default ports and runs the binary
in a child of its own; here the binary is unpacked once (:func:`unpack_binary`) and started
directly, so that a test holds the server's process id (``kill -9`` is a real crash) and
every port is a free one (two servers side by side). Authorization is on and the ``root``
password is changed to a random one at the first start (:attr:`MilvusStandalone.token`).

Milvus 2.3 has no setting for the interface its gRPC ports listen on: they listen on all of
them; the components are told to reach each other on 127.0.0.1 and the embedded etcd listens
on 127.0.0.1 only. Nothing is ever sent to an address other than 127.0.0.1.
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

#: The ports the server's configuration names (each gets a free one).
PORTS = (
    "etcd_port", "root_coord_port", "proxy_port", "proxy_internal_port", "query_coord_port",
    "query_node_port", "index_coord_port", "index_node_port", "data_coord_port", "data_node_port",
)  # fmt: skip
#: The components that advertise an address to the others.
COMPONENTS = ("rootCoord", "proxy", "queryCoord", "queryNode", "indexCoord", "indexNode",
              "dataCoord", "dataNode")  # fmt: skip
DEFAULT_TOKEN = "root:Milvus"

#: Timers of a server that holds a few tiny collections (milliseconds unless named). With the
#: defaults, made for large collections, every call here waits on a timer, not on work:
QUICK_SETTINGS: dict[str, object] = {
    # a Strong read waits for the next time tick past its timestamp (default 200; at 20 an
    # update of the seeds takes 2 s instead of 3 at 50, and the idle server a fifth of a core)
    "proxy.timeTickInterval": 20,
    # a flush waits until the segment's last row assignment expires (default 2000); safe
    # shorter: whether a row is in a segment is decided by timestamps, not by this clock
    "dataCoord.segment.assignmentExpiration": 200,
    # a load waits for the query coordinator's checkers, its task scheduler and its view of
    # the query node (defaults 1000, 1000, 1000, 500 ms and 1 s); then for its collection
    # observer, which ticks once a second in 2.3 whatever the configuration says
    "queryCoord.checkInterval": 100,
    "queryCoord.checkChannelInterval": 100,
    "queryCoord.checkSegmentInterval": 100,
    "queryCoord.distPullInterval": 100,
    "queryCoord.leaderViewUpdateInterval": 0.1,  # seconds
    # an index task waits for the index scheduler (default 1000)
    "indexCoord.scheduler.interval": 100,
    # a server restarted after kill -9 waits until its old sessions expire (default 30 s);
    # each is renewed every third of it
    "common.session.ttl": 10,  # seconds
}


class Unavailable(Exception):
    """The server cannot run here (the reason says why: no package, another platform, a
    binary the system cannot execute)."""


class ServerFailed(RuntimeError):
    """The server ran but failed (exited, or did not answer in time): a defect to report,
    not a reason to skip."""


#: How often the server's ports are chosen again when one was taken meanwhile.
PORT_ATTEMPTS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_version() -> str:
    """The version of the ``milvus`` package (the server's version).

    Raises:
        Unavailable: the package is not installed or this is not Linux on x86-64.
    """
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise Unavailable(
            f"the Milvus server of the 'milvus' package runs on Linux x86-64 only (this is "
            f"{platform.system()} {platform.machine()}); its tests are skipped"
        )
    try:
        import milvus
    except ImportError:
        raise Unavailable(
            "the 'milvus' package (the standalone Milvus server) is not installed: "
            "pip install -e '.[test]'"
        ) from None
    return milvus.__version__


def unpack_binary(folder: Path) -> Path:
    """Unpack the server and its libraries into ``folder/bin`` (about 250 MB; skipped when
    already there); returns the executable."""
    server_version()
    from milvus import _initialize_data_files

    _initialize_data_files(str(folder))
    return folder / "bin" / "milvus"


def _etcd_config(path: Path, data: Path, client: int, peer: int) -> None:
    """The embedded etcd's own configuration: loopback only, on free ports."""
    path.write_text(
        f"name: default\n"
        f"data-dir: {data}\n"
        f"listen-client-urls: http://127.0.0.1:{client}\n"
        f"advertise-client-urls: http://127.0.0.1:{client}\n"
        f"listen-peer-urls: http://127.0.0.1:{peer}\n"
        f"initial-advertise-peer-urls: http://127.0.0.1:{peer}\n"
        f"initial-cluster: default=http://127.0.0.1:{peer}\n",
        encoding="utf-8",
    )


def set_setting(text: str, key: str, value: object) -> str:
    """``text`` (a ``milvus.yaml``) with the dotted ``key`` set to ``value``: replaced where the
    template has it, else added below the deepest section of its path the template has."""
    lines = text.split("\n")
    path = key.split(".")
    start, end, depth = 0, len(lines), 0  # the block of lines path[:depth] names
    while depth < len(path):
        indent = "  " * depth
        pattern = re.compile(rf"^{indent}{re.escape(path[depth])}:(\s|$)")
        found = next((i for i in range(start, end) if pattern.match(lines[i])), None)
        if found is None:
            break
        block = found + 1
        while block < end and (not lines[block].strip() or lines[block].startswith(indent + " ")):
            block += 1
        start, end, depth = found + 1, block, depth + 1
    if depth == len(path):
        line = lines[start - 1]
        lines[start - 1] = f"{line[: line.index(':') + 1]} {value}"
    else:
        assert depth > 0, f"no section {path[0]} in milvus.yaml"
        added = [f"{'  ' * d}{name}:" for d, name in enumerate(path[depth:-1], depth)]
        added.append(f"{'  ' * (len(path) - 1)}{path[-1]}: {value}")
        lines[start:start] = added
    return "\n".join(lines)


@dataclass
class MilvusStandalone:
    """One Milvus standalone server over ``data`` (its configuration, logs and storage).

    :meth:`start` starts it (the first time: writes its configuration and sets a random
    ``root`` password); :meth:`kill` is a crash; :meth:`start` again restarts it on the same
    ports and data. :attr:`log` is what it printed."""

    executable: Path
    data: Path
    ports: dict[str, int] = field(default_factory=dict)
    token: str = ""
    process: subprocess.Popen | None = None

    @property
    def port(self) -> int:
        return self.ports["proxy_port"]

    @property
    def log(self) -> Path:
        return self.data / "logs" / "server.log"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def address(self, collection: str = "news") -> str:
        """The ``--store`` address of ``collection`` on this server."""
        return f"milvus://127.0.0.1:{self.port}/{collection}"

    def _configure(self) -> None:
        from milvus import MilvusServerConfig

        # A free port can be taken by another process (the other test worker) before the
        # package binds it to check: then it says "bind failed", and other ports are chosen.
        for attempt in range(PORT_ATTEMPTS):
            self.ports = {name: _free_port() for name in (*PORTS, "metrics_port", "etcd_peer")}
            config = MilvusServerConfig(
                data_dir=str(self.data), **{name: self.ports[name] for name in PORTS}
            )
            config.set("authorization_enabled", True)
            for component in COMPONENTS:
                config.set(f"{component}.ip", "127.0.0.1")
            config.set("etcd.endpoints", f"127.0.0.1:{self.ports['etcd_port']}")
            try:
                config.resolve()  # writes configs/milvus.yaml
                break
            except RuntimeError as err:
                if "bind failed" not in str(err) or attempt == PORT_ATTEMPTS - 1:
                    raise
        etcd = self.data / "configs" / "etcd.yaml"
        _etcd_config(etcd, self.data / "data" / "etcd.data", self.ports["etcd_port"],
                     self.ports["etcd_peer"])  # fmt: skip
        yaml = self.data / "configs" / "milvus.yaml"
        text = yaml.read_text(encoding="utf-8")
        embed = "  use:\n    embed: true"
        assert embed in text, "the milvus package's configuration template changed"
        text = text.replace(embed, f"  config:\n    path: {etcd}\n{embed}", 1)
        for key, value in QUICK_SETTINGS.items():
            text = set_setting(text, key, value)
        yaml.write_text(text, "utf-8")

    def start(self, timeout: float = 120) -> None:
        """Start the server and wait (until ``timeout`` seconds) for it to answer.

        Raises:
            Unavailable: the binary exits or never answers (the reason quotes its log).
        """
        assert self.process is None or self.process.poll() is not None, "already running"
        first = not self.ports
        if first:
            self._configure()
        env = {
            **os.environ,
            "DEPLOY_MODE": "STANDALONE",
            "METRICS_PORT": str(self.ports["metrics_port"]),
            "MILVUS_RUN_DIR": str(self.data / "run"),
            "LD_LIBRARY_PATH": f"{self.executable.parent}:{os.environ.get('LD_LIBRARY_PATH', '')}",
        }
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            try:
                self.process = subprocess.Popen(
                    [str(self.executable), "run", "standalone"], cwd=self.data, env=env,
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )  # fmt: skip
            except OSError as err:  # not executable here (another libc, noexec mount)
                raise Unavailable(f"the Milvus server binary cannot run here: {err}") from None
        self._wait_healthy(timeout)
        if first:
            self._new_password()

    def _wait_healthy(self, timeout: float) -> None:
        url = f"http://127.0.0.1:{self.ports['metrics_port']}/healthz"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                text = self.log_text()[-2000:]
                if self.process.returncode in (126, 127) or "error while loading" in text:
                    raise Unavailable(f"the Milvus server binary cannot run here: {text}")
                raise ServerFailed(
                    f"the Milvus server exited with {self.process.returncode}: {text}"
                )
            try:
                with opener.open(url, timeout=2) as response:
                    if b"OK" in response.read():
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise ServerFailed(
                    f"the Milvus server did not answer in {timeout:.0f} s: "
                    f"{self.log_text()[-2000:]}"
                )
            time.sleep(0.2)

    def _new_password(self, timeout: float = 60) -> None:
        """Replace root's default password by a random one (the ports listen on every
        interface; and a leaked token is then one the tests can look for)."""
        from pymilvus import MilvusClient

        password = secrets.token_urlsafe(16)
        deadline = time.monotonic() + timeout
        while True:  # healthy is not yet ready for every call: retry until the deadline
            try:
                client = MilvusClient(
                    uri=f"http://127.0.0.1:{self.port}", token=DEFAULT_TOKEN, timeout=10
                )
                try:
                    client.update_password("root", "Milvus", password)
                finally:
                    client.close()
                break
            except Exception as err:
                if time.monotonic() > deadline:
                    raise ServerFailed(f"the Milvus server refused a new password: {err}") from None
                time.sleep(0.5)
        self.token = f"root:{password}"

    def kill(self) -> None:
        """``kill -9`` the server (no shutdown: what a crash or a lost host looks like)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 15 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
