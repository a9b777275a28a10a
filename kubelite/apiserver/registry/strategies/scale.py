"""The scale subresource as data (autoscaling/v1 Scale), for the kinds that have one.

`scale_of` builds the Scale upstream's scaleFromX functions build (name, namespace, uid,
resourceVersion, creationTimestamp; spec.replicas; status.replicas and the selector as a
string); `apply_scale` writes the wanted replicas back into the object, which then goes
through the kind's normal update path.
"""

from __future__ import annotations

from typing import Any

from kubelite.machinery.errors import Cause

from .causes import nonnegative
from .selectors import map_selector_string, selector_string

Obj = dict[str, Any]

SCALABLE = {("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"),
            ("", "replicationcontrollers")}


def scale_of(obj: Obj) -> Obj:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    selector = spec.get("selector")
    if obj.get("kind") == "ReplicationController" or (
        isinstance(selector, dict) and selector and "matchLabels" not in selector
        and "matchExpressions" not in selector
    ):
        text = map_selector_string(selector)
    else:
        text = selector_string(selector)
    scale_meta = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                        "creationTimestamp") if k in meta}
    scale_status: Obj = {"replicas": status.get("replicas", 0)}
    if text:
        scale_status["selector"] = text
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": scale_status,
    }


def apply_scale(obj: Obj, scale: Obj) -> None:
    obj.setdefault("spec", {})["replicas"] = (scale.get("spec") or {}).get("replicas", 0)


def validate_scale(scale: Obj) -> list[Cause]:
    return nonnegative("spec.replicas", (scale.get("spec") or {}).get("replicas", 0))
