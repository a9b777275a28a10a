"""The scheduling framework's words: Status, CycleState, Verdict and the plugin Protocols.

Shaped like kube-scheduler's framework (`pkg/scheduler/framework/interface.go`), with one
change of grain: a Filter or Score plugin judges every candidate node of the `NodeTable` at
once, over numpy columns, instead of being called once per node. A Filter returns a `Verdict`
(which nodes it rejects and why, each rejection a mask plus reasons); a Score returns one
int64 score per node index it is given.

Plugins of the scheduling cycle are synchronous and pure: they read the table and the
CycleState, do no I/O, and give upstream's reason string for every rejection, because those
strings are what users read in "0/3 nodes are available: 1 node(s) had untolerated taint
{k: v}, 2 Insufficient cpu.". Reserve and Permit run at the end of that cycle, synchronously
too. PreBind and Bind belong to the binding cycle, a task per pod: they are coroutines and may
write to the API (bind volumes, POST pods/binding) through the `Handle`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kubelite.client.store import Lister
    from kubelite.scheduler.binding_cycle import Handle
    from kubelite.scheduler.node_table import NodeTable

Obj = dict[str, Any]
Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.int64]
Rows = npt.NDArray[np.intp]

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0


class Code(enum.IntEnum):
    """Upstream's status codes, with their numbers."""

    SUCCESS = 0
    ERROR = 1  # a bug or an outage, not an answer about the pod
    UNSCHEDULABLE = 2  # an expected "no" that preemption might turn into a "yes"
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3  # a "no" that no preemption can change
    WAIT = 4
    SKIP = 5  # from PreFilter/PreScore: the plugin has nothing to say about this pod


@dataclass(frozen=True, slots=True)
class Status:
    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""
    # the exception behind an Error (upstream's AsStatus), for callers that must tell a
    # NotFound from an outage; never part of the message's identity
    error: BaseException | None = field(default=None, compare=False)

    @classmethod
    def success(cls) -> Status:
        return _SUCCESS

    @classmethod
    def skip(cls) -> Status:
        return _SKIP

    @classmethod
    def from_error(cls, error: BaseException, plugin: str = "") -> Status:
        return cls(Code.ERROR, (str(error),), plugin, error)

    def is_wait(self) -> bool:
        return self.code == Code.WAIT

    def is_success(self) -> bool:
        return self.code == Code.SUCCESS

    def is_skip(self) -> bool:
        return self.code == Code.SKIP

    def is_rejected(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    def message(self) -> str:
        return ", ".join(self.reasons)


_SUCCESS = Status()
_SKIP = Status(Code.SKIP)


class CycleState:
    """Per-pod scratch space shared by the plugins of one scheduling cycle.

    Written by PreFilter/PreScore once per cycle so Filter/Score never recompute a pod's
    requests per node. Keys are plugin names (or `<plugin>/<what>`); reading a key that was
    never written is a bug in the plugin order and raises KeyError.
    """

    __slots__ = ("_data", "skip_filter", "skip_score")

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self.skip_filter: set[str] = set()  # plugins whose PreFilter answered Skip
        self.skip_score: set[str] = set()  # plugins whose PreScore answered Skip

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value

    def __contains__(self, key: str) -> bool:
        return key in self._data


@dataclass(frozen=True, slots=True)
class Rejection:
    """Nodes (a mask over the table's rows) one plugin rejects for one reason."""

    mask: Mask
    reason: str
    code: Code = Code.UNSCHEDULABLE


@dataclass(slots=True)
class Verdict:
    """A Filter's answer for every node of the table: the union of its rejections.

    A node in several rejections of one plugin carries all their reasons, as upstream's
    NodeResourcesFit reports "Insufficient cpu" and "Insufficient memory" together.
    """

    size: int
    rejections: list[Rejection] = field(default_factory=list)

    def reject(self, mask: Mask, reason: str, code: Code = Code.UNSCHEDULABLE) -> None:
        if mask.any():
            self.rejections.append(Rejection(mask, reason, code))

    def rejected(self) -> Mask:
        out = np.zeros(self.size, dtype=np.bool_)
        for rejection in self.rejections:
            out |= rejection.mask
        return out

    def status_of(self, row: int, plugin: str) -> Status:
        """The upstream Status this plugin would have returned for one node."""
        hits = [r for r in self.rejections if r.mask[row]]
        if not hits:
            return Status.success()
        return Status(max(r.code for r in hits), tuple(r.reason for r in hits), plugin)


class Plugin(Protocol):
    name: ClassVar[str]


class ListerUser(Plugin, Protocol):
    """A plugin that reads resources other than pods and nodes (claims, volumes, disruption
    budgets), as upstream's plugins take listers from the SharedInformerFactory.

    The scheduler starts one informer per resource named in `watches` (anything
    `kubelite.client.resource.resolve` takes, e.g. "persistentvolumeclaims"), waits for them
    to sync, and hands the plugin their listers before the first cycle of each term.
    """

    watches: ClassVar[tuple[str, ...]]

    def use_listers(self, listers: Mapping[str, Lister]) -> None: ...


class PreEnqueuePlugin(Plugin, Protocol):
    def pre_enqueue(self, pod: Obj) -> Status:
        """Called before a pod enters the active queue; a non-success keeps it out."""
        ...


class QueueSortPlugin(Plugin, Protocol):
    def less(self, pod1: Obj, queued1: float, pod2: Obj, queued2: float) -> bool:
        """Whether pod1 (queued at time queued1) is scheduled before pod2."""
        ...


class PreFilterPlugin(Plugin, Protocol):
    def pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status:
        """Once per cycle. Skip: this plugin's Filter is not run for the pod; a rejection
        makes the pod unschedulable on every node; Error aborts the cycle."""
        ...


class FilterPlugin(Plugin, Protocol):
    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        """Which rows of the table cannot run the pod, and why. Must not change state."""
        ...


class PreScorePlugin(Plugin, Protocol):
    def pre_score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Status:
        """Once per cycle, with the feasible rows. Skip: Score is not run for the pod."""
        ...


class ScorePlugin(Plugin, Protocol):
    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        """One raw score per row in `rows`, in that order."""
        ...


class NormalizeScorePlugin(ScorePlugin, Protocol):
    def normalize_score(self, state: CycleState, pod: Obj, scores: Scores) -> Scores:
        """Scores brought to [0, MAX_NODE_SCORE], over the feasible nodes only."""
        ...


def default_normalize_score(scores: Scores, *, reverse: bool) -> Scores:
    """Upstream's helper.DefaultNormalizeScore: scale to the largest score (Go's integer
    division), optionally reversed so that fewer is better."""
    highest = int(scores.max()) if scores.size else 0
    if highest == 0:
        return np.full_like(scores, MAX_NODE_SCORE if reverse else 0)
    scaled = MAX_NODE_SCORE * scores // highest  # scores are never negative here
    return (MAX_NODE_SCORE - scaled) if reverse else scaled


class HandleUser(Plugin, Protocol):
    """A plugin that needs the framework handle (the API client, the waiting pods), as
    upstream's plugins keep the Handle given to their factory. `use_handle` is called once,
    when the KubeScheduler running the profile is built."""

    def use_handle(self, handle: Handle) -> None: ...


class ReservePlugin(Plugin, Protocol):
    """Called at the end of the scheduling cycle, once a node is chosen and the pod assumed
    on it, so a plugin can hold what it decided (volumes it will bind) before the next pod
    is scheduled."""

    def reserve(self, state: CycleState, pod: Obj, node: str) -> Status:
        """A non-success stops the cycle: every reserve plugin's Unreserve runs (in reverse
        order) and the pod goes back to the queue."""
        ...

    def unreserve(self, state: CycleState, pod: Obj, node: str) -> None:
        """Undo `reserve`. Must be idempotent and must not fail: it also runs for a pod
        whose Reserve was never called or failed, whenever a later step fails."""
        ...


class PermitPlugin(Plugin, Protocol):
    def permit(self, state: CycleState, pod: Obj, node: str) -> tuple[Status, float]:
        """Last word of the scheduling cycle: Success, a rejection, or Wait with a timeout
        in seconds (capped at 15 minutes); a waiting pod is allowed or rejected through the
        Handle's waiting pods, and rejected by itself when the timeout expires."""
        ...


class PreBindPlugin(Plugin, Protocol):
    async def pre_bind(self, state: CycleState, pod: Obj, node: str) -> Status:
        """In the binding cycle, before Bind: prepare what the pod needs on the node (bind
        its volumes). A non-success unreserves the pod and sends it back through backoff."""
        ...


class BindPlugin(Plugin, Protocol):
    async def bind(self, state: CycleState, pod: Obj, node: str) -> Status:
        """Bind the pod to the node, or answer Skip to leave it to the next Bind plugin."""
        ...


class PostBindPlugin(Plugin, Protocol):
    def post_bind(self, state: CycleState, pod: Obj, node: str) -> None:
        """Informational, after a successful bind (clean up what was kept for the pod)."""
        ...
