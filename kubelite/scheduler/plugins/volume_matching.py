"""Which PersistentVolume can serve which claim on which node: the pure half of
VolumeBinding (upstream's component-helpers/storage/volume pv_helpers.go and the Filter
part of volumebinding/binder.go), over the node table's columns.

- A claim is fully bound when it names a volume and carries `pv.kubernetes.io/bind-completed`;
  it waits for its first consumer when its StorageClass says `WaitForFirstConsumer` (a claim
  naming a volume already, "prebound", counts as immediate, as upstream).
- A PV's node affinity is a NodeSelector: its terms are matched with NodeAffinity's
  `term_matches` over the label columns, for every node at once. kubelite matches a
  `metadata.name` field requirement against the node's name (upstream's CheckNodeAffinity
  gives it the labels only, so such a term never matches there).
- `candidate_volumes` keeps upstream's FindMatchingVolume tests that do not depend on the
  node (claimRef, size, volume mode, deletion, phase Available, selector, class, access
  modes), smallest first; a PV already bound to the claim comes alone, since upstream returns
  it (or nothing) as soon as it meets it. `choose_volumes` then picks per node, claim by
  claim from the smallest request, the smallest candidate whose affinity the node meets and
  that no earlier claim took on that node.
- A StorageClass's allowedTopologies are TopologySelectorTerms: a node must carry one of the
  values of every expression of some term; no terms means anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from kubelite.machinery.labels import selector_from_label_selector
from kubelite.machinery.quantity import parse_json
from kubelite.scheduler.framework import Mask, Obj
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.plugins.node_affinity import term_matches

ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"

Choice = npt.NDArray[np.intp]  # per row: index of the chosen candidate PV, -1 for none


def _meta(obj: Mapping[str, Any]) -> Obj:
    meta: Obj = obj.get("metadata") or {}
    return meta


def _spec(obj: Mapping[str, Any]) -> Obj:
    spec: Obj = obj.get("spec") or {}
    return spec


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(_meta(obj).get("annotations") or {})


def claim_key(pvc: Mapping[str, Any]) -> str:
    return f"{_meta(pvc).get('namespace', '')}/{_meta(pvc).get('name', '')}"


def claim_class(pvc: Mapping[str, Any]) -> str:
    """GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName."""
    beta = annotations_of(pvc).get(ANN_BETA_STORAGE_CLASS)
    return beta if beta is not None else str(_spec(pvc).get("storageClassName") or "")


def volume_class(pv: Mapping[str, Any]) -> str:
    beta = annotations_of(pv).get(ANN_BETA_STORAGE_CLASS)
    return beta if beta is not None else str(_spec(pv).get("storageClassName") or "")


def is_fully_bound(pvc: Mapping[str, Any]) -> bool:
    return bool(_spec(pvc).get("volumeName")) and ANN_BIND_COMPLETED in annotations_of(pvc)


def is_delay_binding(pvc: Mapping[str, Any], storage_class: Mapping[str, Any] | None) -> bool:
    """IsDelayBindingMode: no class, or a class not found, means Immediate."""
    if not claim_class(pvc) or storage_class is None:
        return False
    return storage_class.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER


def is_bound_to_claim(pv: Mapping[str, Any], pvc: Mapping[str, Any]) -> bool:
    """IsVolumeBoundToClaim: claimRef names the claim (and its uid, when it has one)."""
    ref = _spec(pv).get("claimRef")
    if not ref:
        return False
    if ref.get("name") != _meta(pvc).get("name") or ref.get("namespace") != _meta(pvc).get("namespace"):
        return False
    return not ref.get("uid") or ref.get("uid") == _meta(pvc).get("uid")


def storage_request(pvc: Mapping[str, Any]) -> int:
    value = ((_spec(pvc).get("resources") or {}).get("requests") or {}).get("storage")
    return parse_json(value).value() if value is not None else 0


def storage_capacity(pv: Mapping[str, Any]) -> int:
    value = (_spec(pv).get("capacity") or {}).get("storage")
    return parse_json(value).value() if value is not None else 0


def volume_affinity(pv: Mapping[str, Any], nodes: NodeTable) -> Mask:
    """Rows whose node satisfies the PV's required node affinity (all, when it has none)."""
    required = (_spec(pv).get("nodeAffinity") or {}).get("required")
    if required is None:
        return np.ones(len(nodes), dtype=np.bool_)
    out = np.zeros(len(nodes), dtype=np.bool_)
    for term in required.get("nodeSelectorTerms") or ():
        out |= term_matches(term, nodes)
    return out


def topology_matches(storage_class: Mapping[str, Any], nodes: NodeTable) -> Mask:
    """MatchTopologySelectorTerms of the class's allowedTopologies over every row."""
    terms = storage_class.get("allowedTopologies") or []
    if not terms:
        return np.ones(len(nodes), dtype=np.bool_)
    out = np.zeros(len(nodes), dtype=np.bool_)
    for term in terms:
        expressions = term.get("matchLabelExpressions") or []
        matched = np.ones(len(nodes), dtype=np.bool_) if expressions else np.zeros(len(nodes), dtype=np.bool_)
        for expression in expressions:
            column = nodes.label(expression.get("key", ""))
            matched &= np.asarray(np.isin(column, list(expression.get("values") or ()))
                                  & (column != None), dtype=np.bool_)  # noqa: E711
        out |= matched
    return out


def _volume_mode(spec: Mapping[str, Any]) -> str:
    return str(spec.get("volumeMode") or "Filesystem")


def candidate_volumes(pvc: Obj, volumes: Sequence[Obj]) -> tuple[list[Obj], bool]:
    """The PVs that could serve the claim on some node, smallest first, and whether the
    first is already bound to the claim (then it is the only one)."""
    request = storage_request(pvc)
    wanted_class = claim_class(pvc)
    label_selector = _spec(pvc).get("selector")
    selector = selector_from_label_selector(label_selector) if label_selector is not None else None
    wanted_modes = set(_spec(pvc).get("accessModes") or ())
    found: list[tuple[int, str, Obj]] = []
    for pv in volumes:
        spec = _spec(pv)
        if spec.get("claimRef") and not is_bound_to_claim(pv, pvc):
            continue
        size = storage_capacity(pv)
        if size < request or _volume_mode(spec) != _volume_mode(_spec(pvc)):
            continue
        if _meta(pv).get("deletionTimestamp"):
            continue
        if is_bound_to_claim(pv, pvc):
            return [pv], True
        if (pv.get("status") or {}).get("phase") != "Available":
            continue  # volumes not yet Available would likely fail to bind now
        if selector is not None and not selector.matches(_meta(pv).get("labels") or {}):
            continue
        if volume_class(pv) != wanted_class or not wanted_modes <= set(spec.get("accessModes") or ()):
            continue
        found.append((size, str(_meta(pv).get("name", "")), pv))
    found.sort(key=lambda item: (item[0], item[1]))
    return [pv for _, _, pv in found], False


def choose_volumes(candidates: Sequence[tuple[list[Obj], bool]], nodes: NodeTable,
                   rows: Mask) -> list[Choice]:
    """Per claim (in the order given, smallest request first), the candidate chosen on each
    row of `rows`: the first whose affinity the node meets and that no earlier claim took
    there; -1 where none is left (the claim must then be provisioned)."""
    taken: dict[str, Mask] = {}
    choices: list[Choice] = []
    for volumes, prebound in candidates:
        choice = np.full(len(nodes), -1, dtype=np.intp)
        open_rows = rows.copy()
        for index, pv in enumerate(volumes):
            name = str(_meta(pv).get("name", ""))
            free = ~taken.get(name, np.zeros(len(nodes), dtype=np.bool_))
            picked = open_rows & free & volume_affinity(pv, nodes)
            choice[picked] = index
            open_rows &= ~picked
            taken[name] = taken.get(name, np.zeros(len(nodes), dtype=np.bool_)) | picked
            if prebound:
                break  # a prebound PV the node cannot reach means no match there at all
        choices.append(choice)
    return choices


def bind_volume_to_claim(pv: Obj, pvc: Obj) -> Obj:
    """GetBindVolumeToClaim: a copy of the PV whose claimRef names the claim, marked bound by
    the controller unless the user had pre-bound it."""
    out = {**pv, "metadata": {**_meta(pv)}, "spec": {**_spec(pv)}}
    if not is_bound_to_claim(pv, pvc):
        out["metadata"]["annotations"] = {ANN_BOUND_BY_CONTROLLER: "yes", **annotations_of(pv)}
    meta = _meta(pvc)
    ref = _spec(pv).get("claimRef") or {}
    if (ref.get("name"), ref.get("namespace"), ref.get("uid")) != (
            meta.get("name"), meta.get("namespace"), meta.get("uid")):
        out["spec"]["claimRef"] = {
            "kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": meta.get("namespace"),
            "name": meta.get("name"), "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion")}
    return out


def with_selected_node(pvc: Obj, node: str) -> Obj:
    """A copy of the claim asking its provisioner for a volume on `node`."""
    return {**pvc, "metadata": {**_meta(pvc), "annotations": {**annotations_of(pvc), ANN_SELECTED_NODE: node}}}
