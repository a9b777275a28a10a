"""A real `kubelite server` process for end-to-end tests.

Started on a free loopback port with its own data dir, stopped by its pid with
SIGTERM (and killed if it does not stop), so every test leaves nothing behind.
A cluster whose nodes make a pod network (`agent=True`, or `pod_network=True` for
agents joining it) gets a NetworkSlot: a bridge name, cluster CIDR and service CIDR
no other cluster on the machine holds at the same time, in this run or another, so
that test runs side by side never share a bridge or a route. The
server speaks HTTPS only and authenticates every request: raw requests go through
`Cluster.open`, which trusts the cluster's CA and presents the admin certificate of
the kubeconfig the server writes, as kubectl does.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import json
import urllib.error
import urllib.request
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen[Any], sig: signal.Signals, timeout: float) -> int:
    """Signals the process by pid and waits for it; SIGKILL if it does not go in time."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    code: int = proc.returncode
    return code


def tool(name: str) -> str:
    """Path of a test tool installed by scripts/install-test-tools."""
    path = TOOLS / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            raise FileNotFoundError(f"{name} is missing: run scripts/install-test-tools")
        return found
    return str(path)


SLOTS_DIR = Path("/tmp/kubelite-test-network-slots")
SLOT_COUNT = 1024


class NetworkSlot:
    """One of SLOT_COUNT disjoint sets of names and ranges for a test cluster's pod
    network, held (an exclusive flock on its file, which the kernel drops when the
    process ends however it ends) for as long as the object lives:

    - bridge `kt<n>` for the server's own node,
    - cluster CIDR 10.192.0.0/10 cut into /20s (16 node podCIDRs of /24),
    - service CIDR 10.128.0.0/14 cut into /24s,
    - a /27 of 10.160.0.0/12 for a test's own links between nodes (multinode.py),
    - `kt<n>-` as the prefix for any other name the test makes (netns, links).
    """

    def __init__(self) -> None:
        SLOTS_DIR.mkdir(parents=True, exist_ok=True)
        start = random.randrange(SLOT_COUNT)
        for offset in range(SLOT_COUNT):
            number = (start + offset) % SLOT_COUNT
            handle = open(SLOTS_DIR / f"{number}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self.number = number
            self._handle = handle
            break
        else:
            raise RuntimeError(f"all {SLOT_COUNT} test network slots are held")

    def _cut(self, base: str, prefix: int) -> str:
        network = ipaddress.IPv4Network(base)
        size = 2 ** (32 - prefix)
        return str(ipaddress.IPv4Network((int(network.network_address) + self.number * size,
                                          prefix)))

    @property
    def prefix(self) -> str:
        return f"kt{self.number}"

    @property
    def bridge(self) -> str:
        return self.prefix

    @property
    def cluster_cidr(self) -> str:
        return self._cut("10.192.0.0/10", 20)

    @property
    def service_cidr(self) -> str:
        return self._cut("10.128.0.0/14", 24)

    @property
    def link_subnet(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self._cut("10.160.0.0/12", 27))

    def release(self) -> None:
        self._handle.close()


class Cluster:
    def __init__(self, data_dir: Path, *, datastore: str = "",
                 extra_args: tuple[str, ...] = (), agent: bool = False,
                 pod_network: bool = False, bind_address: str = "127.0.0.1") -> None:
        """`agent`: the server runs a kubelet for this host (off: the scenarios here
        place pods on simulated nodes or none, and count the nodes they made).
        `pod_network`: nodes joining it make pod networks (implied by `agent`); either
        gives the cluster a NetworkSlot of its own, in `network`."""
        self.data_dir = data_dir
        self.datastore = datastore
        self.extra_args = extra_args
        self.agent = agent
        self.bind_address = bind_address
        self.network = NetworkSlot() if agent or pod_network else None
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"
        self._ssl: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        return f"https://{self.bind_address}:{self.port}"

    def network_args(self) -> list[str]:
        """The flags that keep this cluster's pod network apart from any other's (the
        server's, and every agent's joining it)."""
        if self.network is None:
            return []
        return ["--cluster-cidr", self.network.cluster_cidr,
                "--service-cidr", self.network.service_cidr,
                "--bridge-name", self.network.bridge]

    def ssl_context(self) -> ssl.SSLContext:
        """TLS as the admin kubeconfig says: the cluster's CA, the admin certificate."""
        if self._ssl is None:
            from kubelite.client.kubeconfig import load_kubeconfig

            context = load_kubeconfig(self.kubeconfig).ssl_context()
            assert context is not None, "the kubeconfig is not https"
            self._ssl = context
        return self._ssl

    def open(self, request: str | urllib.request.Request, *, timeout: float = 30
             ) -> Any:
        """urllib's urlopen as the cluster's administrator (HTTPError for non-2xx)."""
        return urllib.request.urlopen(request, timeout=timeout, context=self.ssl_context())

    @property
    def kubeconfig(self) -> str:
        return str(self.data_dir / "kubeconfig")

    def start(self, timeout: float = 30.0) -> None:
        self.port = free_port()
        args = [sys.executable, "-m", "kubelite.cli.main", "server",
                "--data-dir", str(self.data_dir), "--port", str(self.port),
                "--bind-address", self.bind_address, *self.network_args()]
        if self.datastore:
            args += ["--datastore-endpoint", self.datastore]
        if not self.agent:
            args.append("--disable-agent")
        else:
            # the node's kubelet on loopback, on a port of its own
            args += ["--node-ip", "127.0.0.1", "--kubelet-port", str(free_port())]
        args += self.extra_args
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # the server writes the kubeconfig once it serves; an older one names an
        # older port
        Path(self.kubeconfig).unlink(missing_ok=True)
        self._ssl = None
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=str(ROOT))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kubelite server exited: {self.log_path.read_text()}")
            if Path(self.kubeconfig).exists():
                try:
                    with self.open(self.url + "/readyz", timeout=1) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError("kubelite server did not become ready")

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        code = stop_process(self.proc, signal.SIGTERM, timeout=15)
        self.proc = None
        return code

    def kubectl(self, *args: str, version: str = "1.35", input: str | None = None,
                check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": self.kubeconfig, "HOME": str(self.data_dir)}
        result = subprocess.run([tool(f"kubectl-{version}"), *args], input=input,
                                capture_output=True, text=True, env=env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def helm(self, *args: str, check: bool = True, timeout: float = 120
             ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": self.kubeconfig, "HOME": str(self.data_dir),
               "HELM_CACHE_HOME": str(self.data_dir / "helm-cache"),
               "HELM_CONFIG_HOME": str(self.data_dir / "helm-config"),
               "HELM_DATA_HOME": str(self.data_dir / "helm-data")}
        result = subprocess.run([tool("helm"), *args], capture_output=True, text=True,
                                env=env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result


def call(cluster: Cluster, method: str, path: str, body: Any = None, *,
         content_type: str = "application/json", raw: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """One raw HTTP request to the cluster: (status code, decoded JSON body)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                        else None)
    req = urllib.request.Request(cluster.url + path, data=data, method=method,
                                 headers={"Content-Type": content_type, **(headers or {})})
    try:
        with cluster.open(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


T = TypeVar("T")
WAIT_TIMEOUT = 30.0


def wait_for(check: Callable[[], T], timeout: float = WAIT_TIMEOUT) -> T:
    """`check()`'s first truthy answer, or its last answer once `timeout` passed."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def ready_nodes(cluster: Cluster) -> dict[str, str]:
    """NAME -> STATUS as `kubectl get nodes` prints them."""
    out = cluster.kubectl("get", "nodes", "--no-headers").stdout
    return {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}


@contextlib.contextmanager
def simulated_cluster(data_dir: Path, nodes: int, *extra_args: str) -> Iterator[Cluster]:
    """A started server with `nodes` simulated nodes, yielded once they are all Ready."""
    c = Cluster(data_dir, extra_args=("--simulated-nodes", str(nodes), *extra_args))
    c.start()
    try:
        assert wait_for(lambda: len(ready_nodes(c)) == nodes), ready_nodes(c)
        yield c
    finally:
        c.stop()


def namespace_for_test(cluster: Cluster, test_name: str) -> Iterator[str]:
    """A namespace named after the test, for a fixture to yield from: tests sharing one
    server keep their objects apart, and the namespace goes with the test."""
    name = test_name.removeprefix("test_").replace("_", "-")[:50].rstrip("-")
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false")
