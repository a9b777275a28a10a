"""The kubelet's volume manager: parts.Volumes for the pod workers, as upstream's
volumemanager (pkg/kubelet/volumemanager) without attach/detach.

    pod worker ── mount_pod(pod) ──▶ VolumeSetup.setup per volume (plugins.py)
              ── container_mounts ─▶ CRI mounts (mounts.py)
              ── unmount_pod(uid) ─▶ unmount tmpfs, remove <pods dir>/<uid>
    run(): every resync_period, and whenever a ServiceAccount token comes due,
           set up the written volumes (configMap, secret, projected, downwardAPI) of
           every mounted pod again; the atomic writer swaps in what changed.

Following objects by GETs, not informers: a node holds few pods, each naming a few
objects, so one GET per referenced object per period (60 s by default, as upstream's
sync) costs less than watching every ConfigMap and Secret of the cluster, works
against any API server without list/watch rights on them, and never holds a copy of
the cluster's secrets in memory. mount_pod itself rewrites a pod's volumes only the
first time and when the pod's labels or annotations change (downwardAPI files follow
them); otherwise the periodic resync does it.

One lock per pod: mount_pod, the resync and unmount_pod never write a pod's volumes
at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from kubelite.client.rest import Client
from kubelite.kubelet import cri
from kubelite.kubelet.parts import VolumeError
from kubelite.kubelet.volumes import mounts, tmpfs
from kubelite.kubelet.volumes.plugins import READ_ONLY_SOURCES, VolumeSetup, volume_source
from kubelite.kubelet.volumes.tokens import TokenManager
from kubelite.machinery import errors

log = logging.getLogger(__name__)

Obj = dict[str, Any]

DEFAULT_RESYNC_PERIOD = 60.0


@dataclass
class _Mounted:
    pod: Obj
    paths: dict[str, str] = field(default_factory=dict)
    written_for: bytes = b""  # the pod's labels, annotations and volumes when last set up
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _metadata_key(pod: Obj) -> bytes:
    """What downwardAPI files depend on, as a snapshot (a caller may edit its pod)."""
    meta = pod.get("metadata") or {}
    return orjson.dumps((meta.get("labels"), meta.get("annotations")),
                        option=orjson.OPT_SORT_KEYS)


class VolumeManager:
    """parts.Volumes. `pods_dir` is `<data-dir>/agent/pods`. `memory_backed`: put
    secret, projected and downwardAPI volumes on tmpfs (default: when running as root).
    `clock` is the wall clock the token manager ages tokens by."""

    def __init__(self, client: Client, pods_dir: str | os.PathLike[str], node_name: str, *,
                 resync_period: float = DEFAULT_RESYNC_PERIOD,
                 memory_backed: bool | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self.pods_dir = Path(pods_dir)
        self.node_name = node_name
        self.resync_period = resync_period
        self.tokens = TokenManager(client, clock=clock)
        self._clock = clock
        self._mounted: dict[str, _Mounted] = {}
        self._allocatable: tuple[float, Mapping[str, Any]] | None = None
        self._setup = VolumeSetup(client, self.pods_dir, self.tokens, self._node_allocatable,
                                  memory_backed=os.geteuid() == 0 if memory_backed is None
                                  else memory_backed)
        self._wake = asyncio.Event()

    # --- parts.Volumes ------------------------------------------------------------

    async def mount_pod(self, pod: Obj) -> Mapping[str, str]:
        uid = str(pod["metadata"]["uid"])
        state = self._mounted.get(uid)
        if state is None:
            state = self._mounted[uid] = _Mounted(pod)
        async with state.lock:
            key = _metadata_key(pod)
            refresh, state.pod = key != state.written_for, pod
            failures: list[VolumeError] = []
            for volume in (pod.get("spec") or {}).get("volumes") or []:
                name = str(volume.get("name") or "")
                if name in state.paths and not (refresh and self._written(volume)):
                    continue
                try:  # every volume is tried: one failing does not hold up the others
                    state.paths[name] = await self._setup_volume(pod, volume)
                except VolumeError as e:
                    failures.append(e)
            self._wake.set()  # a new token may come due sooner than the loop thinks
            if failures:
                raise failures[0]
            state.written_for = key
            return dict(state.paths)

    def container_mounts(self, pod: Obj, container: Obj, volume_paths: Mapping[str, str], *,
                         envs: Mapping[str, str] | None = None) -> Sequence[cri.Mount]:
        """parts.Volumes.container_mounts; `envs`, when the caller has resolved the
        container's environment, expands subPathExpr (else the spec's literal values and
        pod fields do)."""
        return mounts.container_mounts(self.pods_dir, pod, container, volume_paths, envs)

    async def unmount_pod(self, pod_uid: str) -> None:
        state = self._mounted.pop(pod_uid, None)
        lock = state.lock if state is not None else asyncio.Lock()
        async with lock:
            pod_dir = self.pods_dir / pod_uid
            for point in tmpfs.mount_points_under(pod_dir):
                try:
                    tmpfs.unmount(point)
                except OSError as e:
                    log.warning("unmounting %s: %s", point, e)
            if not tmpfs.mount_points_under(pod_dir):  # never delete through a mount
                shutil.rmtree(pod_dir, ignore_errors=True)
            self.tokens.forget_pod(pod_uid)

    def mounted_pods(self) -> list[str]:
        return list(self._mounted)

    # --- the refresh loop ---------------------------------------------------------

    async def run(self) -> None:
        """Re-sync every mounted pod's written volumes each resync_period, and sooner
        when a token comes due; until cancelled."""
        next_sync = self._clock() + self.resync_period
        last = float("-inf")
        while True:
            due = self.tokens.next_refresh()
            deadline = next_sync if due is None else min(next_sync, max(due, last + 1.0))
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, deadline - self._clock()))
            if self._clock() >= deadline:
                await self.resync()
                last = self._clock()
                if self._clock() >= next_sync:
                    next_sync = self._clock() + self.resync_period

    async def resync(self) -> None:
        """Set up the written volumes of every mounted pod again (errors are logged and
        tried again next time, as upstream's reconciler does)."""
        for uid, state in list(self._mounted.items()):
            async with state.lock:
                if self._mounted.get(uid) is not state:
                    continue  # unmounted meanwhile
                for volume in (state.pod.get("spec") or {}).get("volumes") or []:
                    if not self._written(volume) or volume.get("name") not in state.paths:
                        continue
                    try:
                        await self._setup_volume(state.pod, volume)
                    except VolumeError as e:
                        log.warning("pod %s: %s", uid, e)
                    except Exception:  # the API unreachable, say: next time
                        log.exception("pod %s: re-syncing volume %s", uid, volume.get("name"))

    # --- helpers ------------------------------------------------------------------

    @staticmethod
    def _written(volume: Obj) -> bool:
        return volume_source(volume) in READ_ONLY_SOURCES

    async def _setup_volume(self, pod: Obj, volume: Obj) -> str:
        name = str(volume.get("name") or "")
        try:
            return await self._setup.setup(pod, volume)
        except errors.StatusError as e:
            cause = e.message
        except (ValueError, OSError) as e:
            cause = str(e)
        raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {cause}')

    async def _node_allocatable(self) -> Mapping[str, Any]:
        """The node's allocatable, which stands in for limits a container does not set;
        read at most once per resync period."""
        now = self._clock()
        if self._allocatable is not None and now - self._allocatable[0] < self.resync_period:
            return self._allocatable[1]
        try:
            node = await self._client.get("nodes", self.node_name)
            allocatable = (node.get("status") or {}).get("allocatable") or {}
        except errors.NotFound:
            allocatable = {}
        self._allocatable = (now, allocatable)
        return allocatable
