"""Setting up one volume of a pod, per kind, as upstream's volume plugins
(pkg/volume/{emptydir,configmap,secret,projected,downwardapi,hostpath,local}).

`VolumeSetup.setup(pod, volume)` makes the volume's directory under
`<pods dir>/<uid>/volumes/kubernetes.io~<plugin>/<name>/` (or finds the node path of a
hostPath or persistent volume) and returns the host path containers mount. It is
idempotent: the API objects are read again and the files rewritten through the
atomic writer only when they differ, which is how a re-sync follows updates.
Failures raise ValueError with the cause upstream's FailedMount event gives; the
manager prefixes `MountVolume.SetUp failed for volume "<name>" : `.

Secret, projected and downwardAPI volumes sit on a tmpfs when the kubelet runs as
root (upstream wraps them in a memory-medium emptyDir), so secrets never touch disk.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from kubelite.client.rest import Client
from kubelite.kubelet.volumes import tmpfs
from kubelite.kubelet.volumes.atomic_writer import FileProjection, write_atomically
from kubelite.kubelet.volumes.hostpath import check_host_path
from kubelite.kubelet.volumes.payload import (
    config_map_payload,
    default_mode,
    downward_payload,
    secret_payload,
    source_items,
)
from kubelite.kubelet.volumes.tokens import TokenManager
from kubelite.machinery import errors
from kubelite.machinery.quantity import parse_quantity

Obj = dict[str, Any]

# volume source field -> upstream plugin directory name
PLUGIN_DIRS = {"emptyDir": "empty-dir", "configMap": "configmap", "secret": "secret",
               "projected": "projected", "downwardAPI": "downward-api"}
# sources whose files the kubelet writes: containers always mount them read-only
READ_ONLY_SOURCES = frozenset({"configMap", "secret", "projected", "downwardAPI"})
MEMORY_BACKED = frozenset({"secret", "projected", "downwardAPI"})
DEFAULT_TOKEN_SECONDS = 3600


def volume_source(volume: Obj) -> str:
    """The volume's one source field ("configMap", "hostPath", ...), or ""."""
    return next((key for key in volume if key != "name" and isinstance(volume[key], dict)), "")


def _fs_group(pod: Obj) -> int | None:
    group = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroup")
    return group if isinstance(group, int) and not isinstance(group, bool) else None


def fs_user(pod: Obj) -> int | None:
    """The one user every (init) container runs as, if they all say the same
    (upstream's FsUserFrom): the owner of a projected token, so it can read its 0600."""
    spec = pod.get("spec") or {}
    pod_user = (spec.get("securityContext") or {}).get("runAsUser")
    user: int | None = None
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        run_as = (container.get("securityContext") or {}).get("runAsUser", pod_user)
        if not isinstance(run_as, int) or isinstance(run_as, bool) or \
                (user is not None and run_as != user):
            return None
        user = run_as
    return user


def _owned(payload: dict[str, FileProjection], group: int | None) -> dict[str, FileProjection]:
    """upstream's SetVolumeOwnership for written volumes: fsGroup owns every file, which
    its group may read."""
    if group is None:
        return payload
    return {path: FileProjection(p.data, p.mode | 0o440, p.uid, group)
            for path, p in payload.items()}


def _bytes(value: Any) -> int:
    try:
        return parse_quantity(str(value)).value() if value is not None else 0
    except ValueError:
        return 0


def pod_memory_limit(pod: Obj) -> int:
    """The pod's memory limit as its cgroup gets it (upstream's ResourceConfigForPod):
    the containers' and sidecars' sum, at least any init container's; 0 unless every
    container declares one."""
    spec = pod.get("spec") or {}
    limits = [(c, _bytes(((c.get("resources") or {}).get("limits") or {}).get("memory")))
              for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]]
    if not limits or any(limit <= 0 for _, limit in limits):
        return 0
    regular_init = {id(c) for c in spec.get("initContainers") or []
                    if c.get("restartPolicy") != "Always"}
    total = sum(limit for c, limit in limits if id(c) not in regular_init)
    return max([total, *(limit for c, limit in limits if id(c) in regular_init)])


def memory_volume_size(spec: Obj, pod: Obj, node_allocatable: Mapping[str, Any]) -> int | None:
    """A memory emptyDir's tmpfs size, as upstream's calculateEmptyDirMemorySize: the
    node's allocatable memory, or the pod's limit when lower, or the sizeLimit when
    lower still (None: nothing known, the kernel's default)."""
    size = _bytes(node_allocatable.get("memory"))
    for candidate in (pod_memory_limit(pod), _bytes(spec.get("sizeLimit"))):
        if candidate > 0 and (size <= 0 or candidate <= size):
            size = candidate
    return size or None


class VolumeSetup:
    def __init__(self, client: Client, pods_dir: Path, tokens: TokenManager,
                 node_allocatable: Callable[[], Awaitable[Mapping[str, Any]]], *, memory_backed: bool) -> None:
        self._client = client
        self._pods_dir = pods_dir
        self._tokens = tokens
        self._node_allocatable = node_allocatable
        self._memory_backed = memory_backed

    def volume_dir(self, pod_uid: str, source: str, name: str) -> Path:
        return (self._pods_dir / pod_uid / "volumes" / f"kubernetes.io~{PLUGIN_DIRS[source]}"
                / name)

    async def setup(self, pod: Obj, volume: Obj) -> str:
        source = volume_source(volume)
        spec = volume.get(source) or {}
        if source == "hostPath":
            path = str(spec.get("path") or "")
            check_host_path(path, str(spec.get("type") or ""))
            return path
        if source == "persistentVolumeClaim":
            return await self._claim_path(pod, spec)
        if source not in PLUGIN_DIRS:
            raise ValueError("no volume plugin matched" if not source else
                             f"kubelite does not mount {source} volumes")
        uid = str(pod["metadata"]["uid"])
        directory = self.volume_dir(uid, source, str(volume["name"]))
        if source == "emptyDir":
            size = None
            if spec.get("medium") == "Memory":
                size = memory_volume_size(spec, pod, await self._node_allocatable())
            self._empty_dir(directory, spec, size, _fs_group(pod))
            return str(directory)
        self._prepare(directory, source in MEMORY_BACKED and self._memory_backed)
        payload = await self._payload(pod, source, spec)
        write_atomically(directory, _owned(payload, _fs_group(pod)))
        return str(directory)

    # --- kinds --------------------------------------------------------------------

    def _prepare(self, directory: Path, on_tmpfs: bool, size: int | None = None) -> None:
        if directory.is_dir() and (not on_tmpfs or tmpfs.is_mount_point(directory)):
            return
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o777)  # as upstream's emptyDir, which wraps these
        if on_tmpfs:
            tmpfs.mount_tmpfs(directory, size)

    def _empty_dir(self, directory: Path, spec: Obj, size: int | None,
                   group: int | None) -> None:
        fresh = not directory.is_dir()
        self._prepare(directory, spec.get("medium") == "Memory", size)
        if fresh and group is not None:
            os.chown(directory, -1, group)
            os.chmod(directory, 0o777 | 0o2000)  # setgid: new files take the group

    async def _payload(self, pod: Obj, source: str, spec: Obj) -> dict[str, FileProjection]:
        mode = default_mode(spec)
        if source == "configMap":
            return await self._config_map(pod, spec, mode)
        if source == "secret":
            return await self._secret(pod, spec, mode)
        if source == "downwardAPI":
            return downward_payload(source_items(spec), pod, mode, await self._node_allocatable())
        return await self._projected(pod, spec, mode)

    async def _get(self, kind: str, plural: str, pod: Obj, name: str, optional: bool) -> Obj:
        try:
            return await self._client.get(plural, name, namespace=pod["metadata"]["namespace"])
        except errors.NotFound:
            if optional:
                return {}
            raise ValueError(f'{kind} "{name}" not found') from None

    async def _config_map(self, pod: Obj, spec: Obj, mode: int) -> dict[str, FileProjection]:
        optional = spec.get("optional") is True
        obj = await self._get("configmap", "configmaps", pod, str(spec.get("name") or ""),
                              optional)
        return config_map_payload(obj, source_items(spec), mode, optional)

    async def _secret(self, pod: Obj, spec: Obj, mode: int) -> dict[str, FileProjection]:
        optional = spec.get("optional") is True
        obj = await self._get("secret", "secrets", pod, str(spec.get("secretName") or ""),
                              optional)
        return secret_payload(obj, source_items(spec), mode, optional)

    async def _projected(self, pod: Obj, spec: Obj, mode: int) -> dict[str, FileProjection]:
        payload: dict[str, FileProjection] = {}
        problems: list[str] = []
        for projection in spec.get("sources") or []:
            try:
                if isinstance(projection.get("configMap"), dict):
                    payload.update(await self._config_map(pod, projection["configMap"], mode))
                elif isinstance(projection.get("secret"), dict):
                    sec = projection["secret"]
                    payload.update(await self._secret(pod, {**sec, "secretName": sec.get("name")},
                                                      mode))
                elif isinstance(projection.get("downwardAPI"), dict):
                    payload.update(downward_payload(source_items(projection["downwardAPI"]), pod,
                                                    mode, await self._node_allocatable()))
                elif isinstance(projection.get("serviceAccountToken"), dict):
                    token = projection["serviceAccountToken"]
                    data = await self._tokens.token(
                        pod, str(token.get("audience") or ""),
                        int(token.get("expirationSeconds") or DEFAULT_TOKEN_SECONDS))
                    # owned by the pod's one user, or its fsGroup, the token is 0600
                    # (ownership then widens it to 0640), as upstream
                    user = fs_user(pod)
                    owned = user is not None or _fs_group(pod) is not None
                    payload[str(token.get("path") or "token")] = FileProjection(
                        data.encode(), 0o600 if owned else mode, uid=user)
            except errors.StatusError as e:
                problems.append(e.message)
            except ValueError as e:
                problems.append(str(e))
        if problems:
            raise ValueError(", ".join(problems))
        return payload

    async def _claim_path(self, pod: Obj, spec: Obj) -> str:
        namespace = pod["metadata"]["namespace"]
        claim_name = str(spec.get("claimName") or "")
        try:
            claim = await self._client.get("persistentvolumeclaims", claim_name,
                                           namespace=namespace)
        except errors.NotFound:
            raise ValueError(f'persistentvolumeclaim "{claim_name}" not found') from None
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if not volume_name or (claim.get("status") or {}).get("phase") != "Bound":
            raise ValueError(f"error processing PVC {namespace}/{claim_name}: PVC is not bound")
        try:
            pv = await self._client.get("persistentvolumes", str(volume_name))
        except errors.NotFound:
            raise ValueError(f'persistentvolume "{volume_name}" not found') from None
        pv_spec = pv.get("spec") or {}
        if isinstance(pv_spec.get("hostPath"), dict):
            path = str(pv_spec["hostPath"].get("path") or "")
            check_host_path(path, str(pv_spec["hostPath"].get("type") or ""))
            return path
        if isinstance(pv_spec.get("local"), dict):
            path = str(pv_spec["local"].get("path") or "")
            if not os.path.exists(path):
                raise ValueError(f"path {path!r} does not exist")
            return path
        kind = volume_source({k: v for k, v in pv_spec.items()
                              if k not in ("capacity", "claimRef", "nodeAffinity",
                                           "mountOptions")}) or "unknown"
        raise ValueError(f"persistentvolume {volume_name} is a {kind} volume; kubelite mounts "
                         "only hostPath and local persistent volumes")
