"""Counting for PodTopologySpread: topology domains per node and matching pods per node.

Upstream walks every node for every pod and counts the pods on it that match a constraint's
selector. Here a topology key is turned once into a domain number per row (nodes sharing a
label value share a number), and the counted pods are walked once per cycle for all of the
pod's selectors; a domain's count is then one `np.bincount` over the rows.

Guarantees:
- A pod counts when it is in the incoming pod's namespace, is not terminating (no
  deletionTimestamp, upstream's #87621) and matches the selector; an empty selector (and the
  nothing selector) counts no pod, as upstream's countPodsMatchSelector.
- Domain numbers are cached per topology key until the table's nodes change, and counts per
  (namespace, selector) until its pods or nodes change, for one table at a time; a cycle's
  PreFilter and PreScore (and a retry with nothing changed) share one walk over the pods.
- Changes are followed instead of walking again: the table journals every counted-pod
  change (the assumption of the pod just scheduled, the binding's echo, a status update,
  a deletion), and the counts are corrected pod by pod from it. Only a cache further
  behind than the journal reaches (or a change of nodes) walks the pods afresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubelite.machinery.labels import Selector
from kubelite.scheduler.framework import Mask, Obj
from kubelite.scheduler.node_table import NodeTable

IntColumn = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Domains:
    """The domains of one topology key: a number per row, and which rows have the key.

    A node lacking the key gets the number of the value "" (upstream reads a missing label
    as ""), so callers that require the key check `present`."""

    ids: IntColumn
    present: Mask
    size: int
    labelled: Mask  # per domain number: whether a node with the key has it

    def holding(self, rows: Mask) -> Mask:
        """Per domain number: whether one of `rows` is in it."""
        if np.array_equal(rows, self.present):  # the usual case, known already
            return self.labelled
        out = np.zeros(self.size, dtype=np.bool_)
        out[self.ids[rows]] = True
        return out

    def total(self, rows: Mask, per_row: IntColumn) -> IntColumn:
        """Per domain number: the sum of `per_row` over `rows` (a bincount over the few rows
        with pods, not a weighted one over them all)."""
        hits = rows & (per_row > 0)
        return np.bincount(np.repeat(self.ids[hits], per_row[hits]), minlength=self.size).astype(np.int64)


def domains_of(nodes: NodeTable, key: str) -> Domains:
    column = nodes.label(key)
    numbers: dict[str, int] = {}
    ids = np.fromiter((numbers.setdefault("" if value is None else value, len(numbers))
                       for value in column), dtype=np.int64, count=len(column))
    present = np.asarray(column != None, dtype=np.bool_)  # noqa: E711 - elementwise
    labelled = np.zeros(len(numbers), dtype=np.bool_)
    labelled[ids[present]] = True
    return Domains(ids, present, len(numbers), labelled)


def count_matching(nodes: NodeTable, namespace: str, selectors: Iterable[Selector]) -> dict[Selector, IntColumn]:
    """Matching pods per row for each selector, in one walk over the counted pods."""
    live = [s for s in dict.fromkeys(selectors) if not s.is_empty() and not s.matches_nothing()]
    rows: dict[Selector, list[int]] = {s: [] for s in live}
    if live:
        for row, pod in nodes.assigned_pods(nodes.keys_in([namespace])):
            meta = pod.get("metadata") or {}
            if meta.get("deletionTimestamp"):
                continue
            pod_labels = meta.get("labels") or {}
            for selector in live:
                if selector.matches(pod_labels):
                    rows[selector].append(row)
    n = len(nodes)
    zeros = np.zeros(n, dtype=np.int64)
    out = {s: np.bincount(np.asarray(r, dtype=np.intp), minlength=n).astype(np.int64) for s, r in rows.items()}
    return {s: out.get(s, zeros) for s in selectors}


class SpreadCache:
    """Domains and counts of the last table seen, dropped when its nodes change and kept
    across pod changes it can follow (see the module docstring)."""

    MAX_SELECTORS = 64  # counts kept at once; more (many apps interleaved) start afresh

    def __init__(self) -> None:
        self._table: NodeTable | None = None
        self._nodes_version = self._pods_version = -1
        self._domains: dict[str, Domains] = {}
        self._counts: dict[tuple[str, Selector], IntColumn] = {}
        self.walks = 0  # walks over all counted pods so far (what following saves)

    def sync(self, nodes: NodeTable) -> None:
        """Bring the caches to the table's versions."""
        if nodes is not self._table or nodes.nodes_version != self._nodes_version:
            self._table, self._nodes_version = nodes, nodes.nodes_version
            self._domains.clear()
            self._counts.clear()
        elif nodes.pods_version != self._pods_version and not self._follow(nodes):
            self._counts.clear()
        self._pods_version = nodes.pods_version

    def _follow(self, nodes: NodeTable) -> bool:
        """Correct the counts for the table's journalled changes since the last cycle;
        False if the journal does not reach back that far."""
        changes = nodes.pod_changes_since(self._pods_version)
        if changes is None:
            return False
        if not self._counts:
            return True
        deltas: dict[tuple[str, Selector], dict[int, int]] = {}
        for old, new in changes:
            for pod, sign in ((old, -1), (new, 1)):
                if pod is not None:
                    self._count(nodes, pod, sign, deltas)
        for key, by_row in deltas.items():
            column = self._counts[key].copy()  # callers may still hold the old column
            for row, delta in by_row.items():
                column[row] += delta
            self._counts[key] = column
        return True

    def _count(self, nodes: NodeTable, pod: Obj, sign: int,
               deltas: dict[tuple[str, Selector], dict[int, int]]) -> None:
        row = nodes.row_of.get((pod.get("spec") or {}).get("nodeName") or "")
        meta = pod.get("metadata") or {}
        if row is None or meta.get("deletionTimestamp"):
            return
        namespace, pod_labels = meta.get("namespace", ""), meta.get("labels") or {}
        for key in self._counts:
            if key[0] == namespace and not key[1].is_empty() and key[1].matches(pod_labels):
                by_row = deltas.setdefault(key, {})
                by_row[row] = by_row.get(row, 0) + sign

    def domains(self, nodes: NodeTable, key: str) -> Domains:
        """The domains of `key` (after `sync` with this table)."""
        found = self._domains.get(key)
        if found is None:
            found = self._domains[key] = domains_of(nodes, key)
        return found

    def counts(self, nodes: NodeTable, namespace: str, selectors: Iterable[Selector]) -> dict[Selector, IntColumn]:
        """Matching pods per row for each selector (after `sync` with this table)."""
        wanted = list(dict.fromkeys(selectors))
        missing = [s for s in wanted if (namespace, s) not in self._counts]
        if missing:
            if len(self._counts) + len(missing) > self.MAX_SELECTORS:
                self._counts.clear()
            self.walks += 1
            for selector, column in count_matching(nodes, namespace, missing).items():
                self._counts[(namespace, selector)] = column
        return {s: self._counts[(namespace, s)] for s in wanted}
