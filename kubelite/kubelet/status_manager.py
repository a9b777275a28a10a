"""Posting pod statuses (pkg/kubelet/status/status_manager.go).

`set_status(pod, status)` patches pods/status when the status differs from what the
API holds: a sync that changes nothing writes nothing. The pod passed in comes from
the kubelet's informer, which may not have seen the last write yet: a pod whose
resourceVersion is older than that write's is compared with what was posted instead,
and `effective(pod)` overlays the posted status on it, so the next status is built
on the kubelet's own last word (its startTime, transition times, reason). A status
another writer changed since (the node lifecycle loop marking pods not Ready) differs
from the API's and is posted again, as upstream's status manager reconciles.

The patch is a JSON merge patch carrying the pod's uid, so it cannot land on a new
pod of the same name; the kubelet's fields are sent whole (lists replace lists), and
`reason`/`message` are cleared when the kubelet has none.

`delete(pod)` is the last step of a graceful deletion: once the pod's containers are
stopped and its final status posted, DELETE with gracePeriodSeconds=0 and the uid as
precondition, as upstream's status manager does when a pod can be deleted. A pod that
is gone already (or replaced) is no error.

`pods()` gives the pods with the status last posted (the kubelet server's GET /pods).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from kubelite.client.rest import Client
from kubelite.machinery import errors

log = logging.getLogger(__name__)

Obj = dict[str, Any]

OWNED = ("phase", "conditions", "hostIP", "hostIPs", "podIP", "podIPs", "startTime", "qosClass",
         "containerStatuses", "initContainerStatuses", "reason", "message")


def _without_nulls(value: Any) -> Any:
    """A null field is an absent one (a merge patch's null deletes; the API drops
    lastProbeTime: null)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _comparable(status: Obj) -> Obj:
    return {key: _without_nulls(status.get(key)) for key in OWNED}


def _older(version: str, than: str) -> bool:
    """Whether resourceVersion `version` comes before `than`. Versions are opaque to
    clients; where both are integers (kubelite's, etcd's revisions) they order, and
    otherwise nothing is assumed older."""
    try:
        return int(version) < int(than)
    except ValueError:
        return False


class StatusManager:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._posted: dict[str, Obj] = {}  # uid -> status last written
        self._posted_version: dict[str, str] = {}  # uid -> resourceVersion of that write
        self._pods: dict[str, Obj] = {}  # uid -> pod with that status
        self.writes = 0

    def last(self, uid: str) -> Obj | None:
        return self._posted.get(uid)

    def pods(self) -> list[Obj]:
        return [copy.deepcopy(pod) for pod in self._pods.values()]

    def _stale(self, pod: Obj) -> bool:
        """The pod is a version from before the kubelet's last status write."""
        meta = pod["metadata"]
        ours = self._posted_version.get(meta["uid"])
        return ours is not None and _older(str(meta.get("resourceVersion") or "0"), ours)

    def changed_by_others(self, pod: Obj) -> bool:
        """Whether the pod's status is not what the kubelet last posted, and not
        because the pod predates that write: another writer changed it."""
        posted = self._posted.get(pod["metadata"]["uid"])
        if posted is None or self._stale(pod):
            return False
        return _comparable(pod.get("status") or {}) != posted

    def effective(self, pod: Obj) -> Obj:
        """The pod with the status last posted, if the pod predates that write."""
        posted = self._posted.get(pod["metadata"]["uid"])
        if posted is None or not self._stale(pod):
            return pod
        status = {**(pod.get("status") or {}),
                  **{k: v for k, v in posted.items() if v is not None}}
        for key, value in posted.items():
            if value is None:
                status.pop(key, None)
        return {**pod, "status": status}

    async def set_status(self, pod: Obj, status: Obj) -> bool:
        """Post `status` if it changed; True when it was written. Raises what the API
        answers, except a pod that is gone (False)."""
        meta = pod["metadata"]
        uid = meta["uid"]
        wanted = _comparable(status)
        in_sync = wanted == _comparable(pod.get("status") or {})
        if in_sync or (wanted == self._posted.get(uid) and self._stale(pod)):
            self._posted[uid] = wanted
            self._pods[uid] = {**pod, "status": {**(pod.get("status") or {}), **status}}
            return False
        try:
            updated = await self.client.patch(
                "pods", meta["name"], {"metadata": {"uid": uid}, "status": wanted},
                namespace=meta.get("namespace"), subresource="status")
        except (errors.NotFound, errors.Conflict) as err:
            log.info("pod %s/%s (%s) is gone; its status is not posted: %s",
                     meta.get("namespace"), meta["name"], uid, err)
            return False
        except errors.Invalid as err:
            # A refused status is refused again on retry; kubelite's API answers a uid
            # that no longer matches (a new pod of the name) this way, where upstream's
            # says Conflict.
            log.warning("the status of pod %s/%s (%s) was refused: %s",
                        meta.get("namespace"), meta["name"], uid, err)
            return False
        self.writes += 1
        self._posted[uid] = wanted
        self._posted_version[uid] = str(updated["metadata"].get("resourceVersion") or "")
        self._pods[uid] = updated
        return True

    async def delete(self, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete("pods", meta["name"], namespace=meta.get("namespace"),
                                     grace_period_seconds=0, preconditions={"uid": meta["uid"]})
        except (errors.NotFound, errors.Conflict):
            pass  # gone, or a new pod of the same name that is not ours to delete

    def forget(self, uid: str) -> None:
        self._posted.pop(uid, None)
        self._posted_version.pop(uid, None)
        self._pods.pop(uid, None)
