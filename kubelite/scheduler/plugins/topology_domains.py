"""Node rows grouped into topology domains: the nodes sharing one value of one label.

Inter-pod rules speak of domains ("no matching pod in this node's zone"), not of node pairs:
upstream counts matching pods per (topology key, value) pair and then looks each node's
pair up. Here a label column becomes an integer code per row (the domain; -1 where the node
lacks the label), counting pods per domain is one `bincount` over the codes of the rows the
pods sit on, and reading the count back for every node is one fancy index. The codes of a key
are kept until a node is added, changed or removed (the table's `nodes_version`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from kubelite.scheduler.node_table import NodeTable

Codes = npt.NDArray[np.intp]
Counts = npt.NDArray[np.int64]


class TopologyDomains:
    def __init__(self) -> None:
        self._version = -1
        self._codes: dict[str, tuple[Codes, int]] = {}

    def codes(self, nodes: NodeTable, key: str) -> tuple[Codes, int]:
        """The domain of every row for label `key` (-1: no such label), and how many domains."""
        if self._version != nodes.nodes_version:
            self._codes.clear()
            self._version = nodes.nodes_version
        found = self._codes.get(key)
        if found is None:
            column = nodes.label(key)
            seen: dict[str, int] = {}
            codes = np.fromiter((-1 if value is None else seen.setdefault(value, len(seen))
                                 for value in column), dtype=np.intp, count=len(column))
            found = self._codes[key] = (codes, len(seen))
        return found

    def has_label(self, nodes: NodeTable, key: str) -> npt.NDArray[np.bool_]:
        return self.codes(nodes, key)[0] >= 0

    def spread(self, nodes: NodeTable, key: str, rows: Sequence[int],
               weights: Sequence[int] | None = None) -> Counts:
        """For every row: the sum of `weights` (1 each by default) of the entries of `rows`
        that sit in the same domain; 0 for a node without the label. Entries on a node
        without the label count nowhere, as upstream skips a pair its node lacks."""
        codes, domains = self.codes(nodes, key)
        picked = codes[np.asarray(rows, dtype=np.intp)]
        inside = picked >= 0
        if weights is None:
            per_domain = np.bincount(picked[inside], minlength=domains + 1).astype(np.int64)
        else:
            per_domain = np.zeros(domains + 1, dtype=np.int64)
            np.add.at(per_domain, picked[inside], np.asarray(weights, dtype=np.int64)[inside])
        # the extra last domain stays 0, and code -1 reads exactly that slot
        return per_domain[codes]

    def any_inside(self, nodes: NodeTable, key: str, rows: Sequence[int]) -> bool:
        """Whether any of `rows` has label `key` (a pair upstream would have counted)."""
        codes = self.codes(nodes, key)[0]
        return bool((codes[np.asarray(rows, dtype=np.intp)] >= 0).any())
