"""The runc runtime running real busybox containers (root and runc needed)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import RuncRuntime
from kubelite.kubelet.runtime.runc.conftest import (
    DirectoryImages,
    leftovers,
    requires_runc,
    sandbox_config,
)

pytestmark = requires_runc

CRI_LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z (stdout|stderr) (F|P) (.*)$")


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


async def exited(runtime: RuncRuntime, container_id: str) -> cri.ContainerStatus:
    async def done() -> bool:
        status = await runtime.container_status(container_id)
        return status.state == cri.ContainerState.EXITED

    await until(done)
    return await runtime.container_status(container_id)


async def run(
    runtime: RuncRuntime,
    sandbox_id: str,
    sandbox: cri.PodSandboxConfig,
    name: str,
    *command: str,
    **options: object,
) -> str:
    config = cri.ContainerConfig(
        metadata=cri.ContainerMetadata(name=name),
        image=str(options.pop("image", "busybox:latest")),
        command=command,
        log_path=f"{name}/0.log",
        **options,  # type: ignore[arg-type]
    )
    container_id = await runtime.create_container(sandbox_id, config, sandbox)
    await runtime.start_container(container_id)
    return container_id


def log_lines(status: cri.ContainerStatus) -> list[tuple[str, bytes]]:
    lines = []
    for line in Path(status.log_path).read_bytes().splitlines():
        match = CRI_LINE.match(line)
        assert match, line
        lines.append((match.group(2).decode(), match.group(4)))
    return lines


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


async def test_exec_sync_returns_output_and_exit_code(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(runtime, sandbox_id, sandbox, "c", "sleep", "1000", envs=(("GREETING", "hi"),))
    result = await runtime.exec_sync(container_id, ["sh", "-c", "echo $GREETING; echo err >&2; exit 4"], 10)
    assert (result.stdout, result.stderr, result.exit_code) == (b"hi\n", b"err\n", 4)
    with pytest.raises(cri.CRIError) as raised:
        await runtime.exec_sync(container_id, ["sleep", "1000"], 0.3)
    assert raised.value.reason == "Timeout"
    # the timed-out process is gone from the container
    ps = await runtime.exec_sync(container_id, ["ps", "-o", "args"], 10)
    assert b"sleep 1000\n" in ps.stdout and ps.stdout.count(b"sleep 1000") == 1


async def test_exec_with_stdin_and_with_a_terminal(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(runtime, sandbox_id, sandbox, "c", "sleep", "1000")
    process = await runtime.exec(container_id, ["sh", "-c", "tr a-z A-Z; exit 5"], tty=False, stdin=True)
    assert process.stdin is not None
    process.stdin.write(b"hello\n")
    await process.stdin.drain()
    process.stdin.close()
    assert await asyncio.wait_for(process.stdout.read(), 10) == b"HELLO\n"
    assert await asyncio.wait_for(process.wait(), 10) == 5

    # the resize reaches the container's terminal (runc forwards SIGWINCH); the
    # command waits for it, since runc sizes the terminal only once it runs
    terminal = await runtime.exec(
        container_id,
        ["sh", "-c", 'tty; until [ "$(stty size)" = "40 100" ]; do sleep 0.02; done; read line; echo got $line'],
        tty=True,
        stdin=True,
    )
    assert terminal.stdin is not None and terminal.stderr is None
    assert (await asyncio.wait_for(terminal.stdout.readline(), 10)).rstrip() == b"/dev/pts/0"
    terminal.resize(100, 40)
    terminal.stdin.write(b"abc\n")
    await terminal.stdin.drain()
    output = await asyncio.wait_for(terminal.stdout.read(), 10)
    assert await asyncio.wait_for(terminal.wait(), 10) == 0
    assert output.rstrip().endswith(b"got abc")


async def test_attach_sees_live_output_and_feeds_stdin(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "sh", "-c", "while read line; do echo got $line; done; exit 9",
        stdin=True, stdin_once=True,
    )
    process = await runtime.attach(container_id, tty=False, stdin=True)
    assert process.stdin is not None
    process.stdin.write(b"one\n")
    await process.stdin.drain()
    assert await asyncio.wait_for(process.stdout.readline(), 10) == b"got one\n"
    await process.kill()  # detaches; stdin_once closes the container's stdin
    status = await exited(runtime, container_id)
    assert status.exit_code == 9


async def test_a_container_with_a_terminal_is_attached_to_and_resized(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "sh", "-c",
        'tty; until [ "$(stty size)" = "30 90" ]; do sleep 0.02; done; read line; echo got $line',
        tty=True, stdin=True,
    )
    process = await runtime.attach(container_id, tty=True, stdin=True)
    assert process.stderr is None and process.stdin is not None
    log = tmp_path / "pods" / "web" / "c" / "0.log"

    async def first_line_logged() -> bool:
        return log.exists() and b"/dev/pts/0" in log.read_bytes()

    await until(first_line_logged)  # the terminal echoes what we type: type after it
    process.resize(90, 30)
    process.stdin.write(b"xyz\n")
    await process.stdin.drain()
    assert await asyncio.wait_for(process.wait(), 10) == 0
    status = await runtime.container_status(container_id)
    lines = log_lines(status)
    assert {stream for stream, _ in lines} == {"stdout"}
    assert lines[0][1].rstrip() == b"/dev/pts/0" and lines[-1][1].rstrip() == b"got xyz"


async def test_port_forward_reaches_a_server_inside_the_pod(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    await run(
        runtime, sandbox_id, sandbox, "web", "sh", "-c",
        "mkdir /www && echo inside > /www/index.html && exec httpd -f -p 8080 -h /www",
    )
    response = b""

    async def fetched() -> bool:
        nonlocal response
        try:
            reader, writer = await runtime.port_forward(sandbox_id, 8080)
        except ConnectionRefusedError:
            return False
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        response = await reader.read()
        writer.close()
        return True

    await until(fetched)
    assert response.startswith(b"HTTP/1.") and response.endswith(b"inside\n")
    # nothing listens on the node's own 8080 from this test: the connection was the pod's
    with pytest.raises(ConnectionRefusedError):
        await runtime.port_forward(sandbox_id, 8081)


async def test_stats_come_from_the_containers_cgroup(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "sh", "-c",
        "dd if=/dev/zero of=/tmp/file bs=1k count=64 2>/dev/null; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1000",
    )

    async def busy() -> bool:
        stats = await runtime.container_stats(container_id)
        return stats.cpu_usage_core_nanoseconds > 0 and stats.writable_layer_used_bytes >= 64 * 1024

    await until(busy)
    stats = await runtime.container_stats(container_id)
    assert stats.memory_usage_bytes > 0 and stats.memory_working_set_bytes > 0
    assert [s.id for s in await runtime.list_container_stats()] == [container_id]


async def test_a_new_runtime_over_the_same_root_finds_what_runs(
    runtime: RuncRuntime, images: DirectoryImages, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "sh", "-c",
        "echo before; read x; echo after $x; while sleep 0.05; do echo tick; done", stdin=True,
    )
    done = await run(runtime, sandbox_id, sandbox, "done", "sh", "-c", "exit 2")
    await exited(runtime, done)

    root, cgroup_root = runtime_root
    # as the kubelet's process ending would: the pumps stop, and what the container
    # writes meanwhile waits in its pipe; its stdin (not stdin_once) stays open
    await runtime.close()
    again = RuncRuntime(root=root, images=images, cgroup_root=cgroup_root)
    assert [s.id for s in await again.list_pod_sandboxes()] == [sandbox_id]
    listed = {s.id: s for s in await again.list_containers(sandbox_id)}
    assert listed[container_id].state == cri.ContainerState.RUNNING
    assert (listed[done].state, listed[done].exit_code) == (cri.ContainerState.EXITED, 2)
    process = await again.attach(container_id, tty=False, stdin=True)
    assert process.stdin is not None
    process.stdin.write(b"later\n")
    await process.stdin.drain()
    async with asyncio.timeout(10):
        assert await process.stdout.readline() == b"after later\n"
        assert await process.stdout.readline() == b"tick\n"
    await process.kill()
    await again.stop_container(container_id, 0)
    status = await again.container_status(container_id)
    # in one process the container is still our child, so its code is exact (a new
    # process would report 255, "Unknown")
    assert (status.state, status.exit_code, status.reason) == (cri.ContainerState.EXITED, 137, "Error")
    lines = [line for _, line in log_lines(status)]
    assert lines[:3] == [b"before", b"after later", b"tick"]
    await again.remove_pod_sandbox(sandbox_id)
    await again.close()


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
    import socket

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
        from pyroute2 import IPRoute

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


CHILD_RUNTIME = """
import asyncio, json, sys
from pathlib import Path
from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import RuncRuntime
from kubelite.kubelet.runtime.runc.records import sandbox_config_from_json

class Images:
    def layers(self, image): return [Path(p) for p in args["layers"]]
    def config(self, image): return args["config"]

async def main():
    runtime = RuncRuntime(root=Path(args["root"]), images=Images(), cgroup_root=args["cgroup_root"])
    sandbox = sandbox_config_from_json(args["sandbox"])
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    config = cri.ContainerConfig(metadata=cri.ContainerMetadata("c"), image="busybox:latest",
                                 command=("sh", "-c", "echo hi; sleep 0.3; echo later; sleep 1000"), log_path="c.log")
    container_id = await runtime.create_container(sandbox_id, config, sandbox)
    await runtime.start_container(container_id)
    async with asyncio.timeout(10):  # its output is read before the process ends
        while b"hi" not in Path(sandbox.log_directory, "c.log").read_bytes():
            await asyncio.sleep(0.02)
    await runtime.close()  # as a kubelet that restarts leaves its pods running
    print(json.dumps([sandbox_id, container_id]))

args = json.loads(sys.argv[1])
asyncio.run(main())
"""


async def test_after_the_runtimes_process_ends_its_pods_are_found_and_removed(
    images: DirectoryImages, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    import json
    import sys

    from kubelite.kubelet.runtime.runc.records import sandbox_config_to_json

    root, cgroup_root = runtime_root
    sandbox = sandbox_config(tmp_path)
    args = {
        "root": str(root), "cgroup_root": cgroup_root, "sandbox": sandbox_config_to_json(sandbox),
        "layers": [str(p) for p in images.layers("busybox:latest")], "config": images.config("busybox:latest"),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD_RUNTIME, json.dumps(args), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await child.communicate()
    assert child.returncode == 0
    sandbox_id, container_id = json.loads(out)

    runtime = RuncRuntime(root=root, images=images, cgroup_root=cgroup_root)
    try:
        assert [(s.id, s.state) for s in await runtime.list_pod_sandboxes()] == [(sandbox_id, cri.SandboxState.READY)]
        (found,) = await runtime.list_containers()
        assert (found.id, found.state) == (container_id, cri.ContainerState.RUNNING)
        # what it printed after the first process let go comes through this one
        async with asyncio.timeout(10):
            while b"later" not in Path(found.log_path).read_bytes():
                await asyncio.sleep(0.02)
        await runtime.stop_pod_sandbox(sandbox_id)
        status = await runtime.container_status(container_id)
        assert (status.state, status.exit_code, status.reason) == (cri.ContainerState.EXITED, 255, "Unknown")
        assert [line for _, line in log_lines(status)] == [b"hi", b"later"]
        await runtime.remove_pod_sandbox(sandbox_id)
        assert leftovers(root, cgroup_root) == {"mounts": [], "runc": [], "containers": [], "sandboxes": [], "cgroups": []}
    finally:
        await runtime.close()


async def test_a_sandbox_whose_namespaces_are_gone_is_not_ready(
    runtime: RuncRuntime, images: DirectoryImages, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    from kubelite.kubelet.runtime.runc import mounts

    root, cgroup_root = runtime_root
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config(tmp_path))
    await runtime.close()
    for kind in ("net", "ipc", "uts"):  # as a reboot leaves them
        mounts.unmount(root / "sandboxes" / sandbox_id / "ns" / kind)
    again = RuncRuntime(root=root, images=images, cgroup_root=cgroup_root)
    try:
        assert (await again.pod_sandbox_status(sandbox_id)).state == cri.SandboxState.NOTREADY
        await again.remove_pod_sandbox(sandbox_id)
        assert leftovers(root, cgroup_root)["sandboxes"] == []
    finally:
        await again.close()


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
