"""A container's effective security context: the pod's securityContext under the
container's own, as the runtime gets it (pkg/kubelet/kuberuntime/security_context.go,
pkg/securitycontext/util.go).

The container's runAsUser, runAsGroup and runAsNonRoot win over the pod's;
supplementalGroups and fsGroup are the pod's. allowPrivilegeEscalation: false sets
no_new_privs. An unprivileged container gets the default masked and read-only /proc
and /sys paths unless its procMount is Unmasked; a privileged one gets none.
"""

from __future__ import annotations

from typing import Any

from kubelite.kubelet import cri

Obj = dict[str, Any]

DEFAULT_MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
)
DEFAULT_READONLY_PATHS = (
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def effective_run_as_user(pod: Obj, container: Obj) -> int | None:
    pod_sc = (pod.get("spec") or {}).get("securityContext") or {}
    sc = container.get("securityContext") or {}
    user = _int_or_none(sc.get("runAsUser"))
    return user if user is not None else _int_or_none(pod_sc.get("runAsUser"))


def container_security_context(pod: Obj, container: Obj) -> cri.SecurityContext:
    pod_sc = (pod.get("spec") or {}).get("securityContext") or {}
    sc = container.get("securityContext") or {}
    privileged = bool(sc.get("privileged"))
    group = _int_or_none(sc.get("runAsGroup"))
    if group is None:
        group = _int_or_none(pod_sc.get("runAsGroup"))
    supplemental = [g for g in pod_sc.get("supplementalGroups") or () if _int_or_none(g) is not None]
    fs_group = _int_or_none(pod_sc.get("fsGroup"))
    if fs_group is not None and fs_group not in supplemental:
        supplemental.append(fs_group)
    caps = sc.get("capabilities") or {}
    masked: tuple[str, ...] = ()
    readonly: tuple[str, ...] = ()
    if not privileged and sc.get("procMount") != "Unmasked":
        masked, readonly = DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS
    return cri.SecurityContext(
        privileged=privileged,
        capabilities=cri.Capabilities(
            add_capabilities=tuple(str(c) for c in caps.get("add") or ()),
            drop_capabilities=tuple(str(c) for c in caps.get("drop") or ())),
        run_as_user=effective_run_as_user(pod, container),
        run_as_group=group,
        supplemental_groups=tuple(supplemental),
        readonly_rootfs=bool(sc.get("readOnlyRootFilesystem")),
        no_new_privs=sc.get("allowPrivilegeEscalation") is False,
        masked_paths=masked, readonly_paths=readonly)
