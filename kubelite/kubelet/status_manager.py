"""Posting pod statuses (pkg/kubelet/status/status_manager.go).

`set_status(pod, status)` patches pods/status when the status differs from the one
last posted for that pod (and from what the API already holds): a sync that changes
nothing writes nothing. The patch is a JSON merge patch carrying the pod's uid, so it
cannot land on a new pod of the same name; the kubelet's fields are sent whole
(lists replace lists), and `reason`/`message` are cleared when the kubelet has none.

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


def _comparable(status: Obj) -> Obj:
    return {key: status.get(key) for key in OWNED}


class StatusManager:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._posted: dict[str, Obj] = {}  # uid -> status last written
        self._pods: dict[str, Obj] = {}  # uid -> pod with that status
        self.writes = 0

    def last(self, uid: str) -> Obj | None:
        return self._posted.get(uid)

    def pods(self) -> list[Obj]:
        return [copy.deepcopy(pod) for pod in self._pods.values()]

    async def set_status(self, pod: Obj, status: Obj) -> bool:
        """Post `status` if it changed; True when it was written. Raises what the API
        answers, except a pod that is gone (False)."""
        meta = pod["metadata"]
        uid = meta["uid"]
        wanted = _comparable(status)
        if wanted == self._posted.get(uid) or wanted == _comparable(pod.get("status") or {}):
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
        self.writes += 1
        self._posted[uid] = wanted
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
        self._pods.pop(uid, None)
