"""SchedulingBasic (upstream's scheduler_perf): pods/s from the first pod created to the
last one bound, through the whole loop, against the 800 pods/s goal and against a
loop-free limit measured in the same run.

    python benchmarks/bench_scheduler.py [--nodes 5000 1000] [--pods 5000]
                                         [--concurrency 50] [--mode inprocess|processes|both]

For each node count, on a fresh API server (SQLite in a temporary dir):

1. Nodes are created through the API as upstream's templates/node-default.yaml makes
   them: plain Node objects (generateName scheduler-perf-, capacity 4 cpu, 32Gi,
   110 pods, Ready), no kubelet behind them.
2. The limit: `--pods` pods are created and each is bound (POST pods/binding) by the
   benchmark itself, no scheduler running: the rate at which the server alone accepts
   pod creates plus bindings. These pods stay, bound, as upstream's `initPods` do.
3. The measured run: the scheduler starts, and once it holds every node `--pods` pods
   (templates/pod-default.yaml: one pause container, 100m / 500Mi) are created,
   `--concurrency` at a time; a watch records when each is bound.

Printed: pods/s from the first create to the last bind, p50/p99 of create-to-bind,
each with its ratio to the goal and to the limit.

Modes: `inprocess` runs everything in one process and one event loop, as
`kubelite server` does (the benchmark's own creates and watch go through the
in-process transport, as an in-process controller's would). `processes` runs
`kubelite server --disable scheduler` and `kubelite scheduler --kubeconfig` as two
processes (two cores), the benchmark being a third HTTP client. A benchmark, not a
test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kubelite.apiserver.app import APIServer  # noqa: E402
from kubelite.cli.standalone import tune_gc  # noqa: E402
from kubelite.client.informer import Informer  # noqa: E402
from kubelite.client.inprocess import InProcessTransport  # noqa: E402
from kubelite.client.rest import Client  # noqa: E402
from kubelite.scheduler.scheduler import KubeScheduler  # noqa: E402
from kubelite.storage.factory import open_backend  # noqa: E402

GOAL = 800.0
Obj = dict[str, Any]


def node_template() -> Obj:
    """upstream test/integration/scheduler_perf/templates/node-default.yaml"""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"generateName": "scheduler-perf-"}, "spec": {},
            "status": {"capacity": {"pods": "110", "cpu": "4", "memory": "32Gi"},
                       "conditions": [{"status": "True", "type": "Ready"}],
                       "phase": "Running"}}


def pod_template() -> Obj:
    """upstream test/integration/scheduler_perf/templates/pod-default.yaml"""
    resources = {"cpu": "100m", "memory": "500Mi"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "pod-"},
            "spec": {"containers": [{"image": "registry.k8s.io/pause:3.10.1", "name": "pause",
                                     "ports": [{"containerPort": 80}],
                                     "resources": {"limits": dict(resources),
                                                   "requests": dict(resources)}}]}}


def unschedulable_pod_template() -> Obj:
    """A pod no node-default node can take (upstream's pod-large-cpu asks 9 cpu of 4)."""
    pod = pod_template()
    pod["metadata"]["generateName"] = "big-"
    for part in ("limits", "requests"):
        pod["spec"]["containers"][0]["resources"][part]["cpu"] = "9"
    return pod


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CPUMeter:
    """CPU milliseconds per pod spent by each named process over a stretch: on a
    shared machine the wall-clock rate moves with the neighbours' load, this less."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = processes
        self.start = {name: cpu_seconds(pid) for name, pid in processes.items()}

    def per_pod(self, pods: int) -> dict[str, float]:
        return {name: (cpu_seconds(pid) - self.start[name]) * 1000 / pods
                for name, pid in self.processes.items()}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def figure(name: str, value: float, unit: str, *ratios: tuple[str, float]) -> None:
    parts = [f"{value / limit:5.2f}x {label}" if limit else f"  -   {label}"
             for label, limit in ratios]
    print(f"  {name:<44} {value:9.1f} {unit:<6} " + ", ".join(parts), flush=True)


async def gather_limited(n: int, concurrency: int,
                         work: Callable[[int], Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await work(i)
    await asyncio.gather(*(one(i) for i in range(n)))


async def create_nodes(client: Client, count: int, concurrency: int) -> list[str]:
    names: list[str] = []

    async def one(_: int) -> None:
        node = await client.create("nodes", node_template())
        names.append(node["metadata"]["name"])
    await gather_limited(count, concurrency, one)
    return names


async def create_namespace(client: Client, name: str) -> None:
    await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                       "metadata": {"name": name}})


@dataclass
class Limit:
    rate: float
    cpu_ms: dict[str, float]


async def server_limit(client: Client, nodes: list[str], pods: int, concurrency: int,
                       processes: dict[str, int], namespace: str = "limit") -> Limit:
    """Pods/s the server accepts as creates each followed by its binding, no scheduler:
    the loop-free limit."""
    await create_namespace(client, namespace)

    async def one(i: int) -> None:
        pod = await client.create("pods", pod_template(), namespace=namespace)
        await client.bind(pod["metadata"]["name"], nodes[i % len(nodes)],
                          namespace=namespace, pod_uid=pod["metadata"]["uid"])
    cpu = CPUMeter(processes)
    start = time.perf_counter()
    await gather_limited(pods, concurrency, one)
    return Limit(pods / (time.perf_counter() - start), cpu.per_pod(pods))


@dataclass
class BindWatch:
    """When each pod of one namespace was seen bound, from a watch on pods."""

    namespace: str
    expected: int = 0
    bound_at: dict[str, float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def seen(self, _old: Obj, new: Obj) -> None:
        meta = new["metadata"]
        if meta.get("namespace") != self.namespace or not new["spec"].get("nodeName"):
            return
        self.bound_at.setdefault(meta["name"], time.perf_counter())
        if self.expected and len(self.bound_at) >= self.expected:
            self.done.set()

    @contextlib.asynccontextmanager
    async def running(self, client: Client) -> AsyncIterator[BindWatch]:
        informer = Informer(client, "pods", namespace=self.namespace)
        informer.add_event_handler(on_update=self.seen)
        informer.start()
        await informer.wait_for_sync()
        try:
            yield self
        finally:
            await informer.stop()


@dataclass
class RunResult:
    rate: float
    p50: float
    p99: float
    created_in: float
    cpu_ms: dict[str, float]


async def measured_run(client: Client, pods: int, concurrency: int, namespace: str,
                       processes: dict[str, int], template: Callable[[], Obj] = pod_template
                       ) -> RunResult:
    """Create `pods` pods in `namespace` and wait until all are bound."""
    await create_namespace(client, namespace)
    created_at: dict[str, float] = {}
    async with BindWatch(namespace, expected=pods).running(client) as bound:
        async def one(_: int) -> None:
            t = time.perf_counter()
            pod = await client.create("pods", template(), namespace=namespace)
            created_at[pod["metadata"]["name"]] = t
        cpu = CPUMeter(processes)
        start = time.perf_counter()
        await gather_limited(pods, concurrency, one)
        created_in = time.perf_counter() - start
        await bound.done.wait()
        cpu_ms = cpu.per_pod(pods)
    latencies = [bound.bound_at[name] - t for name, t in created_at.items()]
    return RunResult(pods / (max(bound.bound_at.values()) - start),
                     percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000,
                     created_in, cpu_ms)


def report(label: str, nodes: int, pods: int, limit: Limit, result: RunResult) -> None:
    print(f"== {label}: {nodes} nodes, {pods} pods ==", flush=True)
    figure("limit: server alone, pod create + binding", limit.rate, "pods/s",
           (f"the {GOAL:.0f} goal", GOAL))
    figure("first create -> last bind", result.rate, "pods/s",
           (f"the {GOAL:.0f} goal", GOAL), ("the limit", limit.rate))
    figure("create-to-bind p50", result.p50, "ms")
    figure("create-to-bind p99", result.p99, "ms")
    figure("(pods all created after)", result.created_in, "s")
    # CPU per pod: 1000 / (ms per pod) is the rate one core could sustain.
    for name, ms in limit.cpu_ms.items():
        figure(f"limit: CPU of {name}", ms, "ms/pod", ("1 core at the goal", 1000 / GOAL))
    for name, ms in result.cpu_ms.items():
        figure(f"CPU of {name}", ms, "ms/pod", ("1 core at the goal", 1000 / GOAL))


# --- one process ---------------------------------------------------------------------

@contextlib.asynccontextmanager
async def inprocess_server() -> AsyncIterator[tuple[APIServer, InProcessTransport]]:
    with tempfile.TemporaryDirectory() as tmp:
        server = APIServer(backend=open_backend(f"sqlite://{tmp}/db"), port=0,
                           compaction_interval=0)
        await server.start()
        tune_gc()  # as `kubelite server` does once started
        try:
            yield server, InProcessTransport(server.handle)  # type: ignore[arg-type]
        finally:
            await server.stop()


@contextlib.asynccontextmanager
async def inprocess_scheduler(transport: InProcessTransport, nodes: int
                              ) -> AsyncIterator[KubeScheduler]:
    scheduler = KubeScheduler(Client(transport, field_manager="kube-scheduler"))
    task = asyncio.create_task(scheduler.run())
    try:
        await scheduler.leading.wait()
        while len(scheduler.table) < nodes:
            await asyncio.sleep(0.05)
        yield scheduler
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def bench_inprocess(nodes: int, pods: int, concurrency: int) -> None:
    async with inprocess_server() as (_, transport):
        client = Client(transport, field_manager="bench")
        start = time.perf_counter()
        names = await create_nodes(client, nodes, concurrency)
        print(f"  ({nodes} nodes created in {time.perf_counter() - start:.1f} s)")
        processes = {"the one process": os.getpid()}
        limit = await server_limit(client, names, pods, concurrency, processes)
        async with inprocess_scheduler(transport, nodes):
            result = await measured_run(client, pods, concurrency, "measured", processes)
        report("one process (kubelite server)", nodes, pods, limit, result)


# --- two processes -------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kubelite(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "kubelite.cli.main", *args,
                             "--log-level", "WARNING"], cwd=ROOT, stdout=subprocess.DEVNULL)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def wait_ready(client: Client, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("kubelite server exited")
        with contextlib.suppress(Exception):
            await client.list("namespaces", limit=1)
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("kubelite server did not start")


@contextlib.asynccontextmanager
async def separate_processes() -> AsyncIterator[tuple[Client, Path, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        server = kubelite("server", "--disable", "scheduler", "--disable-agent", "--data-dir", str(data),
                          "--port", str(free_port()), "--compaction-interval", "0")
        try:
            while not (data / "kubeconfig").exists():
                if server.poll() is not None:
                    raise RuntimeError("kubelite server exited")
                await asyncio.sleep(0.05)
            client = Client.from_kubeconfig(data / "kubeconfig", field_manager="bench")
            try:
                await wait_ready(client, server)
                yield client, data / "kubeconfig", server.pid
            finally:
                await client.close()
        finally:
            stop(server)


@contextlib.asynccontextmanager
async def separate_scheduler(client: Client, kubeconfig: Path) -> AsyncIterator[int]:
    """`kubelite scheduler`, once it schedules: a probe pod bound means it leads and
    its informers synced."""
    proc = kubelite("scheduler", "--kubeconfig", str(kubeconfig))
    try:
        await create_namespace(client, "probe")
        async with BindWatch("probe", expected=1).running(client) as bound:
            await client.create("pods", pod_template(), namespace="probe")
            await bound.done.wait()
        yield proc.pid
    finally:
        stop(proc)


async def bench_processes(nodes: int, pods: int, concurrency: int) -> None:
    async with separate_processes() as (client, kubeconfig, server):
        start = time.perf_counter()
        names = await create_nodes(client, nodes, concurrency)
        print(f"  ({nodes} nodes created in {time.perf_counter() - start:.1f} s)")
        limit = await server_limit(client, names, pods, concurrency,
                                   {"the server": server, "the benchmark": os.getpid()})
        async with separate_scheduler(client, kubeconfig) as scheduler:
            result = await measured_run(
                client, pods, concurrency, "measured",
                {"the server": server, "the scheduler": scheduler,
                 "the benchmark": os.getpid()})
        report("two processes (server --disable scheduler + kubelite scheduler; "
               "the benchmark a third, over HTTP)", nodes, pods, limit, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[5000, 1000])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--mode", choices=("inprocess", "processes", "both"), default="both")
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop
        uvloop.install()
    for nodes in args.nodes:
        if args.mode in ("inprocess", "both"):
            asyncio.run(bench_inprocess(nodes, args.pods, args.concurrency))
        if args.mode in ("processes", "both"):
            asyncio.run(bench_processes(nodes, args.pods, args.concurrency))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
