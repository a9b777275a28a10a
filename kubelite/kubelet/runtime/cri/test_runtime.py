"""The cri runtime's calls against a real containerd (conftest.py): a sandbox and its
containers from start to removal, logs in the CRI format where the kubelet asked,
exec, stats, images, and the edge cases: a missing object is cri.NotFound, a runtime
that does not answer is an error within the deadline, never a hang."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import uuid
from pathlib import Path

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.logs.reader import parse_records
from kubelite.kubelet.runtime.cri import Connection, CRIImages, CRIRuntime
from kubelite.kubelet.runtime.cri.conftest import Containerd, image_archive, requires_containerd

pytestmark = requires_containerd


def sandbox(tmp_path: Path, name: str = "web") -> cri.PodSandboxConfig:
    uid = str(uuid.uuid4())
    return cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name=name, namespace="default", uid=uid),
        hostname=name, log_directory=str(tmp_path / "logs"),
        labels={"io.kubernetes.pod.uid": uid}, annotations={"kubelite.test/a": "1"},
        cgroup_parent=f"kubepods/besteffort/pod{uid}")


def container(name: str, script: str, **options: object) -> cri.ContainerConfig:
    return cri.ContainerConfig(metadata=cri.ContainerMetadata(name), image="busybox:latest",
                               command=("/bin/sh", "-c", script), log_path=f"{name}/0.log",
                               **options)  # type: ignore[arg-type]


async def until(probe, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not (result := await probe()):
            await asyncio.sleep(0.05)
        return result


async def test_version_and_status_name_containerd(runtime: CRIRuntime) -> None:
    version = await runtime.version()
    assert version.runtime_name == "containerd"
    assert version.container_runtime_version.startswith("containerd://")
    conditions = {c.type: c.status for c in await runtime.status()}
    assert conditions == {"RuntimeReady": True, "NetworkReady": True}


async def test_a_pod_runs_logs_execs_and_is_removed(runtime: CRIRuntime, tmp_path: Path,
                                                   containerd: Containerd) -> None:
    config = sandbox(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(config)
    status = await runtime.pod_sandbox_status(sandbox_id)
    assert status.state is cri.SandboxState.READY and status.metadata == config.metadata
    assert status.annotations["kubelite.test/a"] == "1"
    prefix = containerd.subnet.rsplit(".", 1)[0] + "."
    assert status.ips and status.ips[0].startswith(prefix) and not status.host_network
    assert [s.ips for s in await runtime.list_pod_sandboxes() if s.id == sandbox_id] == [status.ips]

    spec = container("app", "echo out; echo err >&2; echo $GREETING; exec sleep 300",
                     envs=(("GREETING", "hello"),))
    container_id = await runtime.create_container(sandbox_id, spec, config)
    assert (await runtime.container_status(container_id)).state is cri.ContainerState.CREATED
    await runtime.start_container(container_id)
    log = Path(config.log_directory) / "app" / "0.log"

    async def logged() -> list[tuple[str, bytes]]:
        records, _ = parse_records(log.read_bytes() if log.exists() else b"")
        return [(r.stream, r.content) for r in records] if len(records) == 3 else []
    assert sorted(await until(logged)) == sorted(
        [("stdout", b"out"), ("stderr", b"err"), ("stdout", b"hello")])

    running = await runtime.container_status(container_id)
    assert running.state is cri.ContainerState.RUNNING and running.pod_sandbox_id == sandbox_id
    assert running.log_path == str(log) and running.image_ref.startswith("sha256:")
    assert running.started_at >= running.created_at > 0
    listed = await runtime.list_containers(sandbox_id)
    assert [(c.id, c.metadata.name, c.state) for c in listed] == [
        (container_id, "app", cri.ContainerState.RUNNING)]

    result = await runtime.exec_sync(container_id, ["/bin/sh", "-c", "hostname; exit 3"], 5)
    assert (result.stdout, result.exit_code) == (b"web\n", 3)

    stats = await runtime.container_stats(container_id)
    assert stats.id == container_id and stats.name == "app" and stats.memory_working_set_bytes > 0
    assert container_id in {s.id for s in await runtime.list_container_stats()}

    await runtime.stop_container(container_id, 1)
    exited = await runtime.container_status(container_id)
    assert exited.state is cri.ContainerState.EXITED and exited.exit_code == 137
    await runtime.stop_container(container_id, 1)  # idempotent
    await runtime.remove_container(container_id)
    await runtime.remove_container(container_id)  # idempotent
    with pytest.raises(cri.NotFound):
        await runtime.container_status(container_id)

    await runtime.stop_pod_sandbox(sandbox_id)
    assert (await runtime.pod_sandbox_status(sandbox_id)).state is cri.SandboxState.NOTREADY
    await runtime.remove_pod_sandbox(sandbox_id)
    await runtime.remove_pod_sandbox(sandbox_id)  # idempotent
    assert sandbox_id not in {s.id for s in await runtime.list_pod_sandboxes()}


async def test_the_pod_hosts_file_has_its_ip_hostname_and_aliases(
        runtime: CRIRuntime, tmp_path: Path) -> None:
    config = dataclasses.replace(sandbox(tmp_path), host_aliases=(
        ("10.9.9.9", ("db", "db.local")),))
    sandbox_id = await runtime.run_pod_sandbox(config)
    container_id = await runtime.create_container(
        sandbox_id, container("app", "exec sleep 300"), config)
    await runtime.start_container(container_id)
    hosts = (await runtime.exec_sync(container_id, ["cat", "/etc/hosts"], 5)).stdout.decode()
    ip = (await runtime.pod_sandbox_status(sandbox_id)).ips[0]
    assert f"{ip}\tweb\n" in hosts and "10.9.9.9\tdb\n" in hosts and "10.9.9.9\tdb.local\n" in hosts
    await runtime.stop_pod_sandbox(sandbox_id)
    await runtime.remove_pod_sandbox(sandbox_id)
    assert not (tmp_path / "cri" / sandbox_id).exists()


async def test_an_exiting_container_reports_its_code_and_reason(
        runtime: CRIRuntime, tmp_path: Path) -> None:
    config = sandbox(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(config)
    container_id = await runtime.create_container(sandbox_id, container("job", "exit 7"), config)
    await runtime.start_container(container_id)

    async def exited() -> cri.ContainerStatus | None:
        status = await runtime.container_status(container_id)
        return status if status.state is cri.ContainerState.EXITED else None
    status = await until(exited)
    assert (status.exit_code, status.reason) == (7, "Error")
    # both times are set (containerd may stamp the start after a quick exit)
    assert status.finished_at > 0 and status.started_at > 0


async def test_exec_sync_past_its_timeout_is_a_timeout_error(
        runtime: CRIRuntime, tmp_path: Path) -> None:
    config = sandbox(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(config)
    container_id = await runtime.create_container(sandbox_id, container("app", "exec sleep 300"),
                                                  config)
    await runtime.start_container(container_id)
    with pytest.raises(cri.CRIError) as raised:
        await runtime.exec_sync(container_id, ["/bin/sleep", "30"], 1)
    assert raised.value.reason == "Timeout"


@pytest.mark.parametrize("call", [
    pytest.param(lambda r: r.container_status("0" * 64), id="container_status"),
    pytest.param(lambda r: r.start_container("0" * 64), id="start_container"),
    pytest.param(lambda r: r.pod_sandbox_status("0" * 64), id="pod_sandbox_status"),
    pytest.param(lambda r: r.exec_sync("0" * 64, ["true"], 1), id="exec_sync"),
    pytest.param(lambda r: r.container_stats("0" * 64), id="container_stats"),
])
async def test_a_missing_object_is_not_found(runtime: CRIRuntime, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(cri.NotFound):
        await call(runtime)


async def test_removing_missing_objects_is_no_error(runtime: CRIRuntime) -> None:
    await runtime.stop_pod_sandbox("0" * 64)
    await runtime.remove_pod_sandbox("0" * 64)
    await runtime.remove_container("0" * 64)


async def test_a_container_of_an_unknown_image_fails_to_create(
        runtime: CRIRuntime, tmp_path: Path) -> None:
    config = sandbox(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(config)
    spec = cri.ContainerConfig(metadata=cri.ContainerMetadata("app"), image="kubelite.test/none:1")
    with pytest.raises(cri.CRIError) as raised:
        await runtime.create_container(sandbox_id, spec, config)
    assert raised.value.reason == "CreateContainerError"


async def test_images_are_listed_inspected_and_removed(images: CRIImages, containerd: Containerd,
                                                      tmp_path: Path) -> None:
    busybox = await images.image_status("busybox:latest")
    assert busybox is not None and busybox.id.startswith("sha256:")
    assert "docker.io/library/busybox:latest" in busybox.repo_tags and busybox.size > 0
    assert busybox.id in {i.id for i in await images.list_images()}
    assert await images.image_status("kubelite.test/none:1") is None
    usage = await images.image_fs_info()
    # containerd counts the snapshots' bytes once a minute: only where they are is known now
    assert usage.mountpoint.startswith(str(containerd.directory)) and usage.timestamp > 0

    # an image of its own: removing one tag removes the image with all its tags
    image_archive(tmp_path / "extra.tar", "kubelite.test/extra:1", ("/bin/true",))
    containerd.ctr("images", "import", str(tmp_path / "extra.tar"))
    assert await images.image_status("kubelite.test/extra:1") is not None
    await images.remove_image("kubelite.test/extra:1")
    assert await images.image_status("kubelite.test/extra:1") is None
    await images.remove_image("kubelite.test/extra:1")  # idempotent


async def test_a_pull_from_a_registry_that_is_not_there_is_err_image_pull(
        images: CRIImages) -> None:
    # a registry on a loopback port nothing listens on, with credentials passed along
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(cri.ImagePullError) as raised:
        await images.pull_image(f"127.0.0.1:{port}/app:1",
                                cri.AuthConfig(username="u", password="p"))
    assert raised.value.reason == "ErrImagePull"


async def test_a_socket_that_never_answers_is_an_error_within_the_deadline(
        tmp_path: Path) -> None:
    # a listener that accepts and says nothing: the call must end at its deadline
    path = tmp_path / "silent.sock"
    server = await asyncio.start_unix_server(lambda r, w: None, path=str(path))
    connection = Connection(f"unix://{path}", timeout=0.5)
    try:
        with pytest.raises(cri.CRIError) as raised:
            async with asyncio.timeout(10):
                await CRIRuntime(connection).version()
        assert raised.value.reason in {"DeadlineExceeded", "RuntimeUnavailable"}
    finally:
        await connection.close()
        server.close()


async def test_no_runtime_at_the_socket_is_runtime_unavailable(tmp_path: Path) -> None:
    connection = Connection(f"unix://{tmp_path}/none.sock", timeout=2)
    try:
        with pytest.raises(cri.CRIError) as raised:
            await CRIRuntime(connection).status()
        assert raised.value.reason in {"RuntimeUnavailable", "DeadlineExceeded"}
    finally:
        await connection.close()
