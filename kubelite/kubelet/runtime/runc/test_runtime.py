"""The runc runtime running real busybox containers: logs, exit codes, the image's and
the pod's settings, namespaces, cgroups, security, cleanup (root and runc needed)."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import pytest
from pyroute2 import IPRoute

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import RuncRuntime
from kubelite.kubelet.runtime.runc.conftest import (
    DirectoryImages,
    exited,
    leftovers,
    log_lines,
    requires_runc,
    run,
    sandbox_config,
    until,
)

pytestmark = requires_runc


async def test_output_lands_in_the_log_in_the_cri_format(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(runtime, sandbox_id, sandbox, "echo", "sh", "-c", "echo hello; echo oops >&2; printf tail")
    status = await exited(runtime, container_id)
    assert status.log_path == str(tmp_path / "pods" / "web" / "echo" / "0.log")
    assert sorted(log_lines(status)) == [("stderr", b"oops"), ("stdout", b"hello"), ("stdout", b"tail")]


@pytest.mark.parametrize(
    "command, code, reason",
    [
        (("true",), 0, "Completed"),
        (("sh", "-c", "exit 3"), 3, "Error"),
    ],
    ids=["zero", "three"],
)
async def test_exit_code_is_the_containers(
    runtime: RuncRuntime, tmp_path: Path, command: tuple[str, ...], code: int, reason: str
) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    status = await exited(runtime, await run(runtime, sandbox_id, sandbox, "c", *command))
    assert (status.exit_code, status.reason) == (code, reason)
    assert status.started_at and status.finished_at >= status.started_at


async def test_stop_kills_after_the_timeout_with_137(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    # pid 1 without a handler ignores SIGTERM: only the SIGKILL after the timeout ends it
    # (once it runs sleep: runc's own init, before it execs, would die of SIGTERM with 2)
    container_id = await run(runtime, sandbox_id, sandbox, "c", "sh", "-c", "echo ready; exec sleep 1000")
    log = tmp_path / "pods" / "web" / "c" / "0.log"

    async def ready() -> bool:
        return log.exists() and b"ready" in log.read_bytes()

    await until(ready)
    await runtime.stop_container(container_id, 0.2)
    status = await runtime.container_status(container_id)
    assert (status.state, status.exit_code, status.reason) == (cri.ContainerState.EXITED, 137, "Error")


async def test_stop_sends_the_images_stop_signal(
    runtime: RuncRuntime, images: DirectoryImages, tmp_path: Path
) -> None:
    image = images.with_config("busybox:usr1", "busybox:latest", StopSignal="SIGUSR1")
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "sh", "-c",
        "trap 'exit 7' USR1; echo ready; while true; do sleep 0.05; done", image=image,
    )

    async def ready() -> bool:
        path = Path(tmp_path / "pods" / "web" / "c" / "0.log")
        return path.exists() and b"ready" in path.read_bytes()

    await until(ready)
    await runtime.stop_container(container_id, 30)
    assert (await runtime.container_status(container_id)).exit_code == 7


async def test_args_env_workdir_and_user_from_image_and_config(
    runtime: RuncRuntime, images: DirectoryImages, tmp_path: Path
) -> None:
    image = images.with_config(
        "busybox:app", "busybox:latest",
        Entrypoint=["sh", "-c"], Cmd=["echo image-cmd"], Env=["PATH=/bin", "FROM_IMAGE=1", "SHARED=image"],
        WorkingDir="/tmp", User="nobody",
    )
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    config = cri.ContainerConfig(
        metadata=cri.ContainerMetadata(name="c"),
        image=image,
        args=('echo "$FROM_IMAGE $SHARED $OWN $PATH $HOSTNAME" $(pwd) $(id -u):$(id -g) $0', "zero"),
        envs=(("SHARED", "config"), ("OWN", "x")),
        log_path="c.log",
    )
    container_id = await runtime.create_container(sandbox_id, config, sandbox)
    await runtime.start_container(container_id)
    status = await exited(runtime, container_id)
    assert log_lines(status) == [("stdout", b"1 config x /bin web /tmp 65534:65534 zero")]


async def test_containers_of_a_pod_share_its_network_and_hostname(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path, hostname="shared-host")
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    await run(
        runtime, sandbox_id, sandbox, "server", "sh", "-c",
        "mkdir /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www",
    )
    client = await run(
        runtime, sandbox_id, sandbox, "client", "sh", "-c",
        "for i in $(seq 200); do wget -q -O- http://127.0.0.1:8080/ && exit 0; sleep 0.05; done; exit 1",
    )
    status = await exited(runtime, client)
    assert status.exit_code == 0
    assert log_lines(status) == [("stdout", b"shared-host")]


async def test_memory_limit_oom_kill_is_reported_as_oomkilled(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "hog", "sh", "-c", "head -c 200000000 /dev/zero | tail",
        resources=cri.Resources(memory_limit_in_bytes=16 * 1024 * 1024),
    )
    status = await exited(runtime, container_id)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")


async def test_removing_a_pod_leaves_nothing_behind(
    runtime: RuncRuntime, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    root, cgroup_root = runtime_root
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    await run(runtime, sandbox_id, sandbox, "a", "sleep", "1000")
    await run(runtime, sandbox_id, sandbox, "b", "sleep", "1000")
    during = leftovers(root, cgroup_root)
    assert len(during["runc"]) == 2 and during["cgroups"] and len(during["mounts"]) >= 6
    await runtime.stop_pod_sandbox(sandbox_id)
    assert {c.state for c in await runtime.list_containers(sandbox_id)} == {cri.ContainerState.EXITED}
    assert (await runtime.pod_sandbox_status(sandbox_id)).state == cri.SandboxState.NOTREADY
    await runtime.remove_pod_sandbox(sandbox_id)
    await runtime.remove_pod_sandbox(sandbox_id)  # idempotent
    assert leftovers(root, cgroup_root) == {"mounts": [], "runc": [], "containers": [], "sandboxes": [], "cgroups": []}
    with pytest.raises(cri.NotFound):
        await runtime.pod_sandbox_status(sandbox_id)


async def test_host_network_pod_uses_the_nodes_network(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path, host_network=True)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(runtime, sandbox_id, sandbox, "c", "sh", "-c", "ls /sys/class/net | wc -l; hostname")
    status = await exited(runtime, container_id)
    lines = [line for _, line in log_lines(status)]
    assert lines[1] == socket.gethostname().encode()
    assert int(lines[0]) == len(list(Path("/sys/class/net").iterdir()))


async def test_unknown_image_fails_create_with_a_reason(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    with pytest.raises(cri.CRIError) as raised:
        await run(runtime, sandbox_id, sandbox, "c", "true", image="nothere:latest")
    assert raised.value.reason == "CreateContainerError"
    assert await runtime.list_containers() == []
    assert not any((runtime.root / "containers").iterdir())


async def test_version_names_runc(runtime: RuncRuntime) -> None:
    version = await runtime.version()
    assert version.runtime_name == "runc"
    assert re.match(r"runc://\d+\.\d+\.\d+", version.container_runtime_version)


async def test_a_command_missing_from_the_image_fails_create_and_leaves_nothing(
    runtime: RuncRuntime, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    root, cgroup_root = runtime_root
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    with pytest.raises(cri.CRIError, match="no such file") as raised:
        await run(runtime, sandbox_id, sandbox, "c", "/nothere")
    assert raised.value.reason == "CreateContainerError"
    left = leftovers(root, cgroup_root)
    assert (left["runc"], left["containers"]) == ([], [])
    assert not [m for m in left["mounts"] if "/containers/" in m]


class DummyNetwork:
    """A PodNetwork giving each pod an eth0 with 10.99.0.5/24: a real link (a veth pair
    with both ends in the pod's namespace), which goes away with the namespace."""

    def __init__(self) -> None:
        self.set_up: list[tuple[str, str]] = []
        self.torn_down: list[str] = []

    async def setup(self, sandbox_id: str, netns_path: str, config: cri.PodSandboxConfig) -> cri.PodNetworkResult:
        def add_link() -> None:
            with IPRoute(netns=netns_path) as ipr:
                ipr.link("add", ifname="eth0", kind="veth", peer="peer0")
                (index,) = ipr.link_lookup(ifname="eth0")
                ipr.addr("add", index=index, address="10.99.0.5", prefixlen=24)
                ipr.link("set", index=index, state="up")

        await asyncio.to_thread(add_link)
        self.set_up.append((sandbox_id, netns_path))
        return cri.PodNetworkResult(ips=("10.99.0.5",))

    async def teardown(self, sandbox_id: str, netns_path: str) -> None:
        self.torn_down.append(sandbox_id)

    async def status(self) -> cri.RuntimeCondition:
        return cri.RuntimeCondition("NetworkReady", True)


async def test_the_pod_network_sets_up_the_sandboxes_namespace(
    images: DirectoryImages, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    root, cgroup_root = runtime_root
    network = DummyNetwork()
    runtime = RuncRuntime(root=root, images=images, network=network, cgroup_root=cgroup_root)
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    try:
        assert network.set_up == [(sandbox_id, str(root / "sandboxes" / sandbox_id / "ns" / "net"))]
        assert (await runtime.pod_sandbox_status(sandbox_id)).ips == ("10.99.0.5",)
        container_id = await run(
            runtime, sandbox_id, sandbox, "c", "sh", "-c", "ip -4 -o addr show eth0 | awk '{print $4}'; grep web /etc/hosts"
        )
        status = await exited(runtime, container_id)
        assert [line for _, line in log_lines(status)] == [b"10.99.0.5/24", b"10.99.0.5\tweb"]
        await runtime.stop_pod_sandbox(sandbox_id)
        await runtime.stop_pod_sandbox(sandbox_id)
        assert network.torn_down == [sandbox_id]  # once: stop is idempotent
    finally:
        await runtime.remove_pod_sandbox(sandbox_id)
        await runtime.close()


@pytest.mark.parametrize(
    "security, script, expected",
    [
        (cri.SecurityContext(), "grep CapEff /proc/self/status", b"CapEff:\t00000000a80425fb"),
        (
            cri.SecurityContext(privileged=True),
            "grep CapEff /proc/self/status",
            # every capability the runtime itself has
            next(line for line in Path("/proc/self/status").read_bytes().splitlines() if line.startswith(b"CapEff:")),
        ),
        (
            cri.SecurityContext(capabilities=cri.Capabilities(drop_capabilities=("ALL",), add_capabilities=("NET_RAW",))),
            "grep CapEff /proc/self/status",
            b"CapEff:\t0000000000002000",
        ),
        (cri.SecurityContext(readonly_rootfs=True), "touch /x 2>/dev/null || echo read-only", b"read-only"),
        (cri.SecurityContext(run_as_user=1000, run_as_group=2000, supplemental_groups=(3000,)), "id", b"uid=1000 gid=2000 groups=2000,3000"),
        (cri.SecurityContext(), "ls /sys/firmware | wc -l", b"0"),
    ],
    ids=["default-capabilities", "privileged-all", "drop-all-add-one", "readonly-rootfs", "run-as-user", "masked-paths"],
)
async def test_security_context_is_applied(
    runtime: RuncRuntime, tmp_path: Path, security: cri.SecurityContext, script: str, expected: bytes
) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(runtime, sandbox_id, sandbox, "c", "sh", "-c", script, security_context=security)
    status = await exited(runtime, container_id)
    assert [line for _, line in log_lines(status)] == [expected]


async def test_the_pods_sysctls_are_set_in_its_namespaces(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path, sysctls={"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shm_rmid_forced": "1"})
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "cat",
        "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/kernel/shm_rmid_forced",
    )
    status = await exited(runtime, container_id)
    assert [line for _, line in log_lines(status)] == [b"0", b"1"]
