"""PodSpec validation shared by Pods and pod templates (ValidatePodSpec upstream).

Covers the rules clients meet most: containers present, named (DNS labels, unique across
init and regular containers) and with an image; the enumerations (restartPolicy,
dnsPolicy, imagePullPolicy, terminationMessagePolicy, port protocol) with upstream's
lists in upstream's order; port numbers and names; volume names and the mounts that
refer to them. Causes come back in upstream's order: volumes, containers, init
containers, then the pod-level fields.
"""

from __future__ import annotations

import re
from typing import Any

from kubelite.machinery.errors import Cause

from .causes import duplicate, invalid, not_found, not_supported, path, required
from kubelite.machinery.validation import is_dns1123_label

Obj = dict[str, Any]
MAX_INT32 = 2**31 - 1

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
PROTOCOLS = ("SCTP", "TCP", "UDP")

_PORT_NAME_CHARS = re.compile("^[-a-z0-9]+$")
_HAS_LETTER = re.compile("[a-z]")


def is_valid_port_num(port: Any) -> list[str]:
    if isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535:
        return []
    return ["must be between 1 and 65535, inclusive"]


def is_valid_port_name(name: str) -> list[str]:
    """IsValidPortName: an IANA_SVC_NAME."""
    errs = []
    if len(name) > 15:
        errs.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARS.match(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _HAS_LETTER.search(name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def validate_pod_spec(spec: Obj, base: str = "spec") -> list[Cause]:
    causes: list[Cause] = []
    volumes = _validate_volumes(spec.get("volumes") or [], path(base, "volumes"), causes)
    containers = spec.get("containers") or []
    names: set[str] = set()
    if not containers:
        causes.append(required(path(base, "containers")))
    for i, container in enumerate(containers):
        _validate_container(container, path(base, "containers", i), names, volumes, causes)
    for i, container in enumerate(spec.get("initContainers") or []):
        _validate_container(container, path(base, "initContainers", i), names, volumes, causes)
    _enum(spec.get("restartPolicy"), RESTART_POLICIES, path(base, "restartPolicy"), causes)
    _enum(spec.get("dnsPolicy"), DNS_POLICIES, path(base, "dnsPolicy"), causes)
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not (isinstance(deadline, int) and 1 <= deadline <= MAX_INT32):
        causes.append(invalid(path(base, "activeDeadlineSeconds"), deadline,
                              f"must be between 1 and {MAX_INT32}, inclusive"))
    return causes


def _enum(value: Any, allowed: tuple[str, ...], field: str, causes: list[Cause]) -> None:
    if not value:
        causes.append(required(field))
    elif value not in allowed:
        causes.append(not_supported(field, value, allowed))


def _validate_volumes(volumes: list[Any], base: str, causes: list[Cause]) -> set[str]:
    names: set[str] = set()
    for i, volume in enumerate(volumes):
        name = volume.get("name") or "" if isinstance(volume, dict) else ""
        field = path(base, i, "name")
        if not name:
            causes.append(required(field))
        else:
            causes.extend(invalid(field, name, msg) for msg in is_dns1123_label(name))
            if name in names:
                causes.append(duplicate(field, name))
            names.add(name)
    return names


def _validate_container(
    container: Any, base: str, names: set[str], volumes: set[str], causes: list[Cause]
) -> None:
    if not isinstance(container, dict):
        causes.append(invalid(base, container, "must be an object"))
        return
    name = container.get("name") or ""
    if not name:
        causes.append(required(path(base, "name")))
    else:
        causes.extend(invalid(path(base, "name"), name, m) for m in is_dns1123_label(name))
        if name in names:
            causes.append(duplicate(path(base, "name"), name))
        names.add(name)
    if not container.get("image"):
        causes.append(required(path(base, "image")))
    port_names: set[str] = set()
    for i, port in enumerate(container.get("ports") or []):
        _validate_port(port, path(base, "ports", i), port_names, causes)
    for i, env in enumerate(container.get("env") or []):
        if isinstance(env, dict) and not env.get("name"):
            causes.append(required(path(base, "env", i, "name")))
    for i, mount in enumerate(container.get("volumeMounts") or []):
        mount = mount if isinstance(mount, dict) else {}
        mount_name = mount.get("name") or ""
        if not mount_name:
            causes.append(required(path(base, "volumeMounts", i, "name")))
        elif mount_name not in volumes:
            causes.append(not_found(path(base, "volumeMounts", i, "name"), mount_name))
        if not mount.get("mountPath"):
            causes.append(required(path(base, "volumeMounts", i, "mountPath")))
    _enum(container.get("terminationMessagePolicy"), MESSAGE_POLICIES,
          path(base, "terminationMessagePolicy"), causes)
    _enum(container.get("imagePullPolicy"), PULL_POLICIES, path(base, "imagePullPolicy"), causes)


def _validate_port(port: Any, base: str, names: set[str], causes: list[Cause]) -> None:
    port = port if isinstance(port, dict) else {}
    name = port.get("name") or ""
    if name:
        causes.extend(invalid(path(base, "name"), name, m) for m in is_valid_port_name(name))
        if name in names:
            causes.append(duplicate(path(base, "name"), name))
        names.add(name)
    container_port = port.get("containerPort")
    if not container_port:
        causes.append(required(path(base, "containerPort")))
    else:
        causes.extend(invalid(path(base, "containerPort"), container_port, m)
                      for m in is_valid_port_num(container_port))
    host_port = port.get("hostPort")
    if host_port:
        causes.extend(invalid(path(base, "hostPort"), host_port, m)
                      for m in is_valid_port_num(host_port))
    _enum(port.get("protocol"), PROTOCOLS, path(base, "protocol"), causes)
