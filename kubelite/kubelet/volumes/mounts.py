"""A container's volumeMounts as CRI mounts, as upstream's makeMounts
(pkg/kubelet/kubelet_pods.go) and kuberuntime's termination-message file.

- subPath mounts a path inside the volume, made (as a directory) if missing; it must
  be relative, without `..`, and must not lead out of the volume through a symlink.
- subPathExpr is expanded first with the container's environment, `$(VAR)` as in
  command and args (`$$` is a literal `$`); a variable without a value fails it.
- readOnly is the mount's, or forced for the volumes the kubelet writes (configMap,
  secret, projected, downwardAPI) and for a claim the pod asks for read-only.
- mountPropagation: None -> private, HostToContainer, Bidirectional (privileged only).
- terminationMessagePath gets a fresh empty file (0666) under
  `<pods dir>/<uid>/containers/<name>/<8 hex digits>`, mounted read-write, which the
  container writes its last words to and the kubelet reads after it exits.
Errors are VolumeError with upstream's messages.
"""

from __future__ import annotations

import os
import posixpath
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubelite.kubelet import cri
from kubelite.kubelet.parts import VolumeError
from kubelite.kubelet.volumes.downward import field_value
from kubelite.kubelet.volumes.plugins import READ_ONLY_SOURCES, volume_source

Obj = dict[str, Any]

PROPAGATION = {None: "PROPAGATION_PRIVATE", "None": "PROPAGATION_PRIVATE",
               "HostToContainer": "PROPAGATION_HOST_TO_CONTAINER",
               "Bidirectional": "PROPAGATION_BIDIRECTIONAL"}
DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"


def expand(text: str, lookup: Mapping[str, str]) -> tuple[str, set[str]]:
    """`$(VAR)` references expanded (upstream's expansion.Expand) and the names that had
    no value."""
    out: list[str] = []
    missing: set[str] = set()
    i = 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            if text[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            if text[i + 1] == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2:end]
                    value = lookup.get(name, "")
                    if not value:
                        missing.add(name)
                    out.append(value)
                    i = end + 1
                    continue
        out.append(text[i])
        i += 1
    return "".join(out), missing


def container_env(pod: Obj, container: Obj) -> dict[str, str]:
    """The env values known from the spec alone: literal values (expanded with the ones
    before them) and the pod's own fields."""
    env: dict[str, str] = {}
    for var in container.get("env") or []:
        name = str(var.get("name") or "")
        if "value" in var:
            env[name] = expand(str(var.get("value") or ""), env)[0]
        elif isinstance((var.get("valueFrom") or {}).get("fieldRef"), dict):
            try:
                env[name] = field_value(pod, str(var["valueFrom"]["fieldRef"].get("fieldPath")))
            except ValueError:
                continue
    return env


def _sub_path(pod: Obj, container: Obj, mount: Obj, envs: Mapping[str, str] | None) -> str:
    sub_path = str(mount.get("subPath") or "")
    if mount.get("subPathExpr"):
        lookup = envs if envs is not None else container_env(pod, container)
        sub_path, missing = expand(str(mount["subPathExpr"]), lookup)
        if missing:
            raise VolumeError(f"missing value for {', '.join(sorted(missing))}")
    return sub_path


def _resolve_sub_path(volume_path: str, sub_path: str) -> str:
    if posixpath.isabs(sub_path):
        raise VolumeError(f"unable to provision SubPath `{sub_path}`: must be a relative path")
    if ".." in sub_path.split("/"):
        raise VolumeError(f"unable to provision SubPath `{sub_path}`: must not contain '..'")
    host_path = os.path.join(volume_path, sub_path)
    root = os.path.realpath(volume_path)
    if not os.path.lexists(host_path):
        os.makedirs(host_path, mode=os.stat(volume_path).st_mode & 0o7777, exist_ok=True)
    real = os.path.realpath(host_path)
    if real != root and not real.startswith(root + os.sep):
        raise VolumeError(f"subpath {real!r} not within volume path {root!r}")
    return host_path


def _read_only_volume(volume: Obj | None) -> bool:
    """Volumes every container mounts read-only: those the kubelet writes, and claims
    the pod asks for read-only."""
    volume = volume or {}
    source = volume_source(volume)
    return source in READ_ONLY_SOURCES or (
        source == "persistentVolumeClaim" and volume[source].get("readOnly") is True)


def _privileged(container: Obj) -> bool:
    return bool((container.get("securityContext") or {}).get("privileged"))


def container_mounts(pods_dir: Path, pod: Obj, container: Obj, volume_paths: Mapping[str, str],
                     envs: Mapping[str, str] | None = None) -> list[cri.Mount]:
    volumes = {str(v.get("name")): v for v in (pod.get("spec") or {}).get("volumes") or []}
    name = str(container.get("name") or "")
    mounts: list[cri.Mount] = []
    for mount in container.get("volumeMounts") or []:
        volume_name = str(mount.get("name") or "")
        if volume_name not in volume_paths:
            raise VolumeError(
                f'cannot find volume "{volume_name}" to mount into container "{name}"')
        host_path = volume_paths[volume_name]
        sub_path = _sub_path(pod, container, mount, envs)
        if sub_path:
            host_path = _resolve_sub_path(host_path, sub_path)
        propagation = mount.get("mountPropagation")
        if propagation not in PROPAGATION:
            raise VolumeError(f"invalid MountPropagation mode: {propagation!r}")
        if propagation == "Bidirectional" and not _privileged(container):
            raise VolumeError(
                "Bidirectional mount propagation is available only to privileged containers")
        container_path = str(mount.get("mountPath") or "")
        if not container_path.startswith("/"):
            container_path = "/" + container_path
        read_only = bool(mount.get("readOnly")) or _read_only_volume(volumes.get(volume_name))
        mounts.append(cri.Mount(container_path=container_path, host_path=host_path,
                                readonly=read_only, propagation=PROPAGATION[propagation]))
    message_path = container.get("terminationMessagePath", DEFAULT_TERMINATION_MESSAGE_PATH)
    if message_path and all(m.container_path != message_path for m in mounts):
        mounts.append(cri.Mount(container_path=str(message_path),
                                host_path=_termination_file(pods_dir, pod, name)))
    return mounts


def _termination_file(pods_dir: Path, pod: Obj, container_name: str) -> str:
    directory = pods_dir / str(pod["metadata"]["uid"]) / "containers" / container_name
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{secrets.randbits(32):08x}"
    path.touch()
    os.chmod(path, 0o666)  # the container's user, whoever it is, writes it
    return str(path)
