"""One scheduling cycle for one pod: PreFilter, Filter, PreScore, Score, NormalizeScore,
then the best node, as upstream's schedulePod (pkg/scheduler/schedule_one.go).

Every Filter plugin judges all nodes at once; a node's status comes from the first plugin
(in profile order) that rejects it, as upstream stops at the first failure. Then, walking the
nodes from a rotating start index, the first `num_feasible_nodes_to_find` feasible nodes are
taken and scoring stops there (percentageOfNodesToScore); the nodes walked past count as
processed, and the next cycle starts after them, so successive pods spread over the cluster.
Rejections are reported only for processed nodes, as upstream's Diagnosis.

Scores are summed with the profile's weights; ties between the best nodes are broken at
random by the Scheduler's seedable generator. A pod that fits nowhere raises FitError, whose
message is upstream's: "0/3 nodes are available: 1 node(s) ..., 2 Insufficient cpu.", after
the PostFilter plugins (preemption) have had their say: the node they nominate, or their
"preemption: ..." sentence appended to the message.

Nominated pods (preemption's promises, from the queue's Nominator) hold their room: Filter
runs a second time with the pods nominated with at least this pod's priority counted on
their nodes, and a node with such pods fits only if it fits both with and without them
(upstream's RunFilterPluginsWithNominatedPods). A pod nominated to a node that fits takes
it without scoring, as upstream tries the nominated node first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kubelite.scheduler.event_handlers import DEFAULT_SCHEDULER_NAME
from kubelite.scheduler.diagnosis import Diagnosis, availability_message
from kubelite.scheduler.framework import Code, CycleState, Obj, Status
from kubelite.scheduler.node_table import NodeTable, pod_key
from kubelite.scheduler.nominator import Nominator
from kubelite.scheduler.plugins import DEFAULT_PLUGINS, REGISTRY
from kubelite.scheduler.preemption import PostFilterResult
from kubelite.scheduler.queued_pod import pod_priority

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


def num_feasible_nodes_to_find(num_all_nodes: int, percentage_of_nodes_to_score: int = 0) -> int:
    """How many feasible nodes to find before scoring (upstream's numFeasibleNodesToFind).

    0 means adaptive: 50% minus 1% per 125 nodes, at least 5%; never fewer than 100 nodes.
    Go's int32 arithmetic truncates, and so does this.
    """
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    percentage = percentage_of_nodes_to_score
    if percentage == 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    found = num_all_nodes * percentage // 100
    return max(found, MIN_FEASIBLE_NODES_TO_FIND)


class SchedulingError(Exception):
    """A plugin answered Error, or the pod cannot be read (a malformed quantity): not a
    statement that the pod does not fit, so the caller retries with backoff, as upstream."""


@dataclass(slots=True)
class FitError(Exception):
    """No node can run the pod: how many nodes there were and how many said each reason."""

    pod: str
    num_all_nodes: int
    reasons: Counter[str] = field(default_factory=Counter)
    pre_filter_message: str = ""
    unschedulable_plugins: set[str] = field(default_factory=set)
    diagnosis: Diagnosis | None = None  # each node's status, for PostFilter
    post_filter_message: str = ""  # "preemption: ..." unless preemption succeeded
    post_filter: PostFilterResult | None = None  # None: leave any nomination as it is

    def __str__(self) -> str:
        if self.pre_filter_message:
            message = f"0/{self.num_all_nodes} nodes are available: {self.pre_filter_message}."
        else:
            message = availability_message(self.num_all_nodes, self.reasons)
        return f"{message} {self.post_filter_message}" if self.post_filter_message else message


@dataclass(slots=True)
class Profile:
    """Plugins by extension point, in order, with score weights (upstream's default profile
    unless told otherwise), for the pods whose spec.schedulerName is `scheduler_name`.

    `points` maps an extension point's method name (`pre_filter`, `filter`, `score`,
    `post_filter`, ...) to its plugins in the order they run; a configuration file builds
    it (scheduler/config.py). Without it, every plugin that has the method runs there, in
    `plugins` order, which is how the default profile is written."""

    plugins: list[Any]
    weights: dict[str, int]
    percentage_of_nodes_to_score: int = 0
    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    points: dict[str, list[Any]] | None = None

    @classmethod
    def default(cls, *, percentage_of_nodes_to_score: int = 0, **overrides: Any) -> Profile:
        plugins = [overrides.get(name) or REGISTRY[name]() for name, _ in DEFAULT_PLUGINS]
        return cls(plugins, {name: weight for name, weight in DEFAULT_PLUGINS if weight},
                   percentage_of_nodes_to_score)

    def at(self, method: str) -> list[Any]:
        if self.points is not None:
            return self.points.get(method, [])
        return [p for p in self.plugins if hasattr(p, method)]


@dataclass(slots=True)
class ScheduleResult:
    node: str
    evaluated_nodes: int
    feasible_nodes: int


class Scheduler:
    """Holds what lives across cycles: the rotating start index and the tie-break generator."""

    def __init__(self, profile: Profile | None = None, *, seed: int | None = None) -> None:
        self.profile = profile or Profile.default()
        self.next_start_node_index = 0
        self.rng = np.random.default_rng(seed)
        self.nominator: Nominator | None = None  # the queue's, set by the loop

    def schedule_one(self, pod: Obj, nodes: NodeTable,
                     state: CycleState | None = None) -> ScheduleResult:
        """The node to bind `pod` to; FitError if none fits (after PostFilter),
        SchedulingError on a plugin Error. `state` is the cycle's CycleState when the
        caller goes on to Reserve and bind."""
        try:
            try:
                return self._schedule(pod, nodes, state or CycleState())
            except FitError as error:
                if error.diagnosis is not None:  # None: no nodes at all
                    self._post_filter(pod, nodes, error, error.diagnosis)
                raise
        except (ValueError, TypeError, OverflowError) as error:
            raise SchedulingError(f"cannot schedule pod: {error}") from error

    def _post_filter(self, pod: Obj, nodes: NodeTable, error: FitError,
                     diagnosis: Diagnosis) -> None:
        """Upstream's RunPostFilterPlugins: the first plugin that succeeds (or fails with
        Error or UnschedulableAndUnresolvable) decides; otherwise their messages add up and
        the last result that changes the nomination stands."""
        messages: list[str] = []
        for plugin in self.profile.at("post_filter"):
            result, status = plugin.post_filter(pod, nodes, diagnosis, self)
            if status.is_success() or not status.is_rejected() or (
                    status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE):
                error.post_filter, error.post_filter_message = result, status.message()
                return
            if result is not None:
                error.post_filter = result
            messages += status.reasons
        error.post_filter_message = ", ".join(messages)

    # --- what preemption asks of the cycle (preemption.PreemptionHandle) ----------------

    def filter_nodes(self, pod: Obj, nodes: NodeTable) -> Diagnosis:
        """PreFilter and Filter, nominated pods counted, over the table as it is now."""
        state = CycleState()
        rejection = self._pre_filter(state, pod, nodes)
        if rejection is not None:
            return Diagnosis(len(nodes), pre_filter=rejection)
        return self._filter(state, pod, nodes)

    def nominated_pods_for_node(self, node: str) -> list[Obj]:
        return self.nominator.pods_for_node(node) if self.nominator is not None else []

    def nominated_node(self, pod: Obj) -> str:
        written = (pod.get("status") or {}).get("nominatedNodeName")
        if written:
            return str(written)
        return (self.nominator.node_of(pod) if self.nominator is not None else None) or ""

    def _schedule(self, pod: Obj, nodes: NodeTable, state: CycleState) -> ScheduleResult:
        name = f"{(pod.get('metadata') or {}).get('namespace', '')}/{(pod.get('metadata') or {}).get('name', '')}"
        n = len(nodes)
        if n == 0:
            raise FitError(name, 0)
        rejection = self._pre_filter(state, pod, nodes)
        if rejection is not None:
            raise FitError(name, n, pre_filter_message=rejection.message(),
                           unschedulable_plugins={rejection.plugin},
                           diagnosis=Diagnosis(n, pre_filter=rejection))
        diagnosis = self._filter(state, pod, nodes)
        feasible = diagnosis.feasible()
        nominated = nodes.row_of.get(self.nominated_node(pod))
        if nominated is not None and feasible[nominated]:
            return ScheduleResult(nodes.names[nominated], 1, 1)

        rows, processed = self._take_feasible(feasible, n)
        if rows.size == 0:
            raise FitError(name, n, diagnosis.reasons(processed),
                           unschedulable_plugins=diagnosis.plugins_rejecting(processed),
                           diagnosis=diagnosis)

        if rows.size == 1:  # upstream skips scoring when only one node fits
            return ScheduleResult(nodes.names[int(rows[0])], int(processed.sum()), 1)
        total = np.zeros(rows.size, dtype=np.int64)
        for plugin in self.profile.at("pre_score"):
            status = plugin.pre_score(state, pod, nodes, rows)
            if status.is_skip():
                state.skip_score.add(plugin.name)
            elif not status.is_success():
                raise SchedulingError(f"running PreScore plugin {plugin.name}: {status.message()}")
        for plugin in self.profile.at("score"):
            weight = self.profile.weights.get(plugin.name, 0)
            if plugin.name in state.skip_score or weight == 0:
                continue
            scores = plugin.score(state, pod, nodes, rows)
            if hasattr(plugin, "normalize_score"):
                scores = plugin.normalize_score(state, pod, scores)
            total += scores * weight
        best = np.flatnonzero(total == total.max())
        chosen = int(rows[best[int(self.rng.integers(best.size))]])
        return ScheduleResult(nodes.names[chosen], int(processed.sum()), int(rows.size))

    def _take_feasible(self, feasible: Any, n: int) -> tuple[Any, Any]:
        """The first feasible rows in rotated order, and which rows were walked past."""
        wanted = num_feasible_nodes_to_find(n, self.profile.percentage_of_nodes_to_score)
        start = self.next_start_node_index % n
        # the walk from `start`, wrapping around: two slices, no index arithmetic
        hits = np.flatnonzero(np.concatenate((feasible[start:], feasible[:start])))
        # upstream stops when it meets one feasible node too many; the nodes before that
        # one (the wanted feasible ones and the rejected ones among them) were processed
        walked = n if hits.size <= wanted else int(hits[wanted])
        processed = np.zeros(n, dtype=np.bool_)
        end = start + walked
        processed[start:min(end, n)] = True
        processed[:max(end - n, 0)] = True
        self.next_start_node_index = end % n
        taken = hits[:wanted] + start
        return np.where(taken >= n, taken - n, taken), processed

    def _pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status | None:
        """Runs PreFilter; the rejecting Status (with its plugin), or None."""
        for plugin in self.profile.at("pre_filter"):
            status: Status = plugin.pre_filter(state, pod, nodes)
            if status.is_skip():
                state.skip_filter.add(plugin.name)
            elif status.is_rejected():
                return Status(status.code, status.reasons, plugin.name)
            elif not status.is_success():
                raise SchedulingError(f"running PreFilter plugin {plugin.name}: {status.message()}")
        return None

    def _run_filter_plugins(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Diagnosis:
        diagnosis = Diagnosis(len(nodes))
        feasible = None  # every row, until a plugin rejects one
        for plugin in self.profile.at("filter"):
            if plugin.name in state.skip_filter:
                continue
            verdict = plugin.filter(state, pod, nodes)
            if not verdict.rejections:
                continue  # the usual answer: every node passes
            rejected = verdict.rejected()
            first_to_reject = rejected if feasible is None else rejected & feasible
            if first_to_reject.any():
                diagnosis.verdicts.append((plugin.name, verdict, first_to_reject))
                feasible = ~first_to_reject if feasible is None else feasible & ~first_to_reject
        return diagnosis

    def _filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Diagnosis:
        """Filter over all rows, then again with the nominated pods of at least this
        pod's priority counted on their nodes: a row holding such pods keeps the first
        rejection of that pass, else the plain pass's status. All nominated pods are
        counted at once, which is upstream's per-node pass exactly for plugins that judge
        a node by its own pods."""
        plain = self._run_filter_plugins(state, pod, nodes)
        nominated = self._nominated_pods(pod, nodes)
        if not nominated:
            return plain
        held = np.zeros(len(nodes), dtype=np.bool_)
        try:
            for other, node in nominated:
                held[nodes.row_of[node]] = True
                nodes.assume_pod(other, node)
            # PreFilter again: its state may count pods (upstream's AddPod extensions)
            state = CycleState()
            rejection = self._pre_filter(state, pod, nodes)
            with_nominated = (Diagnosis(len(nodes), pre_filter=rejection) if rejection
                              else self._run_filter_plugins(state, pod, nodes))
        finally:
            for other, _ in nominated:
                nodes.remove_pod(pod_key(other))
        return Diagnosis.merged(plain, with_nominated, held & with_nominated.rejected())

    def _nominated_pods(self, pod: Obj, nodes: NodeTable) -> list[tuple[Obj, str]]:
        """Pods nominated to nodes of the table with at least `pod`'s priority (not
        `pod` itself, nor a pod the table already counts)."""
        if self.nominator is None:
            return []
        priority, key = pod_priority(pod), pod_key(pod)
        return [(other, node) for node in list(self.nominator.nominated_nodes())
                if node in nodes.row_of
                for other in self.nominator.pods_for_node(node)
                if pod_priority(other) >= priority and pod_key(other) != key
                and nodes.pod(pod_key(other)) is None]


def schedule_one(pod: Obj, nodes: NodeTable, scheduler: Scheduler | None = None) -> ScheduleResult:
    """One cycle with a fresh default Scheduler unless one is given (its start index and
    random generator carry over between calls)."""
    return (scheduler or Scheduler()).schedule_one(pod, nodes)


__all__ = ["Code", "FitError", "SchedulingError", "Profile", "ScheduleResult", "Scheduler", "num_feasible_nodes_to_find",
           "schedule_one"]
