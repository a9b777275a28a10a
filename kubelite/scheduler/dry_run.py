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
from dataclasses import dataclass
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
Found = tuple[list[Candidate], dict[int, Status]]

# volumes that never conflict with other pods' (VolumeRestrictions, volume limits)
_PLAIN_VOLUMES = {"emptyDir", "configMap", "secret", "projected", "downwardAPI"}


class PodIndex:
    """Every counted pod's row and priority as arrays, grouped by row, rebuilt when the
    table's pods or nodes change; pods' requests are parsed on first need, once per pod
    object."""

    def __init__(self) -> None:
        self._version: tuple[int, int, int] | None = None
        self._parsed: dict[str, tuple[Obj, Vector]] = {}
        self.rows: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self.priorities: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.pods: list[Obj] = []
        self._by_row: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)  # pod indices
        self._starts: npt.NDArray[np.intp] = np.zeros(1, dtype=np.intp)  # per row, into it

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
        self._by_row = np.argsort(self.rows, kind="stable")
        self._starts = np.searchsorted(self.rows[self._by_row], np.arange(len(nodes) + 1))
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

    def below(self, priority: int, size: int) -> Lower:
        below = self.priorities < priority
        counts = np.bincount(self.rows[below], minlength=size)[:size]
        others = np.bincount(self.rows[~below], minlength=size)[:size]
        return Lower(self, priority, counts, others)

    def on_row(self, row: int) -> list[int]:
        return [int(i) for i in self._by_row[self._starts[row]:self._starts[row + 1]]]


@dataclass(slots=True)
class Lower:
    """The counted pods below one preemptor's priority: how many on each row, and the
    pods themselves listed on demand (a dry run rarely needs them on every row)."""

    index: PodIndex
    priority: int
    counts: npt.NDArray[np.int64]  # pods below, per row
    others: npt.NDArray[np.int64]  # pods at or above, per row

    def pods(self, row: int) -> list[Obj]:
        index = self.index
        return [index.pods[i] for i in index.on_row(row) if index.priorities[i] < self.priority]

    def kept(self, row: int) -> list[Obj]:
        index = self.index
        return [index.pods[i] for i in index.on_row(row) if index.priorities[i] >= self.priority]

    def removed(self, nodes: NodeTable, rows: list[int]) -> npt.NDArray[np.int64]:
        """What taking every lower pod out of `rows` subtracts from the requested
        columns (all rows of the table, zero elsewhere): a row where no pod stays loses
        all it has; otherwise the smaller side is parsed and summed."""
        out = np.zeros((len(nodes), 4), dtype=np.int64)
        chosen = np.array(rows, dtype=np.intp)
        emptied = chosen[self.others[chosen] == 0]
        out[emptied] = nodes.requested[emptied]
        for row in chosen[self.others[chosen] > 0]:
            row = int(row)
            if self.others[row] < self.counts[row]:
                kept = np.array([self.index.requests(p) for p in self.kept(row)], dtype=np.int64)
                out[row] = nodes.requested[row] - kept.sum(axis=0)
            else:
                out[row] = np.array([self.index.requests(p) for p in self.pods(row)],
                                    dtype=np.int64).sum(axis=0)
        return out


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


def by_columns(pod: Obj, nodes: NodeTable, rows: list[int], lower: Lower, wanted: int,
               handle: PreemptionHandle, pdbs: Sequence[Obj]) -> Found:
    n = len(nodes)
    removed = lower.removed(nodes, rows)  # requests taken out of each row, right now
    statuses: dict[int, Status] = {}
    candidates: list[Candidate] = []
    nodes.requested[:n] -= removed
    try:
        fitting = _screen(handle.filter_nodes(pod, nodes), rows, statuses)
        for start in range(0, len(fitting), max(wanted, 1)):
            chunk = fitting[start:start + max(wanted, 1)]
            found = _reprieve_together(pod, nodes, chunk, lower, removed, handle, pdbs)
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
                       removed: npt.NDArray[np.int64], handle: PreemptionHandle,
                       pdbs: Sequence[Obj]) -> dict[int, tuple[Candidate | None, Status]]:
    """Step k puts back the k-th victim of every row in `chunk` and runs one Filter pass:
    rows are independent here, so this is each row's own reprieve loop, side by side."""
    orders = {row: _ordered(lower.pods(row), pdbs) for row in chunk}
    victims: dict[int, list[Obj]] = {row: [] for row in chunk}
    violations = dict.fromkeys(chunk, 0)
    for k in range(max((len(o) for o in orders.values()), default=0)):
        stepping = np.array([row for row in chunk if len(orders[row]) > k], dtype=np.intp)
        vectors = np.array([lower.index.requests(orders[int(row)][k][0]) for row in stepping],
                           dtype=np.int64).reshape(-1, 4)
        nodes.requested[stepping] += vectors  # rows are distinct: one victim each
        removed[stepping] -= vectors
        unfit = ~handle.filter_nodes(pod, nodes).feasible()[stepping]
        nodes.requested[stepping[unfit]] -= vectors[unfit]
        removed[stepping[unfit]] += vectors[unfit]
        for row in stepping[unfit]:
            victim, violates = orders[int(row)][k]
            victims[int(row)].append(victim)
            violations[int(row)] += violates
    return {row: _candidate(nodes, row, victims[row], violations[row],
                            _mixed(orders[row]))
            for row in chunk}


def by_table(pod: Obj, nodes: NodeTable, rows: list[int], lower: Lower, wanted: int,
             handle: PreemptionHandle, pdbs: Sequence[Obj], *, screen: bool) -> Found:
    statuses: dict[int, Status] = {}
    if screen:
        everyone = [p for row in rows for p in lower.pods(row)]
        rows = _screen(_without(nodes, everyone, lambda: handle.filter_nodes(pod, nodes)),
                       rows, statuses)
    candidates: list[Candidate] = []
    for row in rows:
        candidate, status = _select_on_row(pod, nodes, row, lower.pods(row), handle, pdbs)
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
