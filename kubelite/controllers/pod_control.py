"""PodControl: how controllers create and delete the pods they own (upstream's
RealPodControl and GetPodFromTemplate, pkg/controller/controller_utils.go).

- A pod made from a template takes its labels, annotations, finalizers and spec,
  `generateName: <owner>-`, and one ownerReference to the owner with controller=true
  and blockOwnerDeletion=true, so the garbage collector can find and hold it.
- Every outcome is an Event on the owner, as `kubectl describe` shows it:
  Normal SuccessfulCreate "Created pod: NAME", Warning FailedCreate "Error creating:
  ERR" (except when the namespace is terminating: every creation fails then, and that
  is no news), Normal SuccessfulDelete "Deleted pod: NAME", Warning FailedDelete
  "Error deleting: ERR" (not for a pod already gone).
- Errors are raised to the loop, which decides what they mean for its expectations.
"""

from __future__ import annotations

import copy
import logging

from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.client.rest import Client
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors

log = logging.getLogger(__name__)

SUCCESSFUL_CREATE = "SuccessfulCreate"
FAILED_CREATE = "FailedCreate"
SUCCESSFUL_DELETE = "SuccessfulDelete"
FAILED_DELETE = "FailedDelete"
NAMESPACE_TERMINATING = "NamespaceTerminating"


def controller_ref(owner: Obj) -> Obj:
    """An ownerReference naming `owner` (which carries kind and apiVersion) as the
    controller (metav1.NewControllerRef)."""
    m = meta(owner)
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": m["name"],
            "uid": m["uid"], "controller": True, "blockOwnerDeletion": True}


def namespace_terminating(err: Exception) -> bool:
    """True for the refusal of a write into a namespace being deleted."""
    return isinstance(err, errors.StatusError) and any(
        c.type == NAMESPACE_TERMINATING for c in err.causes)


def pod_from_template(template: Obj, owner: Obj) -> Obj:
    template_meta = template.get("metadata") or {}
    pod_meta: Obj = {"generateName": f"{meta(owner)['name']}-",
                     "labels": dict(template_meta.get("labels") or {}),
                     "ownerReferences": [controller_ref(owner)]}
    for field in ("annotations", "finalizers"):
        if template_meta.get(field):
            pod_meta[field] = copy.deepcopy(template_meta[field])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
            "spec": copy.deepcopy(template.get("spec") or {})}


class PodControl:
    def __init__(self, client: Client, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder

    async def create_pod(self, owner: Obj, template: Obj, *,
                         generate_name: str | None = None) -> Obj:
        pod = pod_from_template(template, owner)
        if generate_name:  # an Indexed Job names its pods <job>-<index>-
            pod["metadata"]["generateName"] = generate_name
        if not pod["metadata"]["labels"]:
            raise ValueError("unable to create pods, no labels")
        namespace = meta(owner).get("namespace", "")
        try:
            created = await self.client.create("pods", pod, namespace=namespace)
        except errors.StatusError as err:
            if not namespace_terminating(err):
                self.recorder.event(owner, WARNING, FAILED_CREATE, f"Error creating: {err}")
            raise
        name = meta(created).get("name", "")
        log.debug("%s %s/%s created pod %s", owner["kind"], namespace, meta(owner)["name"], name)
        self.recorder.event(owner, NORMAL, SUCCESSFUL_CREATE, f"Created pod: {name}")
        return created

    async def delete_pod(self, owner: Obj, namespace: str, name: str) -> None:
        try:
            await self.client.delete("pods", name, namespace=namespace)
        except errors.NotFound:
            log.debug("pod %s/%s has already been deleted", namespace, name)
            raise
        except errors.StatusError as err:
            self.recorder.event(owner, WARNING, FAILED_DELETE, f"Error deleting: {err}")
            raise
        self.recorder.event(owner, NORMAL, SUCCESSFUL_DELETE, f"Deleted pod: {name}")
