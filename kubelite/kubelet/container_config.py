"""A container of a pod as the runtime is asked to make it (kuberuntime_container.go
generateContainerConfig).

Command and args are the spec's with `$(VAR)` expanded from the container's
environment (env.py); an empty command keeps the image's entrypoint. The log goes to
`<pod log dir>/<container>/<restartCount>.log`, as upstream lays it out. Labels name the
pod and container (io.kubernetes.*), annotations carry what the kubelet reads back
from the runtime: the restart count, the termination message path and policy, and
the pod's grace period, so an instance found after a restart of the kubelet is
understood without its pod.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubelite.kubelet import cri
from kubelite.kubelet.resources import container_resources
from kubelite.kubelet.sandbox_config import (
    CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL)
from kubelite.kubelet.env import expand
from kubelite.kubelet.security_context import container_security_context

Obj = dict[str, Any]

RESTART_COUNT = "io.kubernetes.container.restartCount"
TERMINATION_MESSAGE_PATH = "io.kubernetes.container.terminationMessagePath"
TERMINATION_MESSAGE_POLICY = "io.kubernetes.container.terminationMessagePolicy"
GRACE_PERIOD = "io.kubernetes.pod.terminationGracePeriod"


def log_path(container_name: str, restart_count: int) -> str:
    return f"{container_name}/{restart_count}.log"


def container_config(pod: Obj, container: Obj, *, restart_count: int, image: str,
                     env: Sequence[tuple[str, str]], mounts: Sequence[cri.Mount],
                     memory_capacity: int) -> cri.ContainerConfig:
    meta = pod["metadata"]
    spec = pod.get("spec") or {}
    mapping = dict(env)
    grace = spec.get("terminationGracePeriodSeconds")
    return cri.ContainerConfig(
        metadata=cri.ContainerMetadata(container["name"], restart_count),
        image=image,
        command=tuple(expand(str(c), mapping) for c in container.get("command") or ()),
        args=tuple(expand(str(a), mapping) for a in container.get("args") or ()),
        working_dir=str(container.get("workingDir") or ""),
        envs=tuple(env),
        mounts=tuple(mounts),
        labels={POD_NAME_LABEL: meta["name"],
                POD_NAMESPACE_LABEL: meta.get("namespace") or "default",
                POD_UID_LABEL: meta["uid"], CONTAINER_NAME_LABEL: container["name"]},
        annotations={
            RESTART_COUNT: str(restart_count),
            TERMINATION_MESSAGE_PATH: str(container.get("terminationMessagePath")
                                          or "/dev/termination-log"),
            TERMINATION_MESSAGE_POLICY: str(container.get("terminationMessagePolicy") or "File"),
            GRACE_PERIOD: str(30 if grace is None else grace),
        },
        log_path=log_path(container["name"], restart_count),
        stdin=bool(container.get("stdin")),
        stdin_once=bool(container.get("stdinOnce")),
        tty=bool(container.get("tty")),
        resources=container_resources(pod, container, memory_capacity),
        security_context=container_security_context(pod, container))
