"""kubelite's CRI dataclasses (kubelet/cri.py) to runtime.v1 protobuf messages and back.

cri.py mirrors api.proto field for field, so this is a translation with few choices,
each upstream's (pkg/kubelet/kuberuntime):

- the pod's cgroup parent goes under the node's cgroup root (`/kubelite` unless told),
  as the runc runtime places it, so that a CRI runtime's pods sit where kubelite's do;
- namespaces: the network and IPC are the pod's or the node's (hostNetwork, hostIPC);
  PID is the container's own unless hostPID (upstream sets CONTAINER explicitly, the
  CRI's default being POD);
- a sandbox's IPs are `network.ip` then `network.additional_ips`; host network is read
  back from the sandbox's namespace options;
- the runtime's containerStatuses[].imageID is `image_ref`.
"""

from __future__ import annotations

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.cri.proto import api_pb2 as pb

_PROTOCOLS = {"TCP": pb.TCP, "UDP": pb.UDP, "SCTP": pb.SCTP}
_PROPAGATION = {
    "PROPAGATION_PRIVATE": pb.PROPAGATION_PRIVATE,
    "PROPAGATION_HOST_TO_CONTAINER": pb.PROPAGATION_HOST_TO_CONTAINER,
    "PROPAGATION_BIDIRECTIONAL": pb.PROPAGATION_BIDIRECTIONAL,
}


def cgroup_parent(cgroup_root: str, parent: str) -> str:
    """`kubepods/burstable/pod<uid>` under the root: `/kubelite/kubepods/...`."""
    if not parent:
        return ""
    return "/" + "/".join(p for p in (cgroup_root.strip("/"), parent.strip("/")) if p)


def _int64(value: int | None) -> pb.Int64Value | None:
    return None if value is None else pb.Int64Value(value=value)


def sandbox_config(config: cri.PodSandboxConfig, cgroup_root: str) -> pb.PodSandboxConfig:
    meta = config.metadata
    dns = config.dns_config
    host = pb.NODE
    namespaces = pb.NamespaceOption(
        network=host if config.host_network else pb.POD,
        ipc=host if config.host_ipc else pb.POD,
        pid=host if config.host_pid else pb.CONTAINER)
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=meta.name, namespace=meta.namespace, uid=meta.uid,
                                       attempt=meta.attempt),
        hostname=config.hostname,
        log_directory=config.log_directory,
        dns_config=None if dns is None else pb.DNSConfig(
            servers=dns.servers, searches=dns.searches, options=dns.options),
        port_mappings=[pb.PortMapping(protocol=_PROTOCOLS.get(p.protocol, pb.TCP),
                                      container_port=p.container_port, host_port=p.host_port,
                                      host_ip=p.host_ip) for p in config.port_mappings],
        labels=dict(config.labels),
        annotations=dict(config.annotations),
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=cgroup_parent(cgroup_root, config.cgroup_parent),
            security_context=pb.LinuxSandboxSecurityContext(namespace_options=namespaces),
            sysctls=dict(config.sysctls)),
    )


def sandbox_metadata(meta: pb.PodSandboxMetadata) -> cri.PodSandboxMetadata:
    return cri.PodSandboxMetadata(name=meta.name, namespace=meta.namespace, uid=meta.uid,
                                  attempt=meta.attempt)


def sandbox_status(status: pb.PodSandboxStatus) -> cri.PodSandboxStatus:
    host_network = status.linux.namespaces.options.network == pb.NODE
    ips: tuple[str, ...] = ()
    if status.network.ip:
        ips = (status.network.ip, *(a.ip for a in status.network.additional_ips if a.ip))
    return cri.PodSandboxStatus(
        id=status.id, metadata=sandbox_metadata(status.metadata),
        state=cri.SandboxState(pb.PodSandboxState.Name(status.state)),
        created_at=status.created_at, ips=ips, host_network=host_network,
        labels=dict(status.labels), annotations=dict(status.annotations))


def sandbox_item(item: pb.PodSandbox) -> cri.PodSandboxStatus:
    """A ListPodSandbox item, without its network (only PodSandboxStatus has that)."""
    return cri.PodSandboxStatus(
        id=item.id, metadata=sandbox_metadata(item.metadata),
        state=cri.SandboxState(pb.PodSandboxState.Name(item.state)),
        created_at=item.created_at, labels=dict(item.labels), annotations=dict(item.annotations))


def _security_context(sc: cri.SecurityContext, sandbox: cri.PodSandboxConfig
                      ) -> pb.LinuxContainerSecurityContext:
    return pb.LinuxContainerSecurityContext(
        capabilities=pb.Capability(add_capabilities=sc.capabilities.add_capabilities,
                                   drop_capabilities=sc.capabilities.drop_capabilities),
        privileged=sc.privileged,
        namespace_options=pb.NamespaceOption(
            network=pb.NODE if sandbox.host_network else pb.POD,
            ipc=pb.NODE if sandbox.host_ipc else pb.POD,
            pid=pb.NODE if sandbox.host_pid else pb.CONTAINER),
        run_as_user=_int64(sc.run_as_user),
        run_as_group=_int64(sc.run_as_group),
        run_as_username=sc.run_as_username,
        readonly_rootfs=sc.readonly_rootfs,
        supplemental_groups=sc.supplemental_groups,
        no_new_privs=sc.no_new_privs,
        masked_paths=sc.masked_paths,
        readonly_paths=sc.readonly_paths,
    )


def container_config(config: cri.ContainerConfig, sandbox: cri.PodSandboxConfig
                     ) -> pb.ContainerConfig:
    res = config.resources
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=config.metadata.name, attempt=config.metadata.attempt),
        image=pb.ImageSpec(image=config.image),
        command=config.command, args=config.args, working_dir=config.working_dir,
        envs=[pb.KeyValue(key=k, value=v) for k, v in config.envs],
        mounts=[pb.Mount(container_path=m.container_path, host_path=m.host_path,
                         readonly=m.readonly,
                         propagation=_PROPAGATION.get(m.propagation, pb.PROPAGATION_PRIVATE))
                for m in config.mounts],
        labels=dict(config.labels), annotations=dict(config.annotations),
        log_path=config.log_path, stdin=config.stdin, stdin_once=config.stdin_once,
        tty=config.tty,
        linux=pb.LinuxContainerConfig(
            resources=pb.LinuxContainerResources(
                cpu_period=res.cpu_period, cpu_quota=res.cpu_quota, cpu_shares=res.cpu_shares,
                memory_limit_in_bytes=res.memory_limit_in_bytes, oom_score_adj=res.oom_score_adj),
            security_context=_security_context(config.security_context, sandbox)),
    )


def container_status(status: pb.ContainerStatus, pod_sandbox_id: str) -> cri.ContainerStatus:
    """ContainerStatus has no sandbox id; the caller knows it (from ListContainers or
    the container's labels)."""
    return cri.ContainerStatus(
        id=status.id, pod_sandbox_id=pod_sandbox_id,
        metadata=cri.ContainerMetadata(name=status.metadata.name, attempt=status.metadata.attempt),
        state=cri.ContainerState(pb.ContainerState.Name(status.state)),
        created_at=status.created_at, started_at=status.started_at,
        finished_at=status.finished_at, exit_code=status.exit_code,
        image=status.image.image, image_ref=status.image_ref,
        reason=status.reason, message=status.message,
        labels=dict(status.labels), annotations=dict(status.annotations),
        log_path=status.log_path)


def container_stats(stats: pb.ContainerStats, pod_sandbox_id: str) -> cri.ContainerStats:
    timestamp = max(stats.cpu.timestamp, stats.memory.timestamp)
    return cri.ContainerStats(
        id=stats.attributes.id, pod_sandbox_id=pod_sandbox_id,
        name=stats.attributes.metadata.name, timestamp=timestamp,
        cpu_usage_core_nanoseconds=stats.cpu.usage_core_nano_seconds.value,
        memory_working_set_bytes=stats.memory.working_set_bytes.value,
        memory_usage_bytes=stats.memory.usage_bytes.value,
        memory_rss_bytes=stats.memory.rss_bytes.value,
        writable_layer_used_bytes=stats.writable_layer.used_bytes.value)


def image(message: pb.Image) -> cri.Image:
    return cri.Image(
        id=message.id, repo_tags=tuple(message.repo_tags),
        repo_digests=tuple(message.repo_digests), size=message.size,
        uid=message.uid.value if message.HasField("uid") else None,
        username=message.username, pinned=message.pinned)


def auth_config(auth: cri.AuthConfig) -> pb.AuthConfig:
    return pb.AuthConfig(username=auth.username, password=auth.password, auth=auth.auth,
                         identity_token=auth.identity_token, registry_token=auth.registry_token)
