"""Upstream's replica_calculator_test.go cases (names kept), with one container per pod:
usage and requests scale alike, so the counts and percents are upstream's."""

from __future__ import annotations

import datetime

import pytest

from kubelite.controllers.podautoscaler_replicas import (
    NoProposal, PodMetric, Proposal, resource_replicas)
from kubelite.machinery.timestamps import format_time

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
COOL = NOW - datetime.timedelta(hours=1)  # started long ago: past the CPU initialization


def pods(count: int, *, requests: list[str] | None = None, ready: str = "",
         phases: list[str] | None = None, started: list[datetime.datetime] | None = None,
         deleted: list[bool] | None = None) -> list[dict[str, object]]:
    out = []
    for i in range(count):
        start = (started or [COOL] * count)[i]
        meta: dict[str, object] = {"name": f"p-{i}"}
        if deleted and deleted[i]:
            meta["deletionTimestamp"] = format_time(NOW)
        out.append({
            "metadata": meta,
            "spec": {"containers": [{"name": "app", "resources": {"requests": {
                "cpu": (requests or ["1.0"] * count)[i],
                "memory": (requests or ["1.0"] * count)[i]}}}]},
            "status": {"phase": (phases or ["Running"] * count)[i],
                       "startTime": format_time(start),
                       "conditions": [{"type": "Ready",
                                       "status": "False" if ready[i:i + 1] == "F" else "True",
                                       "lastTransitionTime": format_time(start)}]}})
    return out


def levels(*values: int, at: datetime.datetime = NOW) -> dict[str, PodMetric]:
    return {f"p-{i}": PodMetric(v, at, 60.0) for i, v in enumerate(values)}


@pytest.mark.parametrize("current, pod_list, metrics, target, expected", [
    pytest.param(3, pods(3), levels(300, 500, 700), 30, (5, 50, 500), id="ScaleUp"),
    pytest.param(3, pods(3, ready="FTT"), levels(300, 500, 700), 30, (4, 60, 600),
                 id="ScaleUpUnreadyLessScale"),
    pytest.param(3, pods(3, ready="FFT"), levels(300, 500, 700), 30, (3, 70, 700),
                 id="ScaleUpUnreadyNoScaleWouldScaleDown"),
    pytest.param(5, pods(5), levels(100, 300, 500, 250, 250), 50, (3, 28, 280),
                 id="ScaleDown"),
    pytest.param(5, pods(7, phases=["Running"] * 5 + ["Failed"] * 2),
                 levels(100, 300, 500, 250, 250), 50, (3, 28, 280),
                 id="ScaleDownExcludeFailedPods"),
    pytest.param(5, pods(7, deleted=[False] * 5 + [True] * 2),
                 levels(100, 300, 500, 250, 250), 50, (3, 28, 280),
                 id="ScaleDownExcludeDeletedPods"),
    pytest.param(5, pods(7, phases=["Running"] * 5 + ["Pending"] * 2),
                 levels(100, 300, 500, 250, 250), 50, (3, 28, 280),
                 id="ScaleDownIgnoresPendingPods"),
    pytest.param(3, pods(3, requests=["0.9", "1.0", "1.1"]), levels(1010, 1030, 1020), 100,
                 (3, 102, 1020), id="Tolerance"),
    pytest.param(2, pods(2), levels(1000), 100, (2, 100, 1000),
                 id="MissingMetricsNoChangeEq"),
    pytest.param(2, pods(2), levels(1900), 100, (2, 190, 1900),
                 id="MissingMetricsScaleUpWithinToleranceOnceCounted"),
    pytest.param(2, pods(2), levels(2500), 100, (3, 250, 2500), id="MissingMetricsScaleUp"),
    pytest.param(4, pods(4), levels(400, 95), 100, (3, 24, 247),
                 id="MissingMetricsScaleDown"),
    pytest.param(3, pods(3, ready="FTT"), levels(100, 450), 50, (3, 45, 450),
                 id="MissingMetricsUnreadyNoChange"),
    pytest.param(3, pods(3, ready="FTT"), levels(100, 2000), 50, (4, 200, 2000),
                 id="MissingMetricsUnreadyScaleUp"),
    pytest.param(4, pods(4, ready="FTTT"), levels(100, 100, 100), 50, (3, 10, 100),
                 id="MissingMetricsUnreadyScaleDown"),
])
def test_utilization_targets_propose_upstreams_counts(
        current: int, pod_list: list[dict[str, object]], metrics: dict[str, PodMetric],
        target: int, expected: tuple[int, int, int]) -> None:
    proposal = resource_replicas(current, pod_list, metrics, "cpu", NOW, utilization=target)
    assert (proposal.replicas, proposal.utilization, proposal.raw) == expected


@pytest.mark.parametrize("current, pod_list, metrics, target, expected", [
    pytest.param(2, pods(2), levels(400, 600), 250, (4, 500), id="scale-up"),
    pytest.param(4, pods(4), levels(100, 100, 100, 100), 200, (2, 100), id="scale-down"),
    pytest.param(3, pods(3), levels(210, 190, 200), 200, (3, 200), id="within-tolerance"),
    pytest.param(3, pods(3), levels(100, 100), 200, (2, 100),
                 id="missing-assumed-at-target-when-scaling-down"),
    pytest.param(3, pods(3), levels(500, 500), 200, (5, 500),
                 id="missing-assumed-at-zero-when-scaling-up"),
])
def test_average_value_targets_propose_upstreams_counts(
        current: int, pod_list: list[dict[str, object]], metrics: dict[str, PodMetric],
        target: int, expected: tuple[int, int]) -> None:
    proposal = resource_replicas(current, pod_list, metrics, "memory", NOW,
                                 average_value=target)
    assert (proposal.replicas, proposal.raw) == expected
    assert proposal.utilization is None


@pytest.mark.parametrize("pod_list, metrics, message", [
    pytest.param([], levels(1), "no pods returned by selector while calculating replica count",
                 id="no-pods"),
    pytest.param(pods(2, ready="FF"), levels(100, 100),
                 r"did not receive metrics for targeted pods \(pods might be unready\)",
                 id="all-unready"),
    pytest.param(pods(2), {}, r"did not receive metrics for targeted pods", id="no-metrics"),
    pytest.param([{**pods(1)[0], "spec": {"containers": [{"name": "app"}]}}], levels(100),
                 "missing request for cpu in container app of Pod p-0", id="no-request"),
])
def test_no_proposal_says_why_as_upstream(pod_list: list[dict[str, object]],
                                          metrics: dict[str, PodMetric], message: str) -> None:
    with pytest.raises(NoProposal, match=message):
        resource_replicas(2, pod_list, metrics, "cpu", NOW, utilization=50)


def test_a_memory_target_ignores_readiness() -> None:
    proposal = resource_replicas(3, pods(3, ready="FTT", requests=["1"] * 3),
                                 levels(300, 500, 700), "memory", NOW, utilization=30)
    assert proposal == Proposal(5, 50, 500, NOW)


def test_a_hot_pod_whose_sample_predates_its_readiness_is_unready() -> None:
    recent = NOW - datetime.timedelta(seconds=30)
    pod_list = pods(2, started=[recent, COOL])
    # sampled 30 s after the Ready transition, with a 60 s window: it may predate it
    proposal = resource_replicas(2, pod_list, levels(3000, 500), "cpu", NOW, utilization=50)
    assert (proposal.replicas, proposal.utilization) == (2, 50)
