"""A throwaway single-member etcd for tests and benchmarks.

`EtcdServer` starts `/usr/bin/etcd` (or `$KUBELITE_ETCD`) on free loopback client and
peer ports with its data in a fresh temporary directory, waits until the v3 gateway
answers a range, and on `stop()` ends that one process by its pid and removes the
directory. It is synchronous so a pytest session fixture can use it; `etcd_server()`
is the async context manager for code already inside an event loop.

Free ports come from binding port 0 and releasing it; another process could take the
port in between, so a start that dies early is retried on new ports.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

ETCD_BINARY = os.environ.get("KUBELITE_ETCD", "/usr/bin/etcd")


def etcd_available() -> bool:
    return os.access(ETCD_BINARY, os.X_OK)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EtcdServer:
    """One etcd process; `endpoint` is its client URL once `start()` returned."""

    def __init__(self, *, startup_timeout: float = 30.0) -> None:
        self.endpoint = ""
        self._timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    def start(self) -> str:
        if not etcd_available():
            raise FileNotFoundError(f"etcd binary not found at {ETCD_BINARY}")
        self._dir = tempfile.mkdtemp(prefix="kubelite-etcd-")
        for _ in range(3):
            if self._launch():
                return self.endpoint
        self.stop()
        raise RuntimeError(f"etcd did not start; see {self._dir}/etcd.log")

    def _launch(self) -> bool:
        assert self._dir is not None
        client, peer = _free_port(), _free_port()
        self.endpoint = f"http://127.0.0.1:{client}"
        peer_url = f"http://127.0.0.1:{peer}"
        data_dir = os.path.join(self._dir, "data")
        shutil.rmtree(data_dir, ignore_errors=True)
        with open(os.path.join(self._dir, "etcd.log"), "ab") as log:
            self._process = subprocess.Popen(
                [
                    ETCD_BINARY,
                    "--name=kubelite-test",
                    f"--data-dir={data_dir}",
                    f"--listen-client-urls={self.endpoint}",
                    f"--advertise-client-urls={self.endpoint}",
                    f"--listen-peer-urls={peer_url}",
                    f"--initial-advertise-peer-urls={peer_url}",
                    f"--initial-cluster=kubelite-test={peer_url}",
                    "--initial-cluster-state=new",
                    "--log-level=warn",
                    "--logger=zap",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + self._timeout
        # The gateway is the last thing etcd opens; a range answered means ready.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False  # died, probably a port race: try new ports
            try:
                request = urllib.request.Request(
                    self.endpoint + "/v3/kv/range",
                    data=json.dumps({"key": "AA=="}).encode(),
                    method="POST",
                )
                with opener.open(request, timeout=1) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)  # polling a child process's readiness; nothing to await
        self._kill()
        return False

    def _kill(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._process = None

    def stop(self) -> None:
        self._kill()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@asynccontextmanager
async def etcd_server() -> AsyncIterator[str]:
    """`async with etcd_server() as endpoint:` a fresh etcd for the block's duration."""
    server = EtcdServer()
    endpoint = await asyncio.to_thread(server.start)
    try:
        yield endpoint
    finally:
        await asyncio.to_thread(server.stop)
