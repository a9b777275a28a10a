"""Which pods to evict, node by node (upstream's DryRunPreemption and DefaultPreemption's
SelectVictimsOnNode): for each potential row, in the evaluator's order, take every pod of
lower priority out; if the pod then fits, put them back one at a time, the most important
first and those whose eviction would break a PodDisruptionBudget before the others, and
keep out only those the pod does not fit with. Stop once there are enough candidates and
one of them breaks no budget.

Two ways to take pods out, with the same answers where the first applies:

- by columns (`by_columns_is_exact`): when the only pod-dependent filter that can judge
  the pod is NodeResourcesFit (no host ports, no pod (anti-)affinity or topology spread,
  no counted pod with a required anti-affinity term, no volume that conflicts with other
  pods), taking a pod out is subtracting its requests from the table's `requested` row.
  Then every row is independent of the others, so all rows are judged together: one
  Filter pass with all victims out (the screen), then one pass per reprieve step for all
  candidate rows at once. No pod object is touched.
- by the table: each pod is removed from the NodeTable (remove_pod) and added back
  (add_pod), PreFilter runs again, and rows are judged one at a time, exact for every
  plugin. The screen (everything out everywhere, one pass) is used only when no verdict
  depends on pods of other nodes.

Either way the table is as it was when a function returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from kubelite.scheduler import resources
from kubelite.scheduler.diagnosis import Diagnosis
from kubelite.scheduler.framework import Code, Obj, Status
from kubelite.scheduler.node_table import NodeTable, pod_key
from kubelite.scheduler.preemption import Candidate, PreemptionHandle, importance, split_by_pdb_violation
from kubelite.scheduler.queued_pod import pod_priority

T = TypeVar("T")
Vector = tuple[int, int, int, int]  # the table's requested columns: cpu, memory, storage, 1 pod
Lower = dict[int, list[Obj]]  # row -> its pods below the preemptor
Found = tuple[list[Candidate], dict[int, Status]]

# volumes that never conflict with other pods' (VolumeRestrictions, volume limits)
_PLAIN_VOLUMES = {"emptyDir", "configMap", "secret", "projected", "downwardAPI"}


class PodIndex:
    """Every counted pod's row and priority as arrays, rebuilt when the table's pods or
    nodes change, and pods' requests parsed on first need, once per pod object."""

    def __init__(self) -> None:
        self._version: tuple[int, int, int] | None = None
        self._parsed: dict[str, tuple[Obj, Vector]] = {}
        self.rows: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self.priorities: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.pods: list[Obj] = []

    def refresh(self, nodes: NodeTable) -> None:
        version = (id(nodes), nodes.pods_version, nodes.nodes_version)
        if version == self._version:
            return
        rows: list[int] = []
        pods: list[Obj] = []
        for row, pod in nodes.assigned_pods():
            rows.append(row)
            pods.append(pod)
        self.rows = np.array(rows, dtype=np.intp)
        self.pods = pods
        self.priorities = np.array([pod_priority(p) for p in pods], dtype=np.int64)
        if len(self._parsed) > 2 * len(pods):  # forget pods long gone, now and then
            current = {pod_key(p) for p in pods}
            self._parsed = {k: v for k, v in self._parsed.items() if k in current}
        self._version = version

    def requests(self, pod: Obj) -> Vector:
        key = pod_key(pod)
        entry = self._parsed.get(key)
        if entry is None or entry[0] is not pod:
            wanted = resources.pod_requests(pod)
            entry = self._parsed[key] = (
                pod, (wanted["cpu"], wanted["memory"], wanted["ephemeral-storage"], 1))
        return entry[1]

    def split(self, priority: int, rows: Sequence[int]) -> tuple[dict[int, list[Obj]],
                                                                  dict[int, list[Obj]]]:
        """(pods below `priority`, the others) on each of `rows` that has pods below."""
        size = int(self.rows.max()) + 1 if len(self.rows) else 0
        wanted = np.zeros(max(size, max(rows, default=0) + 1), dtype=np.bool_)
        wanted[list(rows)] = True
        lower: dict[int, list[Obj]] = {}
        higher: dict[int, list[Obj]] = {}
        on_rows = wanted[self.rows] if len(self.rows) else np.zeros(0, dtype=np.bool_)
        below = self.priorities < priority
        for i in np.flatnonzero(on_rows & below):
            lower.setdefault(int(self.rows[i]), []).append(self.pods[i])
        for i in np.flatnonzero(on_rows & ~below):
            if int(self.rows[i]) in lower:
                higher.setdefault(int(self.rows[i]), []).append(self.pods[i])
        return lower, higher

    def removed(self, nodes: NodeTable, row: int, lower: list[Obj],
                higher: list[Obj]) -> npt.NDArray[np.int64]:
        """What taking all of `lower` out of `row` subtracts from its requested columns,
        summed over whichever side has fewer pods to parse."""
        if len(higher) < len(lower):
            kept = np.array([self.requests(p) for p in higher], dtype=np.int64).reshape(-1, 4)
            out: npt.NDArray[np.int64] = nodes.requested[row] - kept.sum(axis=0)
            return out
        taken: npt.NDArray[np.int64] = np.array(
            [self.requests(p) for p in lower], dtype=np.int64).reshape(-1, 4).sum(axis=0)
        return taken


def by_columns_is_exact(pod: Obj, nodes: NodeTable) -> bool:
    spec = pod.get("spec") or {}
    affinity = spec.get("affinity") or {}
    return not (affinity.get("podAffinity") or affinity.get("podAntiAffinity")
                or spec.get("topologySpreadConstraints") or resources.host_ports(pod)
                or nodes.with_required_anti_affinity
                or any(set(v) - {"name"} - _PLAIN_VOLUMES for v in spec.get("volumes") or ()))


def _enough(candidates: list[Candidate], wanted: int) -> bool:
    return len(candidates) >= wanted and any(not c.pdb_violations for c in candidates)


def _ordered(lower: list[Obj], pdbs: Sequence[Obj]) -> list[tuple[Obj, bool]]:
    """Victims in reprieve order, each with whether evicting it breaks a budget: the
    budget-breaking ones first, each group most important first."""
    violating, non_violating = split_by_pdb_violation(sorted(lower, key=importance), pdbs)
    return [(p, True) for p in violating] + [(p, False) for p in non_violating]


def _mixed(order: list[tuple[Obj, bool]]) -> bool:
    """Both budget-breaking and other victims: their order needs restoring at the end."""
    return any(v for _, v in order) and not all(v for _, v in order)


def _candidate(nodes: NodeTable, row: int, victims: list[Obj], violations: int,
               mixed: bool) -> tuple[Candidate | None, Status]:
    if not victims:  # upstream: fitting without preemption here is a bug
        return None, Status(Code.ERROR, (
            f'expected at least one victim pod on node "{nodes.names[row]}"',))
    if mixed:
        victims.sort(key=importance)
    return Candidate(nodes.names[row], tuple(victims), violations), Status.success()


def by_columns(pod: Obj, nodes: NodeTable, rows: list[int], lower: Lower, higher: Lower,
               index: PodIndex, wanted: int, handle: PreemptionHandle,
               pdbs: Sequence[Obj]) -> Found:
    n = len(nodes)
    removed = np.zeros((n, 4), dtype=np.int64)  # requests taken out of each row, right now
    for row in rows:
        removed[row] = index.removed(nodes, row, lower[row], higher.get(row, []))
    statuses: dict[int, Status] = {}
    candidates: list[Candidate] = []
    nodes.requested[:n] -= removed
    try:
        fitting = _screen(handle.filter_nodes(pod, nodes), rows, statuses)
        for start in range(0, len(fitting), max(wanted, 1)):
            chunk = fitting[start:start + max(wanted, 1)]
            found = _reprieve_together(pod, nodes, chunk, lower, index, removed, handle, pdbs)
            for row in chunk:
                candidate, status = found[row]
                if candidate is None:
                    statuses[row] = status
                    continue
                candidates.append(candidate)
                if _enough(candidates, wanted):
                    return candidates, statuses
    finally:
        nodes.requested[:n] += removed
    return candidates, statuses


def _screen(screened: Diagnosis, rows: list[int], statuses: dict[int, Status]) -> list[int]:
    """The rows the pod fits with every lower pod out; the others get their status."""
    feasible = screened.feasible()
    fitting = []
    for row in rows:
        if feasible[row]:
            fitting.append(row)
        else:
            statuses[row] = screened.status_of(row)
    return fitting


def _reprieve_together(pod: Obj, nodes: NodeTable, chunk: list[int], lower: Lower,
                       index: PodIndex, removed: npt.NDArray[np.int64],
                       handle: PreemptionHandle,
                       pdbs: Sequence[Obj]) -> dict[int, tuple[Candidate | None, Status]]:
    """Step k puts back the k-th victim of every row in `chunk` and runs one Filter pass:
    rows are independent here, so this is each row's own reprieve loop, side by side."""
    orders = {row: _ordered(lower[row], pdbs) for row in chunk}
    victims: dict[int, list[Obj]] = {row: [] for row in chunk}
    violations = dict.fromkeys(chunk, 0)
    for k in range(max((len(o) for o in orders.values()), default=0)):
        stepping = [row for row in chunk if len(orders[row]) > k]
        for row in stepping:
            vector = np.array(index.requests(orders[row][k][0]), dtype=np.int64)
            nodes.requested[row] += vector
            removed[row] -= vector
        feasible = handle.filter_nodes(pod, nodes).feasible()
        for row in stepping:
            if feasible[row]:
                continue  # reprieved
            victim, violates = orders[row][k]
            vector = np.array(index.requests(victim), dtype=np.int64)
            nodes.requested[row] -= vector
            removed[row] += vector
            victims[row].append(victim)
            violations[row] += violates
    return {row: _candidate(nodes, row, victims[row], violations[row],
                            _mixed(orders[row]))
            for row in chunk}


def by_table(pod: Obj, nodes: NodeTable, rows: list[int], lower: Lower, wanted: int,
             handle: PreemptionHandle, pdbs: Sequence[Obj], *, screen: bool) -> Found:
    statuses: dict[int, Status] = {}
    if screen:
        everyone = [p for row in rows for p in lower[row]]
        rows = _screen(_without(nodes, everyone, lambda: handle.filter_nodes(pod, nodes)),
                       rows, statuses)
    candidates: list[Candidate] = []
    for row in rows:
        candidate, status = _select_on_row(pod, nodes, row, lower[row], handle, pdbs)
        if candidate is None:
            statuses[row] = status
            continue
        candidates.append(candidate)
        if _enough(candidates, wanted):
            break
    return candidates, statuses


def _select_on_row(pod: Obj, nodes: NodeTable, row: int, lower: list[Obj],
                   handle: PreemptionHandle, pdbs: Sequence[Obj]) -> tuple[Candidate | None, Status]:
    def fits() -> Diagnosis:
        return handle.filter_nodes(pod, nodes)

    def attempt() -> tuple[Candidate | None, Status]:
        without_all = fits()
        if not without_all.feasible()[row]:
            return None, without_all.status_of(row)
        order = _ordered(lower, pdbs)
        victims: list[Obj] = []
        violations = 0
        for victim, violates in order:
            nodes.add_pod(victim)  # reprieved if the pod still fits with it back
            if not fits().feasible()[row]:
                nodes.remove_pod(pod_key(victim))
                victims.append(victim)
                violations += violates
        mixed = _mixed(order)
        return _candidate(nodes, row, victims, violations, mixed)

    return _without(nodes, lower, attempt)


def _without(nodes: NodeTable, pods: Sequence[Obj], work: Callable[[], T]) -> T:
    """Run `work()` with `pods` taken out of the table, then count them again (those
    `work` put back already are left as they are)."""
    for pod in pods:
        nodes.remove_pod(pod_key(pod))
    try:
        return work()
    finally:
        for pod in pods:
            if nodes.pod(pod_key(pod)) is None:
                nodes.add_pod(pod)
