"""Simulated nodes in one `kubelite server`: memory and idle CPU, against the goal.

    python benchmarks/bench_simulated_nodes.py [--nodes 5000] [--window 30]
    python benchmarks/bench_simulated_nodes.py --nodes 1000 --pods 30000

With `--pods`, Deployments of 1,000 replicas each (100m cpu, 100Mi) are created first
and the window starts once every replica is available: issue 7's idle cost of a
populated cluster (goal: under half a core, under 1 GB), with every control loop,
the scheduler and the nodes' status all holding 30,000 pods.

Starts `kubelite server --simulated-nodes N` (SQLite store, in a temporary data dir),
waits until every node is registered and holds a Lease, lets one full renew interval
pass, then samples the process over `--window` seconds of steady state (leases renewed
every 10 s, nothing else happening). Figures, each with its ratio to the goal:

- registration time of the N nodes;
- server RSS, vs 600 MB; and the same server with no simulated node, for the share
  the nodes add (and per node);
- CPU over the window in cores (utime + stime / wall), vs 1 core; and the lease
  writes per second that cost it (N / 10 s expected).

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kubelite.client.kubeconfig import load_kubeconfig  # noqa: E402

RSS_GOAL_MB, CPU_GOAL_CORES = 600.0, 1.0  # issue 6: nodes alone
POPULATED_RSS_GOAL_MB, POPULATED_CPU_GOAL_CORES = 1024.0, 0.5  # issue 7: with pods
REPLICAS_PER_DEPLOYMENT = 1000
TICKS = os.sysconf("SC_CLK_TCK")
# TLS as the running server's admin kubeconfig says (the server speaks HTTPS only);
# one server runs at a time
CONTEXT: ssl.SSLContext | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def use_kubeconfig(path: Path) -> None:
    global CONTEXT
    CONTEXT = load_kubeconfig(path).ssl_context()


def get(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(url, timeout=30, context=CONTEXT) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def post(url: str, body: dict) -> None:  # type: ignore[type-arg]
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30, context=CONTEXT):
        pass


def deployment(name: str, replicas: int) -> dict:  # type: ignore[type-arg]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                         "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10",
                                         "resources": {"requests": {"cpu": "100m",
                                                                    "memory": "100Mi"}}}]}}}}


def populate(url: str, pods: int) -> float:
    """Deployments holding `pods` replicas, created at once; seconds until all available."""
    start, deployments = time.monotonic(), url + "/apis/apps/v1/namespaces/default/deployments"
    for i in range(0, pods, REPLICAS_PER_DEPLOYMENT):
        post(deployments, deployment(f"idle-{i // REPLICAS_PER_DEPLOYMENT}",
                                     min(REPLICAS_PER_DEPLOYMENT, pods - i)))
    while sum(int((d.get("status") or {}).get("availableReplicas") or 0)
              for d in get(deployments)["items"]) < pods:
        time.sleep(2.0)
    return time.monotonic() - start


def count(url: str) -> int:
    """Items of a list, counted page by page (limit=500)."""
    total, token = 0, ""
    while True:
        page = get(url + ("&" if "?" in url else "?") + "limit=500"
                   + (f"&continue={token}" if token else ""))
        total += len(page.get("items") or ())
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return total


class Server:
    def __init__(self, data_dir: Path, nodes: int, *extra_args: str) -> None:
        self.port = free_port()
        args = [sys.executable, "-m", "kubelite.cli.main", "server", "--data-dir",
                str(data_dir), "--port", str(self.port), "--log-level", "WARNING",
                "--disable-agent"]
        if nodes:
            args += ["--simulated-nodes", str(nodes), "--cluster-cidr", "10.64.0.0/10"]
        args += extra_args
        self.proc = subprocess.Popen(args, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.url = f"https://127.0.0.1:{self.port}"
        kubeconfig = data_dir / "kubeconfig"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if kubeconfig.exists():  # written once the server serves
                use_kubeconfig(kubeconfig)
                try:
                    get(self.url + "/version")
                    return
                except OSError:
                    pass
            time.sleep(0.1)
        raise TimeoutError("server did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def sample(pid: int, window: float) -> tuple[float, float]:
    """(CPU cores used over the window, peak RSS MB seen)."""
    cpu0, wall0, peak = cpu_seconds(pid), time.monotonic(), rss_mb(pid)
    while time.monotonic() - wall0 < window:
        time.sleep(1.0)
        peak = max(peak, rss_mb(pid))
    return (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--pods", type=int, default=0)
    args = parser.parse_args()
    rss_goal, cpu_goal = ((POPULATED_RSS_GOAL_MB, POPULATED_CPU_GOAL_CORES) if args.pods
                          else (RSS_GOAL_MB, CPU_GOAL_CORES))
    with tempfile.TemporaryDirectory() as tmp:
        base = Server(Path(tmp) / "base", 0)
        try:
            time.sleep(2)
            base_cpu, base_rss = sample(base.proc.pid, min(args.window, 10.0))
        finally:
            base.stop()
        start = time.monotonic()
        server = Server(Path(tmp) / "sim", args.nodes)
        try:
            while count(server.url + "/api/v1/nodes") < args.nodes:
                time.sleep(0.5)
            registered = time.monotonic() - start
            leases_url = server.url + "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
            while count(leases_url) < args.nodes:
                time.sleep(0.5)
            populated = populate(server.url, args.pods) if args.pods else 0.0
            time.sleep(10.0)  # one renew interval: the wheel is in its steady state
            rv0 = int(get(leases_url + "?limit=1")["metadata"]["resourceVersion"])
            cpu, rss = sample(server.proc.pid, args.window)
            rv1 = int(get(leases_url + "?limit=1")["metadata"]["resourceVersion"])
        finally:
            server.stop()
    writes = (rv1 - rv0) / args.window
    added = rss - base_rss
    print(f"simulated nodes: {args.nodes} in one kubelite server (SQLite)"
          + (f", {args.pods} pods" if args.pods else ""))
    print(f"  registered in {registered:.1f} s (all Leases held shortly after)")
    if args.pods:
        print(f"  {args.pods} pods available in {populated:.1f} s "
              f"({args.pods / populated:.0f} pods/s)")
    print(f"  RSS {rss:.0f} MB vs goal {rss_goal:.0f} MB: ratio {rss / rss_goal:.2f}"
          f"  (server alone {base_rss:.0f} MB; nodes add {added:.0f} MB, "
          f"{added * 1024 / max(args.nodes, 1):.1f} KB per node)")
    print(f"  idle CPU {cpu:.2f} cores vs goal {cpu_goal:g} core: ratio "
          f"{cpu / cpu_goal:.2f}  (server alone {base_cpu:.3f} cores)")
    print(f"  writes {writes:.0f}/s over {args.window:.0f} s (expected {args.nodes / 10:.0f}/s: "
          f"one lease renewal per node per 10 s)")


if __name__ == "__main__":
    main()
