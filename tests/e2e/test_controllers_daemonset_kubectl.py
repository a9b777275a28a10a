"""DaemonSets as a user meets them: real kubectl against `kubelite server` with three
simulated nodes: apply, get ds, rollout status, set image, rollout history and undo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("daemonsets") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def daemonset(name: str, **pod_spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "agent",
                                                           "image": "agent:1"}],
                                           **pod_spec}}}}


def get_ds(cluster: Cluster, ns: str, name: str) -> list[str]:
    """NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE of `kubectl get ds NAME`."""
    return cluster.kubectl("get", "ds", "-n", ns, name, "--no-headers").stdout.split()[:6]


def rollout_status(cluster: Cluster, ns: str, name: str) -> str:
    return cluster.kubectl("rollout", "status", "-n", ns, f"ds/{name}",
                           "--timeout=30s").stdout


def test_apply_get_and_roll_out_a_daemonset(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(daemonset("agent")))
    assert "successfully rolled out" in rollout_status(cluster, ns, "agent")
    assert get_ds(cluster, ns, "agent") == ["agent", "3", "3", "3", "3", "3"]
    nodes = cluster.kubectl("get", "pods", "-n", ns, "-l", "app=agent", "-o",
                            "jsonpath={.items[*].spec.nodeName}").stdout.split()
    assert sorted(nodes) == ["sim-0", "sim-1", "sim-2"]

    cluster.kubectl("set", "image", "-n", ns, "ds/agent", "agent=agent:2")
    assert "successfully rolled out" in rollout_status(cluster, ns, "agent")
    images = cluster.kubectl("get", "pods", "-n", ns, "-l", "app=agent", "-o",
                             "jsonpath={.items[*].spec.containers[0].image}").stdout.split()
    assert images == ["agent:2"] * 3
    history = cluster.kubectl("rollout", "history", "-n", ns, "ds/agent").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

    cluster.kubectl("rollout", "undo", "-n", ns, "ds/agent")
    assert "successfully rolled out" in rollout_status(cluster, ns, "agent")

    def back_on_one() -> list[str]:
        out = cluster.kubectl("get", "pods", "-n", ns, "-l", "app=agent", "-o",
                              "jsonpath={.items[*].spec.containers[0].image}").stdout.split()
        return out if out == ["agent:1"] * 3 else []

    assert wait_for(back_on_one)


def test_a_node_selector_limits_desired(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("label", "node", "sim-1", f"{ns}=yes")
    try:
        cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(
            daemonset("picky", nodeSelector={ns: "yes"})))
        assert wait_for(lambda: get_ds(cluster, ns, "picky") == [
            "picky", "1", "1", "1", "1", "1"]), get_ds(cluster, ns, "picky")
        out = cluster.kubectl("describe", "ds", "-n", ns, "picky").stdout
        assert "Desired Number of Nodes Scheduled: 1" in out
        assert "SuccessfulCreate" in out and "daemonset-controller" in out
    finally:
        cluster.kubectl("label", "node", "sim-1", f"{ns}-")
