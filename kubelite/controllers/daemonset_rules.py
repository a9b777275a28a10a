"""Which nodes a DaemonSet's pod belongs on, and what the pod looks like there (upstream's
NodeShouldRunDaemonPod and NewPod in pkg/controller/daemon/daemon_controller.go, and
pkg/controller/daemon/util: AddOrUpdateDaemonPodTolerations,
ReplaceDaemonSetPodNodeNameNodeAffinity, GetTargetNodeName).

- A daemon pod is the template plus the tolerations every daemon pod gets (not-ready
  and unreachable NoExecute; disk-, memory-, pid-pressure and unschedulable NoSchedule;
  network-unavailable NoSchedule with hostNetwork), and a required node affinity that
  names its node by `metadata.name`, replacing any other required node affinity term:
  the scheduler places it, so resources, ports and preemption are the scheduler's.
- `should_run(node, pod)`: (should run, should continue running). A node the pod's
  nodeName, nodeSelector or required node affinity excludes gets neither; a node with a
  NoSchedule/NoExecute taint the pod does not tolerate gets no new pod, and keeps a
  running one unless a NoExecute taint is untolerated.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors, labels

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"

_DAEMON_TOLERATIONS = ((NOT_READY, "NoExecute"), (UNREACHABLE, "NoExecute"),
                       (DISK_PRESSURE, "NoSchedule"), (MEMORY_PRESSURE, "NoSchedule"),
                       (PID_PRESSURE, "NoSchedule"), (UNSCHEDULABLE, "NoSchedule"))


# --- tolerations -----------------------------------------------------------------------

def tolerates(toleration: Obj, taint: Obj) -> bool:
    """v1.Toleration.ToleratesTaint."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated_taint(taints: Iterable[Obj], tolerations: list[Obj],
                      effects: frozenset[str]) -> Obj | None:
    """The first taint with one of `effects` no toleration tolerates."""
    for taint in taints:
        if taint.get("effect") in effects and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def add_daemon_tolerations(spec: Obj) -> None:
    """AddOrUpdateDaemonPodTolerations: each default toleration added, or replacing one
    with the same key, operator and effect."""
    wanted = list(_DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append((NETWORK_UNAVAILABLE, "NoSchedule"))
    tolerations: list[Obj] = list(spec.get("tolerations") or [])
    for key, effect in wanted:
        added: Obj = {"key": key, "operator": "Exists", "effect": effect}
        for i, t in enumerate(tolerations):
            if (t.get("key"), t.get("operator") or "Equal", t.get("effect")) == (
                    key, "Exists", effect):
                tolerations[i] = added
                break
        else:
            tolerations.append(added)
    spec["tolerations"] = tolerations


# --- node affinity ---------------------------------------------------------------------

def _requirement_matches(expr: Obj, value: str | None) -> bool:
    operator, values = expr.get("operator"), [str(v) for v in expr.get("values") or ()]
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            have, bound = int(value), int(values[0])
        except ValueError:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_matches(term: Obj, node: Obj) -> bool:
    """A NodeSelectorTerm: all its expressions and fields hold; an empty term matches
    nothing."""
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    node_labels = meta(node).get("labels") or {}
    for expr in expressions:
        if not _requirement_matches(expr, node_labels.get(str(expr.get("key")))):
            return False
    for expr in fields:
        if expr.get("key") != "metadata.name" or not _requirement_matches(
                expr, meta(node).get("name")):
            return False
    return True


def _required_terms(spec: Obj) -> list[Obj] | None:
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {})
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return None
    return list(required.get("nodeSelectorTerms") or [])


def fits_node_affinity(spec: Obj, node: Obj) -> bool:
    """nodeSelector and required node affinity (nodeaffinity.GetRequiredNodeAffinity)."""
    selector = spec.get("nodeSelector") or {}
    if selector and not labels.selector_from_set(selector).matches(
            meta(node).get("labels") or {}):
        return False
    terms = _required_terms(spec)
    return terms is None or any(term_matches(t, node) for t in terms)


def should_run(node: Obj, pod: Obj) -> tuple[bool, bool]:
    """(should run, should continue running) for a daemon pod made for `node`."""
    spec = pod.get("spec") or {}
    node_name = spec.get("nodeName") or ""
    try:
        fits = (not node_name or node_name == meta(node).get("name")) \
            and fits_node_affinity(spec, node)
    except errors.StatusError:
        fits = False  # an invalid nodeSelector selects no node
    if not fits:
        return False, False
    taints = list((node.get("spec") or {}).get("taints") or [])
    tolerations = list(spec.get("tolerations") or [])
    if untolerated_taint(taints, tolerations, frozenset({"NoSchedule", "NoExecute"})) is None:
        return True, True
    return False, untolerated_taint(taints, tolerations, frozenset({"NoExecute"})) is None


# --- the pod ---------------------------------------------------------------------------

def node_name_affinity(node_name: str) -> Obj:
    return {"nodeSelectorTerms": [{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}


def replace_node_name_affinity(spec: Obj, node_name: str) -> None:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes one
    term naming `node_name` (other required terms dropped, preferred ones kept)."""
    affinity = spec.setdefault("affinity", {}) or {}
    spec["affinity"] = affinity
    node_affinity = affinity.setdefault("nodeAffinity", {}) or {}
    affinity["nodeAffinity"] = node_affinity
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = node_name_affinity(
        node_name)


def daemon_pod_template(template: Obj, node_name: str) -> Obj:
    """The template a daemon pod for `node_name` is created from."""
    out = copy.deepcopy(template or {})
    spec = out.setdefault("spec", {})
    add_daemon_tolerations(spec)
    replace_node_name_affinity(spec, node_name)
    return out


def eligibility_pod(template: Obj, node_name: str) -> Obj:
    """NewPod: the template on `node_name` with the daemon tolerations, as
    should_run judges it (a template naming another node keeps that name: it fits
    there only)."""
    spec = copy.deepcopy((template or {}).get("spec") or {})
    spec["nodeName"] = spec.get("nodeName") or node_name
    add_daemon_tolerations(spec)
    return {"metadata": copy.deepcopy((template or {}).get("metadata") or {}), "spec": spec}


def target_node(pod: Obj) -> str | None:
    """GetTargetNodeName: the pod's node, or the one its metadata.name affinity names."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    for term in _required_terms(spec) or ():
        for expr in term.get("matchFields") or ():
            values = expr.get("values") or []
            if expr.get("key") == "metadata.name" and expr.get("operator") == "In" \
                    and len(values) == 1:
                return str(values[0])
    return None
