"""Why each node was rejected in one Filter pass (upstream's Diagnosis and NodeToStatus,
pkg/scheduler/framework/types.go), and the "0/N nodes are available: ..." sentence.

A Diagnosis is the columnar form of upstream's node-to-status map: for each Filter
plugin that rejected some rows first (in profile order), its Verdict and the mask of the
rows it was first to reject, since a node's status is that of the first plugin that
rejects it. A PreFilter rejection gives every row the same status, as upstream's
SetAbsentNodesStatus does. Preemption reads the codes (Unschedulable rows may be helped
by removing pods, UnschedulableAndUnresolvable ones may not) and prints its own sentence
with the same histogram as FitError.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubelite.scheduler.framework import Code, Mask, Status, Verdict

Codes = npt.NDArray[np.int8]


def availability_message(num_all_nodes: int, reasons: Counter[str]) -> str:
    """FitError.Error()'s first sentence. Upstream sorts the "count reason" strings
    themselves, so "10 x" sorts before "2 y"."""
    message = f"0/{num_all_nodes} nodes are available:"
    histogram = sorted(f"{count} {reason}" for reason, count in reasons.items())
    if histogram:
        message += f" {', '.join(histogram)}."
    return message


@dataclass(slots=True)
class Diagnosis:
    size: int
    # (plugin, its verdict, the rows it was the first plugin to reject)
    verdicts: list[tuple[str, Verdict, Mask]] = field(default_factory=list)
    pre_filter: Status | None = None  # a PreFilter rejection: every row has this status

    def rejected(self) -> Mask:
        if self.pre_filter is not None:
            return np.ones(self.size, dtype=np.bool_)
        out = np.zeros(self.size, dtype=np.bool_)
        for _, _, first in self.verdicts:
            out |= first
        return out

    def feasible(self) -> Mask:
        return ~self.rejected()

    def status_of(self, row: int) -> Status:
        """The Status upstream's RunFilterPlugins would have returned for this node."""
        if self.pre_filter is not None:
            return self.pre_filter
        for plugin, verdict, first in self.verdicts:
            if first[row]:
                return verdict.status_of(row, plugin)
        return Status.success()

    def codes(self) -> Codes:
        """Each row's status code (SUCCESS where no plugin rejected it)."""
        if self.pre_filter is not None:
            return np.full(self.size, self.pre_filter.code, dtype=np.int8)
        out = np.zeros(self.size, dtype=np.int8)
        for _, verdict, first in self.verdicts:
            for rejection in verdict.rejections:
                hit = first & rejection.mask
                out[hit] = np.maximum(out[hit], rejection.code)
        return out

    def reasons(self, rows: Mask) -> Counter[str]:
        """How many of `rows` each reason was given for (a row may give several)."""
        counted: Counter[str] = Counter()
        for _, verdict, first in self.verdicts:
            mine = first & rows
            for rejection in verdict.rejections:
                count = int(np.count_nonzero(rejection.mask & mine))
                if count:
                    counted[rejection.reason] += count
        return counted

    def plugins_rejecting(self, rows: Mask) -> set[str]:
        return {plugin for plugin, _, first in self.verdicts if (first & rows).any()}

    @classmethod
    def merged(cls, plain: Diagnosis, other: Diagnosis, rows: Mask) -> Diagnosis:
        """`other`'s statuses on `rows`, `plain`'s elsewhere."""
        out = cls(plain.size)
        for source, where in ((plain, ~rows), (other, rows)):
            for plugin, verdict, first in source._as_verdicts():
                if (mine := first & where).any():
                    out.verdicts.append((plugin, verdict, mine))
        return out

    def _as_verdicts(self) -> Iterable[tuple[str, Verdict, Mask]]:
        if self.pre_filter is None:
            return self.verdicts
        everything = np.ones(self.size, dtype=np.bool_)
        verdict = Verdict(self.size)
        for reason in self.pre_filter.reasons or ("",):
            verdict.reject(everything, reason, Code(self.pre_filter.code))
        return [(self.pre_filter.plugin, verdict, everything)]
