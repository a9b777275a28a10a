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

from kubelite.api.volume_claims import ANN_SELECTED_NODE, annotations_of, meta, spec
from kubelite.scheduler.framework import Mask, Obj
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.plugins.node_affinity import term_matches


Choice = npt.NDArray[np.intp]  # per row: index of the chosen candidate PV, -1 for none


def volume_affinity(pv: Mapping[str, Any], nodes: NodeTable) -> Mask:
    """Rows whose node satisfies the PV's required node affinity (all, when it has none)."""
    required = (spec(pv).get("nodeAffinity") or {}).get("required")
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
            name = str(meta(pv).get("name", ""))
            free = ~taken.get(name, np.zeros(len(nodes), dtype=np.bool_))
            picked = open_rows & free & volume_affinity(pv, nodes)
            choice[picked] = index
            open_rows &= ~picked
            taken[name] = taken.get(name, np.zeros(len(nodes), dtype=np.bool_)) | picked
            if prebound:
                break  # a prebound PV the node cannot reach means no match there at all
        choices.append(choice)
    return choices


def with_selected_node(pvc: Obj, node: str) -> Obj:
    """A copy of the claim asking its provisioner for a volume on `node`."""
    return {**pvc, "metadata": {**meta(pvc), "annotations": {**annotations_of(pvc), ANN_SELECTED_NODE: node}}}
