"""The scale subresource as data (autoscaling/v1 Scale), for every kind that has one.

`scale_of` builds the Scale upstream's scaleFromX functions build (name, namespace, uid,
resourceVersion, creationTimestamp; spec.replicas; status.replicas and the selector as a
string); `replicas_from` reads and checks the replicas a client's Scale asks for, and
`set_replicas` writes them back into the object, which then goes through the kind's
normal update path (its strategy validates the new spec).

Built-in kinds keep replicas at spec.replicas and status.replicas and their selector
at spec.selector (a map for ReplicationControllers, a LabelSelector otherwise). A
custom resource names its own paths in its CRD's scale subresource
(specReplicasPath, statusReplicasPath, labelSelectorPath; `ResourceSpec.scale_paths`),
and its selector is already a string there.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.machinery import errors

from .selectors import map_selector_string, selector_string

Obj = dict[str, Any]
ScalePaths = dict[str, str]
BUILT_IN_SPEC_REPLICAS = ".spec.replicas"


def scale_of(obj: Obj, paths: ScalePaths | None = None) -> Obj:
    """The object as a Scale. `paths` are a custom resource's; None for built-in kinds."""
    meta = obj.get("metadata") or {}
    if paths is None:
        spec_replicas = (obj.get("spec") or {}).get("replicas", 0)
        status_replicas = (obj.get("status") or {}).get("replicas", 0)
        selector = _built_in_selector(obj)
    else:
        spec_replicas = _at(obj, paths.get("specReplicasPath", "")) or 0
        status_replicas = _at(obj, paths.get("statusReplicasPath", "")) or 0
        found = _at(obj, paths["labelSelectorPath"]) if paths.get("labelSelectorPath") else None
        selector = found if isinstance(found, str) else ""
    scale_status: Obj = {"replicas": status_replicas}
    if selector:
        scale_status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                           "creationTimestamp") if k in meta},
        "spec": {"replicas": spec_replicas},
        "status": scale_status,
    }


def _built_in_selector(obj: Obj) -> str:
    selector = (obj.get("spec") or {}).get("selector")
    if obj.get("kind") == "ReplicationController" or (
        isinstance(selector, dict) and selector and "matchLabels" not in selector
        and "matchExpressions" not in selector
    ):
        return map_selector_string(selector)
    return selector_string(selector)


def replicas_from(scale: Any, name: str) -> tuple[int, str]:
    """The replicas a client's Scale asks for, and its resourceVersion precondition
    ("" for none). A negative or non-integer count is 422, as upstream's
    ValidateScale words it."""
    if not isinstance(scale, dict):
        raise errors.BadRequest("the body must be a Scale object")
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid("autoscaling", "Scale", name, [errors.Cause(
            "FieldValueInvalid",
            f"Invalid value: {orjson.dumps(replicas).decode()}: must be greater than or "
            f"equal to 0", "spec.replicas")])
    return replicas, (scale.get("metadata") or {}).get("resourceVersion", "")


def set_replicas(obj: Obj, replicas: int, paths: ScalePaths | None = None) -> None:
    path = (paths or {}).get("specReplicasPath", BUILT_IN_SPEC_REPLICAS)
    *parents, leaf = path.lstrip(".").split(".")
    target = obj
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = replicas


def _at(obj: Obj, path: str) -> Any:
    node: Any = obj
    for part in path.lstrip(".").split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node
