"""Pods on a real `kubelite server` with the runc runtime: startup latency, time to the
first pod, and what the kubelet costs with the pods running.

    sudo .venv/bin/python benchmarks/bench_pod_startup.py [--pods 100]

Root and runc needed; the busybox image is built by tests/busybox_image.py and imported
into a fresh data dir before the server starts (the image is cached: nothing is pulled).

Figures:

- server start to first pod Running: from spawning `kubelite server` on the fresh data
  dir (its bytecode compiled, as `./dev server` leaves it) to a pod, created as soon as /readyz answers, seen Running through a watch
  (goal under 3 s); /readyz's own time is printed beside it;
- pod startup latency, creation to Running, for N pods created one after another as
  fast as the API takes them (busybox `sleep`, image cached, one node, the scheduler
  places them): from the create request being sent to the watch event showing the pod
  Running, p50 and p99 (goal p99 under 2 s; upstream's SLO is 5 s), and the time until
  the last of them runs (and how long each create request took: the API server shares
  its process and event loop with the kubelet starting the pods);
- a bare `runc run --detach` of a busybox `sleep` bundle in the same run: p50, the
  limit (runc's work alone, no API, no scheduler, no kubelet);
- the server process (API server, controllers, scheduler and kubelet in one) with the
  N pods running: CPU seconds used while idle for 10 s, and its RSS (beside its RSS
  with the first pod alone). Containers are runc's, not the server's children: not counted.

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch  # type: ignore[import-untyped]
from kubernetes.client.rest import ApiException  # type: ignore[import-untyped]

CHECKOUT = Path(__file__).resolve().parents[1]
BUSYBOX_IMAGE = CHECKOUT / "tests" / "busybox_image.py"
IMAGE = "bench/busybox:1"
NAMESPACE = "default"
IDLE_SECONDS = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kubelite.cli.main", *args]


def pod_manifest(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "terminationGracePeriodSeconds": 1,  # sleep as pid 1 ignores SIGTERM
            "containers": [
                {"name": "c", "image": IMAGE, "command": ["sleep", "3600"], "imagePullPolicy": "IfNotPresent"}
            ],
        },
    }


class RunningWatch:
    """Watches the namespace's pods and notes, on the local clock, when each is first
    seen Running."""

    def __init__(self, core: Any) -> None:
        self._core = core
        self._watch = watch.Watch()
        self.running: dict[str, float] = {}
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                for event in self._watch.stream(self._core.list_namespaced_pod, NAMESPACE, timeout_seconds=0):
                    pod = event["object"]
                    if pod.status is not None and pod.status.phase == "Running":
                        with self._changed:
                            self.running.setdefault(pod.metadata.name, time.perf_counter())
                            self._changed.notify_all()
                return
            except Exception:  # a watch broken by the server going away, or reconnecting
                if getattr(self._watch, "_stop", False):
                    return
                time.sleep(0.1)

    def wait_running(self, names: list[str], timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        with self._changed:
            while not all(name in self.running for name in names):
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def stop(self) -> None:
        self._watch.stop()


def create_pod(core: Any, name: str, timeout: float = 30.0) -> float:
    """Creates the pod, retrying while the namespace's service account is not yet made;
    returns the local time the successful request was sent."""
    deadline = time.perf_counter() + timeout
    while True:
        sent = time.perf_counter()
        try:
            core.create_namespaced_pod(NAMESPACE, pod_manifest(name))
            return sent
        except ApiException as error:
            if time.perf_counter() > deadline or error.status not in (403, 404, 409, 500, 503):
                raise
            time.sleep(0.02)


def wait_ready(kubeconfig: Path, timeout: float) -> Any:
    deadline = time.perf_counter() + timeout
    while not kubeconfig.exists():
        if time.perf_counter() > deadline:
            raise TimeoutError("no kubeconfig written")
        time.sleep(0.02)
    api = config.new_client_from_config(str(kubeconfig))
    while True:
        try:
            method, url, headers, body, post = api.param_serialize("GET", "/readyz", auth_settings=["BearerToken"])
            if api.call_api(method, url, headers, body, post).status == 200:
                return api
        except Exception:  # not listening yet
            if time.perf_counter() > deadline:
                raise
        time.sleep(0.02)


def bare_runc_run(work: Path, archive: Path, runs: int) -> list[float]:
    """`runc run --detach` of a busybox `sleep` bundle made from the same image."""
    bundle = work / "bare"
    rootfs = bundle / "rootfs"
    rootfs.mkdir(parents=True)
    with tarfile.open(archive) as outer:
        manifest = json.loads(outer.extractfile("manifest.json").read())[0]  # type: ignore[union-attr]
        for layer in manifest["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                inner.extractall(rootfs)
    subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
    spec = json.loads((bundle / "config.json").read_text())
    spec["process"]["args"] = ["sleep", "3600"]
    spec["process"]["terminal"] = False
    spec["root"] = {"path": "rootfs", "readonly": False}
    (bundle / "config.json").write_text(json.dumps(spec))
    root = work / "bare-runc"
    times = []
    for index in range(runs):
        container = f"bench-bare{index}"
        spec["linux"]["cgroupsPath"] = f"/kubelite-bench-pods/{container}"
        (bundle / "config.json").write_text(json.dumps(spec))
        started = time.perf_counter()
        subprocess.run(
            ["runc", "--root", str(root), "run", "--detach", "--bundle", str(bundle), container],
            check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
        subprocess.run(["runc", "--root", str(root), "delete", "--force", container], check=True)
    for cgroup in [*Path("/sys/fs/cgroup").glob("kubelite-bench-pods"), *Path("/sys/fs/cgroup").glob("*/kubelite-bench-pods")]:
        cgroup.rmdir()
    return times


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def leftovers(work: Path) -> list[str]:
    found = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines() if str(work) in line]
    for state in work.glob("**/state.json"):
        found.append(str(state.parent))
    return found


def run(pods: int, log: Path, work: Path) -> None:
    archive = work / "busybox.tar"
    data = work / "data"
    subprocess.run([sys.executable, str(BUSYBOX_IMAGE), str(archive), IMAGE], check=True, capture_output=True)
    subprocess.run(cli("image", "import", "--data-dir", str(data), str(archive)), check=True, capture_output=True)
    bare = bare_runc_run(work, archive, 10)
    kubelet_port = free_port()
    command = cli(
        "server", "--data-dir", str(data), "--port", str(free_port()), "--node-ip", "127.0.0.1",
        "--kubelet-port", str(kubelet_port), "--runtime", "runc", "--disable", "metrics-server",
    )  # fmt: skip
    with log.open("wb") as output:
        spawned = time.perf_counter()
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=CHECKOUT)
    running_watch = None
    try:
        api = wait_ready(data / "kubeconfig", 60)
        ready = time.perf_counter()
        core = client.CoreV1Api(api)
        running_watch = RunningWatch(core)
        create_pod(core, "first")
        if not running_watch.wait_running(["first"], 60):
            print(f"the first pod was not Running within 60 s; see {log}")
            return
        first = running_watch.running["first"] - spawned
        print(
            f"server start to first pod Running: {first:.2f} s "
            f"(goal 3 s: {first / 3:.2f}x; /readyz after {ready - spawned:.2f} s)"
        )

        rss_one_pod = rss_mib(server.pid)
        names = [f"bench-{index}" for index in range(pods)]
        created: dict[str, float] = {}
        requests: list[float] = []
        before = time.perf_counter()
        for name in names:
            created[name] = create_pod(core, name)
            requests.append(time.perf_counter() - created[name])
        all_created = time.perf_counter() - before
        if not running_watch.wait_running(names, 60 + pods):
            missing = [name for name in names if name not in running_watch.running]
            print(f"{len(missing)} of {pods} pods not Running in time; see {log}")
            return
        latencies = [running_watch.running[name] - created[name] for name in names]
        last = max(running_watch.running[name] for name in names) - before
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        bare_p50 = statistics.median(bare)
        print(
            f"pod startup, creation to Running ({pods} pods, one node, runc, image cached): "
            f"p50 {p50 * 1000:.0f} ms ({p50 / bare_p50:.1f}x bare runc), "
            f"p99 {p99 * 1000:.0f} ms ({p99 / bare_p50:.1f}x bare runc; goal 2 s: {p99 / 2:.2f}x); "
            f"all created in {all_created:.2f} s (create request p50 {percentile(requests, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(requests, 0.99) * 1000:.0f} ms), the last Running after {last:.2f} s"
        )
        print(f"bare runc run --detach of a busybox sleep bundle: p50 {bare_p50 * 1000:.0f} ms (the limit)")

        start_cpu = cpu_seconds(server.pid)
        time.sleep(IDLE_SECONDS)
        idle_cpu = cpu_seconds(server.pid) - start_cpu
        print(
            f"server process with {pods + 1} pods running, idle {IDLE_SECONDS:.0f} s: "
            f"{idle_cpu:.2f} CPU s ({idle_cpu / IDLE_SECONDS * 100:.1f}% of a core), "
            f"RSS {rss_mib(server.pid):.0f} MiB (with 1 pod: {rss_one_pod:.0f} MiB); CPU since start {cpu_seconds(server.pid):.1f} s"
        )

        deleting = time.perf_counter()
        # Graceful, so the kubelet stops and removes each pod before the API lets it go.
        core.delete_collection_namespaced_pod(NAMESPACE)
        deadline = time.perf_counter() + 120
        while core.list_namespaced_pod(NAMESPACE).items and time.perf_counter() < deadline:
            time.sleep(0.2)
        gone = time.perf_counter() - deleting
        while list((data / "agent" / "runc" / "runc").glob("*/state.json")) and time.perf_counter() < deadline:
            time.sleep(0.2)
        print(
            f"delete {pods + 1} pods (grace 1 s) until gone from the API: {gone:.2f} s, "
            f"until no runc container is left: {time.perf_counter() - deleting:.2f} s"
        )
    finally:
        if running_watch is not None:
            running_watch.stop()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            print(f"the server did not stop within 60 s of SIGTERM; killing pid {server.pid}")
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--keep-log", type=Path, help="copy the server's log here")
    arguments = parser.parse_args()
    # the bytecode `./dev server` writes before it starts the server (as an installed
    # package has it): the start measured is a user's, not a compile of every module
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(CHECKOUT / "kubelite")],
                   check=True, stdout=subprocess.DEVNULL)
    work = Path(tempfile.mkdtemp(prefix="bench-pods-"))
    log = work / "server.log"
    try:
        run(arguments.pods, log, work)
    finally:
        if arguments.keep_log is not None and log.exists():
            shutil.copy(log, arguments.keep_log)
        left = leftovers(work)
        if left:
            print(f"left behind after the server stopped, so {work} is kept: {left}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
