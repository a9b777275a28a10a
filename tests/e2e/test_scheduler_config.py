"""`kubelite server --scheduler-config FILE`, seen by real kubectl: a pod naming the second
profile is placed by it, and its failures are signed with that profile's name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import Cluster, wait_for

CONFIGURATION = """apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
"""


@pytest.fixture
def profiled_cluster(tmp_path: Path) -> Iterator[Cluster]:
    path = tmp_path / "scheduler.yaml"
    path.write_text(CONFIGURATION)
    c = Cluster(tmp_path / "cluster", extra_args=(
        "--simulated-nodes", "2", "--node-cpu", "4", "--scheduler-config", str(path)))
    c.start()
    yield c
    c.stop()


def pod(name: str, cpu: str) -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"schedulerName": "bin-packing", "containers": [
            {"name": "app", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]}})


def test_the_second_profile_schedules_its_pods(profiled_cluster: Cluster) -> None:
    profiled_cluster.kubectl("create", "-f", "-", input=pod("packed", "1"))
    profiled_cluster.kubectl("wait", "--for=condition=Ready", "pod/packed", "--timeout=30s")
    profiled_cluster.kubectl("create", "-f", "-", input=pod("huge", "64"))

    def failed_scheduling() -> list[dict[str, object]]:
        events = json.loads(profiled_cluster.kubectl(
            "get", "events", "--field-selector", "involvedObject.name=huge", "-o", "json").stdout)
        return [e for e in events["items"] if e["reason"] == "FailedScheduling"]

    [event] = wait_for(failed_scheduling)
    assert event["source"] == {"component": "bin-packing"}
    assert event["message"] == ("0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes "
                                "are available: 2 No preemption victims found for incoming pod.")
    assert "FailedScheduling" in profiled_cluster.kubectl("describe", "pod", "huge").stdout
