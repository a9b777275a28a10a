"""The constraints PodTopologySpread enforces: a pod's own, or the cluster's defaults.

A pod's `spec.topologySpreadConstraints` are split by `whenUnsatisfiable`: DoNotSchedule ones
filter, ScheduleAnyway ones score. Each becomes a `Constraint` whose selector is the
constraint's labelSelector with the pod's values of `matchLabelKeys` ANDed in, and whose
unset fields take upstream's defaults (minDomains 1, nodeAffinityPolicy Honor,
nodeTaintsPolicy Ignore), as upstream's filterTopologySpreadConstraints.

A pod with no constraints of its own gets the default constraints (upstream's system
defaults unless PodTopologySpreadArgs say otherwise), with one selector for all of them:
the union of the selectors of the Services, and of the ReplicationController, ReplicaSet or
StatefulSet controlling the pod (upstream's helper.DefaultSelector). A pod nothing selects
gets no default constraint. `validate_args` answers PodTopologySpreadArgs with upstream's
ValidatePodTopologySpreadArgs messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubelite.machinery import labels
from kubelite.machinery.errors import BadRequest
from kubelite.machinery.labels import Selector
from kubelite.machinery.validation import is_qualified_name
from kubelite.scheduler.config_errors import (
    FieldError, duplicate, forbidden, invalid, not_supported, required)

if TYPE_CHECKING:
    from kubelite.client.store import Lister

Obj = dict[str, Any]

DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"
HONOR, IGNORE = "Honor", "Ignore"
SYSTEM_DEFAULTING, LIST_DEFAULTING = "System", "List"
LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"

# upstream's systemDefaultConstraints: soft, so they only ever score
SYSTEM_DEFAULT_CONSTRAINTS: tuple[Obj, ...] = (
    {"topologyKey": LABEL_HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 3},
    {"topologyKey": LABEL_ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 5},
)
# what the default selector is read from (the plugin's `watches`)
SELECTING_RESOURCES = ("services", "replicasets", "statefulsets", "replicationcontrollers")


@dataclass(frozen=True, slots=True)
class Constraint:
    max_skew: int
    topology_key: str
    selector: Selector
    min_domains: int = 1
    node_affinity_policy: str = HONOR
    node_taints_policy: str = IGNORE


def constraints_for(raw: list[Obj], pod_labels: Mapping[str, str], action: str) -> list[Constraint]:
    """The constraints of `raw` whose whenUnsatisfiable is `action`; BadRequest if a
    labelSelector does not parse."""
    out = []
    for item in raw:
        if item.get("whenUnsatisfiable") != action:
            continue
        selector = labels.selector_from_label_selector(item.get("labelSelector"))
        matched = {k: pod_labels[k] for k in item.get("matchLabelKeys") or () if k in pod_labels}
        if matched and not selector.matches_nothing():
            selector = labels.selector_from_set(matched).add(*selector.requirements)
        min_domains = item.get("minDomains")
        out.append(Constraint(
            int(item.get("maxSkew") or 0), str(item.get("topologyKey") or ""), selector,
            1 if min_domains is None else int(min_domains),
            item.get("nodeAffinityPolicy") or HONOR, item.get("nodeTaintsPolicy") or IGNORE))
    return out


def _controller_of(pod: Obj) -> Obj | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return dict(ref)
    return None


def default_selector(pod: Obj, listers: Mapping[str, Lister] | None) -> Selector:
    """What the pod's Services and controller select (empty: nothing selects the pod)."""
    if listers is None:
        return labels.everything()
    meta = pod.get("metadata") or {}
    namespace, pod_labels = meta.get("namespace", ""), meta.get("labels") or {}
    merged: dict[str, str] = {}
    for service in listers["services"].list(namespace):
        wanted = (service.get("spec") or {}).get("selector")
        if wanted is not None and labels.selector_from_set(wanted).matches(pod_labels):
            merged.update(wanted)  # all select the pod, so their labels cannot conflict
    selector = labels.selector_from_set(merged)
    owner = _controller_of(pod)
    if owner is None:
        return selector
    api_version = str(owner.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    if version.count("/") or group.count("/"):
        return selector  # not a group/version: upstream gives up on the owner too
    kind, name = (group, version, owner.get("kind")), str(owner.get("name") or "")
    if kind == ("", "v1", "ReplicationController"):
        controller = listers["replicationcontrollers"].get(namespace, name)
        if controller is not None:
            merged.update((controller.get("spec") or {}).get("selector") or {})
            selector = labels.selector_from_set(merged)
    elif kind in (("apps", "v1", "ReplicaSet"), ("apps", "v1", "StatefulSet")):
        plural = "replicasets" if kind[2] == "ReplicaSet" else "statefulsets"
        controller = listers[plural].get(namespace, name)
        if controller is not None:
            try:
                other = labels.selector_from_label_selector((controller.get("spec") or {}).get("selector"))
            except BadRequest:  # a selector that does not parse adds nothing, as upstream
                return selector
            selector = selector.add(*other.requirements)
    return selector


def default_constraints(pod: Obj, defaults: tuple[Obj, ...], action: str,
                        listers: Mapping[str, Lister] | None) -> list[Constraint]:
    """upstream's buildDefaultConstraints: the defaults for `action`, all with the selector
    of what selects the pod; none when nothing does."""
    wanted = constraints_for(list(defaults), {}, action)
    if not wanted:
        return []
    selector = default_selector(pod, listers)
    if selector.is_empty():
        return []
    return [Constraint(c.max_skew, c.topology_key, selector, c.min_domains,
                       c.node_affinity_policy, c.node_taints_policy) for c in wanted]


def validate_args(defaulting: object, constraints: list[Any]) -> list[FieldError]:
    """upstream's ValidatePodTopologySpreadArgs with a nil path: one error per problem."""
    errors: list[FieldError] = []
    if defaulting not in (SYSTEM_DEFAULTING, LIST_DEFAULTING):
        errors.append(not_supported("defaultingType", defaulting, [SYSTEM_DEFAULTING, LIST_DEFAULTING]))
    elif defaulting == SYSTEM_DEFAULTING and constraints:
        errors.append(invalid("defaultingType", defaulting, "when .defaultConstraints are not empty"))
    seen: set[tuple[Any, Any]] = set()
    for i, item in enumerate(constraints):
        path = f"defaultConstraints[{i}]"
        skew = item.get("maxSkew") or 0
        if skew <= 0:
            errors.append(invalid(f"{path}.maxSkew", skew, "not in valid range (0, inf)"))
        key = item.get("topologyKey") or ""
        if not key:
            errors.append(required(f"{path}.topologyKey", "can not be empty"))
        else:
            errors.extend(invalid(f"{path}.topologyKey", key, m) for m in is_qualified_name(key))
        action = item.get("whenUnsatisfiable") or ""
        if not action:
            errors.append(required(f"{path}.whenUnsatisfiable", "can not be empty"))
        elif action not in (DO_NOT_SCHEDULE, SCHEDULE_ANYWAY):
            errors.append(not_supported(f"{path}.whenUnsatisfiable", action, [DO_NOT_SCHEDULE, SCHEDULE_ANYWAY]))
        if item.get("labelSelector") is not None:
            errors.append(forbidden(f"{path}.labelSelector",
                                    "constraint must not define a selector, as they deduced for each pod"))
        if (key, action) in seen:
            errors.append(duplicate(path, f"{{{key}, {action}}}"))
        seen.add((key, action))
    return errors