from __future__ import annotations

import datetime
import json

import pytest

from kubelite.kubelet.simulated.usage import (
    NODE_BASE_CPU, NODE_BASE_MEMORY, USAGE, CpuCounters, Usage, container_usage,
    resource_metrics)
from kubelite.machinery.prometheus import parse

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
STARTED = "2025-12-31T23:59:50Z"  # ten seconds before T0


def pod(usage: object = None, containers: tuple[str, ...] = ("app",),
        sidecars: tuple[str, ...] = (), name: str = "web", started: str = STARTED
        ) -> dict[str, object]:
    annotations = {USAGE: usage if isinstance(usage, str) else json.dumps(usage)} \
        if usage is not None else {}
    return {
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}",
                     "annotations": annotations},
        "spec": {"containers": [{"name": c} for c in containers],
                 "initContainers": [{"name": "init"}] + [
                     {"name": s, "restartPolicy": "Always"} for s in sidecars]},
        "status": {"phase": "Running",
                   "initContainerStatuses": [
                       {"name": "init", "state": {"terminated": {"exitCode": 0}}}] + [
                       {"name": s, "state": {"running": {"startedAt": started}}}
                       for s in sidecars],
                   "containerStatuses": [{"name": c, "state": {"running": {"startedAt": started}}}
                                         for c in containers]},
    }


@pytest.mark.parametrize("manifest, expected", [
    pytest.param(pod(), {"app": Usage()}, id="no-annotation-uses-nothing"),
    pytest.param(pod({"cpu": "250m", "memory": "64Mi"}),
                 {"app": Usage(250_000_000, 64 << 20)}, id="pod-wide-one-container"),
    pytest.param(pod({"cpu": "1", "memory": "3"}, containers=("a", "b"), sidecars=("s",)),
                 {"s": Usage(333_333_334, 1), "a": Usage(333_333_333, 1),
                  "b": Usage(333_333_333, 1)}, id="pod-wide-split-evenly-sum-exact"),
    pytest.param(pod({"a": {"cpu": "200m"}, "s": {"memory": "1Ki"}}, containers=("a", "b"),
                     sidecars=("s",)),
                 {"s": Usage(0, 1024), "a": Usage(200_000_000, 0), "b": Usage()},
                 id="per-container-unnamed-use-nothing"),
    pytest.param(pod({"cpu": "1n"}), {"app": Usage(1, 0)}, id="nanocores"),
])
def test_the_usage_annotation_says_what_each_container_uses(
        manifest: dict[str, object], expected: dict[str, Usage]) -> None:
    assert container_usage(manifest) == expected


@pytest.mark.parametrize("text, message", [
    pytest.param("{", "not JSON", id="not-json"),
    pytest.param("[1]", "JSON object", id="not-an-object"),
    pytest.param('{"cpu": "lots"}', "cpu 'lots' is not a usable quantity", id="bad-quantity"),
    pytest.param('{"cpu": "-1"}', "negative", id="negative"),
    pytest.param('{"gpu": "1"}', "expected", id="unknown-resource"),
    pytest.param('{"other": {"cpu": "1"}}', "no running container named other",
                 id="unknown-container"),
])
def test_malformed_usage_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        container_usage(pod(text))


def samples(text: str) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels.get("pod", "")): s.value for s in parse(text)}


def test_resource_metrics_report_containers_and_the_node() -> None:
    counters = CpuCounters()
    pods = [pod({"cpu": "500m", "memory": "64Mi"}, name="a"),
            pod({"cpu": "250m", "memory": "1Mi"}, name="b")]
    first = samples(resource_metrics("n1", pods, counters, T0))
    # new containers count from their start, ten seconds earlier
    assert first[("container_cpu_usage_seconds_total", "a")] == pytest.approx(5.0)
    assert first[("container_memory_working_set_bytes", "a")] == 64 << 20
    assert first[("container_start_time_seconds", "b")] == T0.timestamp() - 10
    assert first[("node_memory_working_set_bytes", "")] == NODE_BASE_MEMORY + (65 << 20)
    assert first[("resource_scrape_error", "")] == 0
    later = samples(resource_metrics("n1", pods, counters, T0 + datetime.timedelta(seconds=4)))
    assert later[("container_cpu_usage_seconds_total", "a")] == pytest.approx(7.0)
    assert later[("container_cpu_usage_seconds_total", "b")] == pytest.approx(3.5)
    node_rate = (later[("node_cpu_usage_seconds_total", "")]
                 - first[("node_cpu_usage_seconds_total", "")]) / 4
    assert node_rate == pytest.approx((NODE_BASE_CPU + 750_000_000) / 1e9)


def test_a_restarted_container_counts_from_zero_and_gone_ones_are_forgotten() -> None:
    counters = CpuCounters()
    resource_metrics("n1", [pod({"cpu": "1"}, name="a"), pod({"cpu": "1"}, name="b")],
                     counters, T0)
    assert len(counters) == 3  # a, b and the node
    restarted = pod({"cpu": "1"}, name="a", started="2026-01-01T00:00:01Z")
    out = samples(resource_metrics("n1", [restarted], counters,
                                   T0 + datetime.timedelta(seconds=3)))
    assert out[("container_cpu_usage_seconds_total", "a")] == pytest.approx(2.0)
    assert len(counters) == 2


def test_a_malformed_annotation_reports_a_scrape_error_and_no_usage() -> None:
    out = samples(resource_metrics("n1", [pod("{")], CpuCounters(), T0))
    assert out[("resource_scrape_error", "")] == 1
    assert out[("container_memory_working_set_bytes", "web")] == 0
