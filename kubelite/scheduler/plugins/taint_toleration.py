"""TaintToleration: NoSchedule/NoExecute taints filter, PreferNoSchedule taints score.

Nodes share few distinct taint lists, and the table numbers them (`taint_set`), so the pod's
tolerations are matched once per distinct list and the answer is spread to all nodes by id.
Filter rejects with the first untolerated taint of the node's list, as upstream's
FindMatchingUntoleratedTaint; Score counts untolerated PreferNoSchedule taints and
normalizes reversed, so the node with the fewest scores 100.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from kubelite.scheduler.framework import (
    Code, CycleState, Obj, Rows, Scores, Verdict, default_normalize_score)
from kubelite.scheduler.node_table import NodeTable, Taint

HARD_EFFECTS = ("NoSchedule", "NoExecute")


def tolerations_of(pod: Obj) -> list[dict[str, Any]]:
    return list((pod.get("spec") or {}).get("tolerations") or ())


def tolerates(toleration: dict[str, Any], taint: Taint) -> bool:
    """Upstream's Toleration.ToleratesTaint."""
    key, value, effect = taint
    if toleration.get("effect") and toleration["effect"] != effect:
        return False
    if toleration.get("key") and toleration["key"] != key:
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == value


def first_untolerated(taints: Iterable[Taint], tolerations: list[dict[str, Any]],
                      effects: tuple[str, ...]) -> Taint | None:
    for taint in taints:
        if taint[2] in effects and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def present_sets(ids: npt.NDArray[np.int32], known: int) -> list[int]:
    """The taint-set ids that occur in `ids` (a bincount: cheaper than np.unique)."""
    return [int(i) for i in np.flatnonzero(np.bincount(ids, minlength=known))]


class TaintToleration:
    name: ClassVar[str] = "TaintToleration"

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        verdict = Verdict(len(nodes))
        ids = nodes.taint_set[: len(nodes)]
        tolerations = tolerations_of(pod)
        # reason number per taint-set id (-1: all tolerated), then spread to rows by id
        reason_of_set = np.full(len(nodes.taint_sets), -1, dtype=np.int64)
        reasons: dict[str, int] = {}
        for set_id in present_sets(ids, len(nodes.taint_sets)):
            taint = first_untolerated(nodes.taint_sets[set_id], tolerations, HARD_EFFECTS)
            if taint is not None:
                reason = f"node(s) had untolerated taint {{{taint[0]}: {taint[1]}}}"
                reason_of_set[set_id] = reasons.setdefault(reason, len(reasons))
        if reasons:
            by_row = reason_of_set[ids]
            for reason, number in reasons.items():
                verdict.reject(by_row == number, reason, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        return verdict

    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        # only tolerations that could match a PreferNoSchedule taint, as upstream
        tolerations = [t for t in tolerations_of(pod) if t.get("effect") in (None, "", "PreferNoSchedule")]
        ids = nodes.taint_set[rows]
        counts = np.zeros(len(nodes.taint_sets), dtype=np.int64)
        for set_id in present_sets(ids, len(nodes.taint_sets)):
            counts[set_id] = sum(
                1 for taint in nodes.taint_sets[set_id]
                if taint[2] == "PreferNoSchedule" and not any(tolerates(t, taint) for t in tolerations))
        return counts[ids]

    def normalize_score(self, state: CycleState, pod: Obj, scores: Scores) -> Scores:
        return default_normalize_score(scores, reverse=True)
