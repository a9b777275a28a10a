"""The translation between kubelite's CRI dataclasses and runtime.v1 messages, and the
endpoint flag, as upstream's kubelet fills the messages (kuberuntime_sandbox.go,
kuberuntime_container_linux.go)."""

from __future__ import annotations

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.cri import convert, parse_endpoint
from kubelite.kubelet.runtime.cri.proto import api_pb2 as pb

META = cri.PodSandboxMetadata(name="web", namespace="shop", uid="u1", attempt=2)


@pytest.mark.parametrize(("root", "parent", "expected"), [
    ("/kubelite", "kubepods/burstable/podu1", "/kubelite/kubepods/burstable/podu1"),
    ("/", "kubepods/podu1", "/kubepods/podu1"),
    ("", "kubepods/podu1", "/kubepods/podu1"),
    ("/kubelite", "", ""),
], ids=["under-root", "root-slash", "no-root", "no-parent"])
def test_the_pod_cgroup_goes_under_the_node_cgroup_root(root: str, parent: str,
                                                         expected: str) -> None:
    assert convert.cgroup_parent(root, parent) == expected


@pytest.mark.parametrize(("flags", "network", "pid", "ipc"), [
    ({}, pb.POD, pb.CONTAINER, pb.POD),
    ({"host_network": True}, pb.NODE, pb.CONTAINER, pb.POD),
    ({"host_pid": True, "host_ipc": True}, pb.POD, pb.NODE, pb.NODE),
], ids=["pod", "host-network", "host-pid-ipc"])
def test_namespaces_follow_the_pod_spec(flags: dict[str, bool], network: int, pid: int,
                                        ipc: int) -> None:
    config = cri.PodSandboxConfig(metadata=META, **flags)  # type: ignore[arg-type]
    options = convert.sandbox_config(config, "/kubelite").linux.security_context.namespace_options
    assert (options.network, options.pid, options.ipc) == (network, pid, ipc)
    container = convert.container_config(
        cri.ContainerConfig(metadata=cri.ContainerMetadata("app"), image="busybox"), config)
    theirs = container.linux.security_context.namespace_options
    assert (theirs.network, theirs.pid, theirs.ipc) == (network, pid, ipc)


def test_a_sandbox_config_carries_every_field_the_kubelet_sets() -> None:
    config = cri.PodSandboxConfig(
        metadata=META, hostname="web-0", log_directory="/logs/shop_web_u1",
        dns_config=cri.DNSConfig(servers=("10.43.0.10",), searches=("shop.svc.cluster.local",),
                                 options=("ndots:5",)),
        port_mappings=(cri.PortMapping(8080, "UDP", 80, "127.0.0.1"),),
        labels={"app": "web"}, annotations={"a": "b"}, cgroup_parent="kubepods/podu1",
        sysctls={"net.ipv4.ip_forward": "1"})
    message = convert.sandbox_config(config, "/kubelite")
    assert (message.metadata.name, message.metadata.namespace, message.metadata.uid,
            message.metadata.attempt) == ("web", "shop", "u1", 2)
    assert (message.hostname, message.log_directory) == ("web-0", "/logs/shop_web_u1")
    assert list(message.dns_config.options) == ["ndots:5"]
    port = message.port_mappings[0]
    assert (port.protocol, port.container_port, port.host_port, port.host_ip) == (
        pb.UDP, 8080, 80, "127.0.0.1")
    assert dict(message.labels) == {"app": "web"} and dict(message.annotations) == {"a": "b"}
    assert message.linux.cgroup_parent == "/kubelite/kubepods/podu1"
    assert dict(message.linux.sysctls) == {"net.ipv4.ip_forward": "1"}


def test_a_container_config_carries_resources_security_and_mounts() -> None:
    config = cri.ContainerConfig(
        metadata=cri.ContainerMetadata("app", 3), image="sha256:abc", command=("/bin/sh",),
        args=("-c", "true"), working_dir="/w", envs=(("A", "1"), ("B", "2")),
        mounts=(cri.Mount("/data", "/var/lib/x", readonly=True,
                          propagation="PROPAGATION_HOST_TO_CONTAINER"),),
        log_path="app/3.log", tty=True,
        resources=cri.Resources(cpu_period=100000, cpu_quota=50000, cpu_shares=512,
                                memory_limit_in_bytes=1 << 26, oom_score_adj=1000),
        security_context=cri.SecurityContext(
            capabilities=cri.Capabilities(("NET_ADMIN",), ("ALL",)), run_as_user=1000,
            run_as_group=0, readonly_rootfs=True, no_new_privs=True))
    message = convert.container_config(config, cri.PodSandboxConfig(metadata=META))
    assert (message.metadata.name, message.metadata.attempt, message.image.image) == (
        "app", 3, "sha256:abc")
    assert [(e.key, e.value) for e in message.envs] == [("A", "1"), ("B", "2")]
    mount = message.mounts[0]
    assert (mount.container_path, mount.readonly, mount.propagation) == (
        "/data", True, pb.PROPAGATION_HOST_TO_CONTAINER)
    resources = message.linux.resources
    assert (resources.cpu_quota, resources.cpu_shares, resources.memory_limit_in_bytes,
            resources.oom_score_adj) == (50000, 512, 1 << 26, 1000)
    security = message.linux.security_context
    assert list(security.capabilities.add_capabilities) == ["NET_ADMIN"]
    assert security.run_as_user.value == 1000 and security.HasField("run_as_group")
    assert security.readonly_rootfs and security.no_new_privs


def test_an_unset_user_stays_unset() -> None:
    message = convert.container_config(
        cri.ContainerConfig(metadata=cri.ContainerMetadata("app"), image="busybox"),
        cri.PodSandboxConfig(metadata=META))
    assert not message.linux.security_context.HasField("run_as_user")


@pytest.mark.parametrize(("network", "namespace_mode", "ips", "host_network"), [
    (pb.PodSandboxNetworkStatus(ip="10.1.0.5", additional_ips=[pb.PodIP(ip="fd00::5")]),
     pb.POD, ("10.1.0.5", "fd00::5"), False),
    (pb.PodSandboxNetworkStatus(), pb.NODE, (), True),
], ids=["pod-network-dual-stack", "host-network"])
def test_a_sandbox_status_reads_its_ips_and_host_network(
        network: pb.PodSandboxNetworkStatus, namespace_mode: int, ips: tuple[str, ...],
        host_network: bool) -> None:
    status = pb.PodSandboxStatus(
        id="s1", metadata=pb.PodSandboxMetadata(name="web", namespace="shop", uid="u1"),
        state=pb.SANDBOX_NOTREADY, created_at=5, network=network,
        linux=pb.LinuxPodSandboxStatus(namespaces=pb.Namespace(
            options=pb.NamespaceOption(network=namespace_mode))))
    got = convert.sandbox_status(status)
    assert (got.id, got.state, got.created_at) == ("s1", cri.SandboxState.NOTREADY, 5)
    assert (got.ips, got.host_network) == (ips, host_network)


def test_a_container_status_keeps_exit_reason_and_image_ref() -> None:
    status = pb.ContainerStatus(
        id="c1", metadata=pb.ContainerMetadata(name="app", attempt=1),
        state=pb.CONTAINER_EXITED, created_at=1, started_at=2, finished_at=3, exit_code=137,
        image=pb.ImageSpec(image="docker.io/library/busybox:latest"), image_ref="sha256:abc",
        reason="OOMKilled", log_path="/logs/app/1.log")
    got = convert.container_status(status, "s1")
    assert (got.id, got.pod_sandbox_id, got.state, got.exit_code, got.reason) == (
        "c1", "s1", cri.ContainerState.EXITED, 137, "OOMKilled")
    assert (got.image, got.image_ref, got.log_path) == (
        "docker.io/library/busybox:latest", "sha256:abc", "/logs/app/1.log")


@pytest.mark.parametrize(("message", "uid", "username"), [
    (pb.Image(id="sha256:a", uid=pb.Int64Value(value=0)), 0, ""),
    (pb.Image(id="sha256:a", username="nobody"), None, "nobody"),
    (pb.Image(id="sha256:a"), None, ""),
], ids=["uid-zero", "username", "neither"])
def test_an_image_user_is_a_uid_only_when_set(message: pb.Image, uid: int | None,
                                              username: str) -> None:
    got = convert.image(message)
    assert (got.uid, got.username) == (uid, username)


@pytest.mark.parametrize(("endpoint", "target"), [
    ("unix:///run/containerd/containerd.sock", "unix:///run/containerd/containerd.sock"),
    ("/var/run/crio/crio.sock", "unix:///var/run/crio/crio.sock"),
], ids=["unix-url", "bare-path"])
def test_an_endpoint_is_a_unix_socket(endpoint: str, target: str) -> None:
    assert parse_endpoint(endpoint) == target


@pytest.mark.parametrize("endpoint", [
    "tcp://127.0.0.1:5000", "unix://relative.sock", "containerd.sock", ""],
    ids=["tcp", "relative-url", "relative-path", "empty"])
def test_an_endpoint_that_is_no_unix_socket_is_refused(endpoint: str) -> None:
    with pytest.raises(ValueError, match="container runtime endpoint"):
        parse_endpoint(endpoint)
