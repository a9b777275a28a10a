"""A containerd of the tests' own, for the cri runtime's tests: Debian's containerd
(1.6) started as root with its own root, state and socket under a temporary
directory, its CRI plugin's CNI config a bridge of a unique name on a unique /24,
its streaming server on 127.0.0.1, and the busybox image (tests/busybox_image.py)
and a pause image made of it imported into its k8s.io namespace. Nothing reaches
the internet.

At the end of the session every sandbox is stopped and removed through the CRI,
containerd is stopped by its pid, any shim it left is killed by pid, and the mounts,
the bridge, the cgroups and the directory go, even when a test failed. Tests skip
with the reason when root, containerd, runc, the CNI plugins or busybox are missing,
or when containerd does not start here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.kubelet import cri
from kubelite.kubelet.kubelet import Kubelet
from kubelite.kubelet.prober.manager import ProbeManager
from kubelite.kubelet.runtime.cri import Connection, CRIImages, CRIRuntime
from kubelite.kubelet.testing import pod, running_kubelet

REPO = Path(__file__).resolve().parents[4]
PAUSE_IMAGE = "kubelite.test/pause:1"
CNI_BIN = Path("/usr/lib/cni")
START_TIMEOUT = 20.0


def missing_prerequisite() -> str:
    if os.geteuid() != 0:
        return "containerd's CRI plugin needs root"
    for binary, package in (("containerd", "containerd"), ("containerd-shim-runc-v2", "containerd"),
                            ("ctr", "containerd"), ("runc", "runc")):
        if shutil.which(binary) is None:
            return f"{binary} is not installed (apt-get install {package})"
    if not (CNI_BIN / "bridge").exists():
        return "the CNI plugins are not installed (apt-get install containernetworking-plugins)"
    if not Path("/bin/busybox").exists():
        return "busybox-static is not installed (apt-get install busybox-static)"
    return ""


requires_containerd = pytest.mark.skipif(bool(missing_prerequisite()),
                                         reason=missing_prerequisite() or "-")


def image_archive(path: Path, tag: str = PAUSE_IMAGE,
                  entrypoint: tuple[str, ...] = ("/bin/sleep", "2147483647")) -> None:
    """A docker-archive of the busybox layer running `entrypoint`. By default the
    pause image: its one process sleeps, and containerd runs it as each pod's sandbox."""
    sys.path.insert(0, str(REPO))
    try:
        from tests.busybox_image import layer_bytes
    finally:
        sys.path.remove(str(REPO))
    layer = layer_bytes()
    diff_id = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
        "config": {"Entrypoint": list(entrypoint)},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag],
                            "Layers": [f"{diff_id}/layer.tar"]}]).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in ((f"{diff_id}/layer.tar", layer), (config_name, config),
                           ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@dataclass
class Containerd:
    directory: Path
    endpoint: str  # unix:///.../containerd.sock
    bridge: str
    subnet: str
    cgroup_root: str
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> str:
        return self.endpoint[len("unix://"):]

    def ctr(self, *args: str) -> str:
        done = subprocess.run(["ctr", "--address", self.socket, "--namespace", "k8s.io", *args],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout


def _config(directory: Path, cgroup_root: str) -> str:
    return f"""version = 2
root = "{directory}/root"
state = "{directory}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{directory}/containerd.sock"
[ttrpc]
  address = "{directory}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{directory}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # a sandbox of its own may not lower oom_score_adj below its own (-998 for pause)
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{directory}/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
"""


def _cni_config(directory: Path, bridge: str, subnet: str) -> str:
    return json.dumps({"cniVersion": "0.4.0", "name": bridge, "plugins": [{
        "type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": False,
        "ipam": {"type": "host-local", "dataDir": str(directory / "ipam"),
                 "ranges": [[{"subnet": subnet}]], "routes": [{"dst": "0.0.0.0/0"}]}}]})


async def remove_every_sandbox(endpoint: str) -> None:
    connection = Connection(endpoint, timeout=30)
    runtime = CRIRuntime(connection)
    try:
        for sandbox in await runtime.list_pod_sandboxes():
            with contextlib.suppress(cri.CRIError):
                await runtime.stop_pod_sandbox(sandbox.id)
            with contextlib.suppress(cri.CRIError):
                await runtime.remove_pod_sandbox(sandbox.id)
    finally:
        await connection.close()


def _pids_mentioning(text: str) -> list[int]:
    """Processes whose command line names `text` (the shims of our containerd name
    its socket)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if text.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _unmount_under(directory: Path) -> None:
    prefix = str(directory) + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def _remove_cgroups(cgroup_root: str) -> None:
    for controller in Path("/sys/fs/cgroup").iterdir():
        top = controller / cgroup_root.strip("/")
        if not top.is_dir():
            continue
        for path in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts),
                           reverse=True):
            with contextlib.suppress(OSError):
                path.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def _stop(containerd: Containerd) -> None:
    try:
        asyncio.run(asyncio.wait_for(remove_every_sandbox(containerd.endpoint), 120))
    except Exception as exc:  # noqa: BLE001 - cleanup goes on whatever failed
        print(f"containerd fixture: removing sandboxes failed: {exc}", file=sys.stderr)
    containerd.process.send_signal(signal.SIGTERM)
    try:
        containerd.process.wait(10)
    except subprocess.TimeoutExpired:
        containerd.process.kill()
        containerd.process.wait(10)
    for pid in _pids_mentioning(containerd.socket):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _unmount_under(containerd.directory)
    subprocess.run(["ip", "link", "del", containerd.bridge], capture_output=True)
    _remove_cgroups(containerd.cgroup_root)
    shutil.rmtree(containerd.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def containerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    missing = missing_prerequisite()
    if missing:
        pytest.skip(missing)
    # short: containerd's socket path must fit a sockaddr_un (108 bytes)
    directory = Path(f"/tmp/kl-cri-{uuid.uuid4().hex[:8]}")
    directory.mkdir()
    unique = int(hashlib.sha256(directory.name.encode()).hexdigest(), 16)
    bridge = f"klcri{unique % 10**8:08d}"[:15]
    # 10.200.0.0/14 is no one's default (kubelite's pods are 10.42.0.0/16)
    subnet = f"10.{200 + unique % 4}.{(unique >> 8) % 256}.0/24"
    cgroup_root = f"/kubelite-cri-{directory.name[7:]}"
    (directory / "cni").mkdir()
    (directory / "cni" / "10-kubelite-test.conflist").write_text(_cni_config(directory, bridge, subnet))
    (directory / "config.toml").write_text(_config(directory, cgroup_root))
    log = open(directory / "containerd.log", "wb")
    process = subprocess.Popen(["containerd", "--config", str(directory / "config.toml")],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    running = Containerd(directory, f"unix://{directory}/containerd.sock", bridge, subnet,
                         cgroup_root, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not Path(running.socket).exists():
            if process.poll() is not None or time.monotonic() > deadline:
                output = (directory / "containerd.log").read_text(errors="replace")[-2000:]
                pytest.skip(f"containerd does not start here: {output}")
            time.sleep(0.05)
        images = directory / "images"
        images.mkdir()
        subprocess.run([sys.executable, str(REPO / "tests" / "busybox_image.py"),
                        str(images / "busybox.tar"), "busybox:latest"],
                       check=True, capture_output=True)
        image_archive(images / "pause.tar")
        for archive in ("busybox.tar", "pause.tar"):
            running.ctr("images", "import", str(images / archive))
    except BaseException:
        _stop(running)
        raise
    yield running
    _stop(running)


@pytest.fixture
async def connection(containerd: Containerd) -> AsyncIterator[Connection]:
    conn = Connection(containerd.endpoint, timeout=30)
    yield conn
    await conn.close()


@pytest.fixture
async def runtime(containerd: Containerd, connection: Connection,
                  tmp_path: Path) -> AsyncIterator[CRIRuntime]:
    """The runtime over the session's containerd; the test's sandboxes are removed
    after it."""
    runtime = CRIRuntime(connection, cgroup_root=containerd.cgroup_root,
                         state_dir=tmp_path / "cri")
    before = {s.id for s in await runtime.list_pod_sandboxes()}
    yield runtime
    for sandbox in await runtime.list_pod_sandboxes():
        if sandbox.id not in before:
            await runtime.stop_pod_sandbox(sandbox.id)
            await runtime.remove_pod_sandbox(sandbox.id)


@pytest.fixture
def images(connection: Connection) -> CRIImages:
    return CRIImages(connection, pull_timeout=10)


@pytest.fixture
async def kubelet(client: Client, tmp_path: Path, runtime: CRIRuntime,
                  images: CRIImages) -> AsyncIterator[Kubelet]:
    """The kubelet, as it is, on the cri runtime (with its exec probes)."""
    async with running_kubelet(client, tmp_path / "kubelet", runtime,  # type: ignore[arg-type]
                               images=images, probes=ProbeManager(runtime)) as k:
        yield k


def busybox_pod(name: str, command: str, **spec: Any) -> dict[str, Any]:
    # a container's PID 1 ignores SIGTERM: a short grace keeps the stops short
    manifest = pod(name, command, **{"terminationGracePeriodSeconds": 1, **spec})
    for container in manifest["spec"]["containers"]:
        container["imagePullPolicy"] = "IfNotPresent"  # imported, never pulled: offline
    return manifest
