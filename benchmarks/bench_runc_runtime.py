"""The runc runtime alone: how long a pod takes to start, against a bare `runc run`.

    python benchmarks/bench_runc_runtime.py [--pods 30]

Figures (root and runc needed; busybox-static makes the image):

- one pod after another: sandbox + create + start of a busybox `sleep`, p50 and p99,
  and the median of each step;
- a bare `runc run --detach` of the same bundle, in the same run: the limit (runc's
  own work, with no namespaces to join, no FIFOs, no records);
- the same number of pods started all at once: when the last one runs;
- stopping all of them at once, then removing them one by one.

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import RuncRuntime

BUSYBOX_IMAGE = Path(__file__).resolve().parents[1] / "tests" / "busybox_image.py"


class UnpackedImage:
    """One docker-archive image unpacked into directories (ImageLayers)."""

    def __init__(self, archive: Path, into: Path) -> None:
        with tarfile.open(archive) as tar:
            tar.extractall(into / "archive")
        manifest = json.loads((into / "archive" / "manifest.json").read_text())[0]
        self._config: dict[str, Any] = json.loads((into / "archive" / manifest["Config"]).read_text())["config"]
        self._layers = []
        for index, layer in enumerate(manifest["Layers"]):
            directory = into / f"layer{index}"
            directory.mkdir()
            with tarfile.open(into / "archive" / layer) as tar:
                tar.extractall(directory)
            self._layers.append(directory)

    def layers(self, image: str) -> list[Path]:
        return self._layers

    def config(self, image: str) -> dict[str, Any]:
        return self._config


def pod(work: Path, name: str) -> cri.PodSandboxConfig:
    return cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name=name, namespace="bench", uid=uuid.uuid4().hex),
        hostname=name,
        log_directory=str(work / "pods" / name),
        cgroup_parent=f"pod{name}",
    )


SLEEPER = cri.ContainerConfig(
    metadata=cri.ContainerMetadata("c"), image="busybox", command=("sleep", "1000"), log_path="c.log"
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def bare_runc_run(runtime: RuncRuntime, container_id: str, work: Path, runs: int) -> list[float]:
    """`runc run --detach` of the runtime's own bundle for the container, with fresh
    namespaces of runc's making instead of the pod's."""
    bundle = runtime.containers.get(container_id).directory / "bundle"
    spec = json.loads((bundle / "config.json").read_text())
    root = work / "bare-runc"
    times = []
    for index in range(runs):
        directory = work / f"bare{index}"
        (directory / "rootfs").mkdir(parents=True)
        subprocess.run(["mount", "--bind", str(bundle / "rootfs"), str(directory / "rootfs")], check=True)
        spec["root"] = {"path": "rootfs"}
        spec["linux"]["cgroupsPath"] = f"/kubelite-bench/bare{index}"
        spec["linux"]["namespaces"] = [{"type": t} for t in ("mount", "pid", "network", "ipc", "uts")]
        (directory / "config.json").write_text(json.dumps(spec))
        started = time.perf_counter()
        subprocess.run(
            ["runc", "--root", str(root), "run", "--detach", "--bundle", str(directory), f"bare{index}"],
            check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
        subprocess.run(["runc", "--root", str(root), "delete", "--force", f"bare{index}"], check=True)
        subprocess.run(["umount", str(directory / "rootfs")], check=True)
    for cgroup in Path("/sys/fs/cgroup").glob("*/kubelite-bench"):
        cgroup.rmdir()
    return times


async def main(pods: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-runc-"))
    try:
        subprocess.run([sys.executable, str(BUSYBOX_IMAGE), str(work / "busybox.tar")], check=True, capture_output=True)
        (work / "image").mkdir()
        images = UnpackedImage(work / "busybox.tar", work / "image")
        runtime = RuncRuntime(root=work / "agent" / "runc", images=images, cgroup_root="/kubelite-bench-pods")
        totals, steps, sandboxes = [], [], []
        last_container = ""
        for index in range(pods):
            started = time.perf_counter()
            config = pod(work, f"p{index}")
            sandbox_id = await runtime.run_pod_sandbox(config)
            made = time.perf_counter()
            last_container = await runtime.create_container(sandbox_id, SLEEPER, config)
            created = time.perf_counter()
            await runtime.start_container(last_container)
            running = time.perf_counter()
            totals.append(running - started)
            steps.append((made - started, created - made, running - created))
            sandboxes.append(sandbox_id)
        bare = bare_runc_run(runtime, last_container, work, 10)
        print(
            f"pod start, one after another ({pods}): p50 {percentile(totals, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(totals, 0.99) * 1000:.0f} ms "
            f"(median sandbox {statistics.median(s[0] for s in steps) * 1000:.0f} ms, "
            f"create {statistics.median(s[1] for s in steps) * 1000:.0f} ms, "
            f"start {statistics.median(s[2] for s in steps) * 1000:.0f} ms)"
        )
        print(f"bare runc run --detach of the same bundle: p50 {percentile(bare, 0.5) * 1000:.0f} ms (the limit)")
        started = time.perf_counter()
        await asyncio.gather(*(runtime.stop_pod_sandbox(s) for s in sandboxes))
        stopped = time.perf_counter()
        for sandbox_id in sandboxes:
            await runtime.remove_pod_sandbox(sandbox_id)
        print(f"stop {pods} pods at once: {stopped - started:.2f} s; remove them: {time.perf_counter() - stopped:.2f} s")

        async def start_one(index: int) -> tuple[str, float]:
            config = pod(work, f"q{index}")
            sandbox_id = await runtime.run_pod_sandbox(config)
            container_id = await runtime.create_container(sandbox_id, SLEEPER, config)
            await runtime.start_container(container_id)
            return sandbox_id, time.perf_counter() - begun

        begun = time.perf_counter()
        results = await asyncio.gather(*(start_one(i) for i in range(pods)))
        latencies = [latency for _, latency in results]
        print(f"{pods} pods started at once: the last running after {max(latencies):.2f} s, p50 {percentile(latencies, 0.5):.2f} s")
        for sandbox_id, _ in results:
            await runtime.remove_pod_sandbox(sandbox_id)
        await runtime.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=30)
    asyncio.run(main(parser.parse_args().pods))
