"""The API server over loopback, on SQLite and on etcd, against limits measured here.

    python benchmarks/bench_api.py [--backend sqlite|etcd|both] [--pods 10000]

Figures, each printed with its ratio to a limit measured in the same run:

- GET of one pod (wrk, 32 connections) vs a bare aiohttp handler on the same stack
  (uvloop, aiohttp, TLS with the server's own certificate) answering the same bytes:
  goal ratio >= 0.5.
- ConfigMap creates with 32 concurrent clients (wrk POSTing generateName bodies) vs the
  store's raw write rate (bench_storage's bare sqlite3 / etcd puts): goal >= 1,500/s.
- LIST of N pods (N=10,000): median and p90 latency over 20 lists, vs 150 ms; and the
  median vs a bare aiohttp handler answering the same list's bytes, the two taking turns.
- 32 concurrent full LISTs of the N pods: the server's peak RSS meanwhile, vs 300 MB; and
  their median latency, vs 32 times the single LIST's median (the time to serve them
  one after another).
- 100 watchers on one namespace while a writer makes 500 writes/s: events delivered
  (every one to every watcher) and p99 delivery delay, vs 1 s.
- Server RSS with N pods stored, vs 300 MB.

The server speaks HTTPS only: every request here goes over TLS (trusting the cluster's
CA) with a bearer token of a `--token-auth-file` user in system:masters, as a remote
client would; the bare handlers serve TLS too, so the ratios compare like with like.

A benchmark, not a test: it prints, it asserts nothing. Needs wrk (Debian's wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import textwrap
import time
from pathlib import Path

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_storage import raw_etcd_write_rate, raw_sqlite_write_rate  # noqa: E402

from kubelite.storage.etcd_process import EtcdServer  # noqa: E402

BARE_HANDLER = textwrap.dedent("""
    import ssl, sys, uvloop
    from aiohttp import web
    body = open(sys.argv[2], "rb").read()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    async def handle(request):
        return web.Response(body=body, content_type="application/json")
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None,
                print=None, ssl_context=context)
""")

TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class TLS:
    """The client side of the server's TLS: its CA, set once the server made it."""

    context: ssl.SSLContext | None = None
    serving: tuple[str, str] = ("", "")  # the server's certificate and key, for bare handlers

    @classmethod
    def load(cls, data_dir: Path) -> None:
        tls = data_dir / "tls"
        cls.context = ssl.create_default_context(cafile=str(tls / "server-ca.crt"))
        cls.serving = (str(tls / "serving-kube-apiserver.crt"),
                       str(tls / "serving-kube-apiserver.key"))


def session(**options: object) -> aiohttp.ClientSession:
    """An aiohttp session as the benchmark's user, over the server's TLS."""
    connector = aiohttp.TCPConnector(ssl=TLS.context or True,
                                     limit=options.pop("limit", 100))  # type: ignore[arg-type]
    return aiohttp.ClientSession(connector=connector, headers=AUTH, **options)  # type: ignore[arg-type]


def fetch(url: str) -> bytes:
    import urllib.request
    request = urllib.request.Request(url, headers=AUTH)
    with urllib.request.urlopen(request, timeout=60, context=TLS.context) as resp:
        return resp.read()  # type: ignore[no-any-return]


def bare_handler(port: int, body_file: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", BARE_HANDLER, str(port), str(body_file),
                             *TLS.serving])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60,
               ca_file: Path | None = None) -> None:
    """Until `url` answers; `ca_file`: the CA to trust, once the server has made it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited")
        if ca_file is not None and TLS.context is None:
            if not ca_file.exists():
                time.sleep(0.05)
                continue
            TLS.load(ca_file.parent.parent)
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wrk(url: str, *, seconds: int = 5, connections: int = 32, script: str | None = None
        ) -> float:
    args = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
            "-H", f"Authorization: Bearer {TOKEN}", url]
    if script:
        args[1:1] = ["-s", script]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        print(f"    (wrk saw {non_2xx.group(1)} non-2xx responses)")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRSS:
    """The peak RSS of a process over a `with` block: the kernel's high-water mark
    (VmHWM, reset on entry through clear_refs), or, where that cannot be reset, the
    highest of samples taken every 2 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples = [rss_mb(pid)]
        self.hwm_reset = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.002):
            self.samples.append(rss_mb(self.pid))

    def __enter__(self) -> PeakRSS:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.hwm_reset = True
        except OSError:
            pass
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        peak = max(self.samples)
        if self.hwm_reset:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        return peak


def figure(name: str, value: float, unit: str, limit: float, limit_name: str,
           goal: str) -> None:
    ratio = value / limit if limit else float("inf")
    print(f"  {name:<44} {value:>10.1f} {unit:<6} ratio {ratio:6.3f} to {limit_name} "
          f"({limit:.1f})  [{goal}]")


def pod(i: int) -> bytes:
    return orjson.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"pod-{i:05d}", "labels": {"app": "bench", "shard": str(i % 10)}},
        "spec": {"containers": [{"name": "app", "image": "registry.local/app:1.0",
                                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                                 "ports": [{"containerPort": 8080}]}]}})


async def create_pods(url: str, numbers: range) -> None:
    async with session() as http:
        sem = asyncio.Semaphore(32)

        async def one(i: int) -> None:
            async with sem:
                async with http.post(f"{url}/api/v1/namespaces/bench/pods", data=pod(i),
                                        headers={"Content-Type": "application/json"}) as r:
                    if r.status not in (201, 409):
                        raise RuntimeError(await r.text())
        await asyncio.gather(*(one(i) for i in numbers))


async def list_latencies(*urls: str, rounds: int = 20) -> list[list[float]]:
    """Latencies (ms) of LISTs from each server, taking turns, so a machine busy with
    something else slows each server alike."""
    out: list[list[float]] = [[] for _ in urls]
    async with session() as http:
        for _ in range(rounds):
            for url, latencies in zip(urls, out):
                t = time.perf_counter()
                async with http.get(f"{url}/api/v1/namespaces/bench/pods") as r:
                    await r.read()
                latencies.append((time.perf_counter() - t) * 1000)
    return out


async def concurrent_lists(url: str, clients: int = 32) -> list[float]:
    """Latencies (ms) of `clients` full LISTs started together, one connection each."""
    async with session(limit=0) as http:
        async def one() -> float:
            t = time.perf_counter()
            async with http.get(f"{url}/api/v1/namespaces/bench/pods") as r:
                await r.read()
            return (time.perf_counter() - t) * 1000
        return list(await asyncio.gather(*(one() for _ in range(clients))))


async def watch_fanout(url: str, watchers: int = 100, rate: int = 500,
                       seconds: float = 8.0) -> tuple[int, int, float]:
    """(events expected, events delivered, p99 delay in ms)."""
    ns_url = f"{url}/api/v1/namespaces/watched/configmaps"
    delays: list[float] = []
    received = [0]
    total = int(rate * seconds)
    async with session(limit=0, timeout=aiohttp.ClientTimeout(None)) as http:
        async with http.get(ns_url + "?limit=1") as r:
            rv = (await r.json())["metadata"]["resourceVersion"]
        ready = asyncio.Event()
        started = [0]

        async def watcher() -> None:
            async with http.get(f"{ns_url}?watch=1&resourceVersion={rv}"
                                   f"&timeoutSeconds={int(seconds) + 30}") as r:
                started[0] += 1
                if started[0] == watchers:
                    ready.set()
                count = 0
                async for line in r.content:
                    ev = orjson.loads(line)
                    sent = float(ev["object"]["data"]["sent"])
                    delays.append(time.time() - sent)
                    received[0] += 1
                    count += 1
                    if count == total:
                        return

        tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
        await asyncio.wait_for(ready.wait(), 30)
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "w-"}}
        start = time.monotonic()
        sem = asyncio.Semaphore(32)

        async def write(i: int) -> None:
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            async with sem:
                body_i = {**body, "data": {"sent": repr(time.time())}}
                async with http.post(ns_url, data=orjson.dumps(body_i),
                                        headers={"Content-Type": "application/json"}) as r:
                    await r.read()
        await asyncio.gather(*(write(i) for i in range(total)))
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
        except TimeoutError:
            for t in tasks:
                t.cancel()
    delays.sort()
    p99 = delays[int(len(delays) * 0.99) - 1] * 1000 if delays else float("inf")
    return total * watchers, received[0], p99


def run_backend(backend: str, pods: int, workdir: Path) -> None:
    print(f"\n== kubelite API server on {backend} ==")
    etcd = None
    args = [sys.executable, "-m", "kubelite.cli.main", "server", "--log-level", "WARNING",
            "--disable-agent"]
    if backend == "etcd":
        with EtcdServer() as scratch:  # the raw figure's keys stay out of the server's etcd
            raw_rate = raw_etcd_write_rate(scratch, 5000)
        etcd = EtcdServer()
        endpoint = etcd.start()
        args += ["--datastore-endpoint", endpoint]
        raw_name = "raw etcd puts/s"
    else:
        raw_rate = raw_sqlite_write_rate(str(workdir / f"raw-{backend}.db"), 20000)
        raw_name = "raw sqlite3 writes/s"
    port = free_port()
    data_dir = workdir / f"data-{backend}"
    tokens = workdir / "tokens.csv"
    tokens.write_text(f'{TOKEN},bench,bench,"system:masters"\n')
    TLS.context = None
    server = subprocess.Popen(args + ["--data-dir", str(data_dir), "--port", str(port),
                                      "--token-auth-file", str(tokens)],
                              cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"https://127.0.0.1:{port}"
    bare = None
    try:
        wait_ready(url + "/readyz", server, ca_file=data_dir / "tls" / "server-ca.crt")
        asyncio.run(_setup(url))
        # GET one pod vs the bare handler serving the same bytes, both over TLS.
        pod_url = f"{url}/api/v1/namespaces/bench/pods/pod-00000"
        body_file = workdir / "pod.json"
        body_file.write_bytes(fetch(pod_url))
        bare_port = free_port()
        bare = bare_handler(bare_port, body_file)
        wait_ready(f"https://127.0.0.1:{bare_port}/", bare)
        bare_rate = wrk(f"https://127.0.0.1:{bare_port}/api/v1/namespaces/bench/pods/pod-00000")
        get_rate = wrk(pod_url)
        figure("GET one pod (TLS, token)", get_rate, "req/s", bare_rate,
               "bare aiohttp TLS handler req/s", "goal >= 0.5")
        stop(bare)
        bare = None
        # Creates with 32 concurrent clients.
        lua = workdir / "create.lua"
        lua.write_text(textwrap.dedent("""\
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            wrk.body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"cm-"},"data":{"k":"v"}}'
            """))
        create_rate = wrk(f"{url}/api/v1/namespaces/bench-cm/configmaps", script=str(lua))
        figure("ConfigMap creates, 32 clients", create_rate, "/s", raw_rate, raw_name,
               "goal >= 1500/s on SQLite")
        # LIST of N pods.
        asyncio.run(create_pods(url, range(1, pods)))
        list_file = workdir / "list.json"
        list_file.write_bytes(fetch(f"{url}/api/v1/namespaces/bench/pods"))
        bare_port = free_port()
        bare = bare_handler(bare_port, list_file)
        wait_ready(f"https://127.0.0.1:{bare_port}/", bare)
        lat, bare_lat = asyncio.run(list_latencies(url, f"https://127.0.0.1:{bare_port}"))
        stop(bare)
        bare = None
        med = statistics.median(lat)
        figure(f"LIST {pods} pods, median ms", med, "ms", 150.0, "150 ms goal", "goal < 150")
        figure(f"LIST {pods} pods, p90 ms", sorted(lat)[int(len(lat) * 0.9) - 1], "ms", 150.0,
               "150 ms goal", "info")
        figure(f"LIST {pods} pods, median ms", med, "ms", statistics.median(bare_lat),
               "bare handler, same bytes", "info")
        figure(f"server RSS with {pods} pods", rss_mb(server.pid), "MB", 300.0,
               "300 MB goal", "goal < 300")
        with PeakRSS(server.pid) as peak:
            concurrent = asyncio.run(concurrent_lists(url))
        figure(f"peak RSS, 32 concurrent LISTs of {pods}", peak.peak_mb, "MB", 300.0,
               "300 MB goal", "goal < 300")
        figure("32 concurrent LISTs, median ms", statistics.median(concurrent), "ms",
               32 * med, "32 x single LIST median", "info")
        expected, delivered, p99 = asyncio.run(watch_fanout(url))
        figure("watch events delivered (100 watchers)", delivered, "events", expected,
               "events written x watchers", "goal 1.0")
        figure("watch p99 delivery delay", p99, "ms", 1000.0, "1 s goal", "goal < 1000")
    finally:
        if bare is not None:
            stop(bare)
        stop(server)
        if etcd is not None:
            etcd.stop()


async def _setup(url: str) -> None:
    async with session() as http:
        for ns in ("bench", "bench-cm", "watched"):
            async with http.post(f"{url}/api/v1/namespaces", data=orjson.dumps(
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                    headers={"Content-Type": "application/json"}) as r:
                await r.read()
    await create_pods(url, range(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "etcd", "both"), default="both")
    parser.add_argument("--pods", type=int, default=10_000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_api needs wrk (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("sqlite", "etcd") if args.backend == "both" else (args.backend,):
            run_backend(backend, args.pods, Path(tmp))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
