"""DefaultPreemption (upstream's plugins/defaultpreemption): the PostFilter that, when a pod
fits nowhere, finds lower-priority pods whose eviction would make room, and nominates the
node for the pod. The work is `preemption.Evaluator`'s; this plugin holds the arguments,
reads PodDisruptionBudgets from an informer, and words the outcome as upstream does:
"preemption: " before whatever the evaluator says, appended to FitError's message.

Arguments (DefaultPreemptionArgs): minCandidateNodesPercentage (default 10, 0-100) and
minCandidateNodesAbsolute (default 100, >= 0), not both 0: the dry run stops once it has
max(percentage of the potential nodes, absolute) candidates, one of them violating no
budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from kubelite.scheduler.config_args import decode_args
from kubelite.scheduler.config_decode import Struct
from kubelite.scheduler.config_errors import ArgsError, FieldError, invalid
from kubelite.scheduler.diagnosis import Diagnosis
from kubelite.scheduler.framework import Obj, Status
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.evaluator import Evaluator
from kubelite.scheduler.preemption import PostFilterResult, PreemptionHandle

if TYPE_CHECKING:
    from kubelite.client.store import Lister

PDBS = "poddisruptionbudgets"


ARGS = Struct("v1.DefaultPreemptionArgs", {"minCandidateNodesPercentage": "int32",
                                           "minCandidateNodesAbsolute": "int32"})


def validate_args(percentage: int, absolute: int) -> list[FieldError]:
    """Upstream's ValidateDefaultPreemptionArgs, in its words."""
    errors = []
    if not 0 <= percentage <= 100:
        errors.append(invalid("minCandidateNodesPercentage", percentage, "not in valid range [0, 100]"))
    if absolute < 0:
        errors.append(invalid("minCandidateNodesAbsolute", absolute, "not in valid range [0, inf)"))
    if percentage == 0 and absolute == 0:
        errors += [invalid("minCandidateNodesPercentage", 0,
                           "cannot be zero at the same time as minCandidateNodesAbsolute"),
                   invalid("minCandidateNodesAbsolute", 0,
                           "cannot be zero at the same time as minCandidateNodesPercentage")]
    return errors


class DefaultPreemption:
    name: ClassVar[str] = "DefaultPreemption"
    watches: ClassVar[tuple[str, ...]] = (PDBS,)

    def __init__(self, *, min_candidate_nodes_percentage: int = 10,
                 min_candidate_nodes_absolute: int = 100) -> None:
        self.evaluator = Evaluator(min_candidate_nodes_percentage=min_candidate_nodes_percentage,
                                   min_candidate_nodes_absolute=min_candidate_nodes_absolute)
        self._pdbs: Lister | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> DefaultPreemption:
        """From a DefaultPreemptionArgs object (unset fields take upstream's defaults);
        ArgsError with upstream's field errors if they are out of range."""
        errors = decode_args(args, ARGS)
        percentage = args.get("minCandidateNodesPercentage")
        absolute = args.get("minCandidateNodesAbsolute")
        percentage = 10 if percentage is None else int(percentage)
        absolute = 100 if absolute is None else int(absolute)
        errors += validate_args(percentage, absolute)
        if errors:
            raise ArgsError(errors)
        return cls(min_candidate_nodes_percentage=percentage, min_candidate_nodes_absolute=absolute)

    def use_listers(self, listers: Mapping[str, Lister]) -> None:
        self._pdbs = listers.get(PDBS)

    def post_filter(self, pod: Obj, nodes: NodeTable, diagnosis: Diagnosis,
                    handle: PreemptionHandle) -> tuple[PostFilterResult | None, Status]:
        pdbs = self._pdbs.list() if self._pdbs is not None else []
        result, status = self.evaluator.preempt(pod, nodes, diagnosis, handle, pdbs)
        if status.reasons:
            status = Status(status.code, (f"preemption: {status.message()}",), self.name)
        return result, status
