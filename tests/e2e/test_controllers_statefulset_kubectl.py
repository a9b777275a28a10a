"""The StatefulSet loop as a user meets it: real kubectl against `kubelite server` with
three simulated nodes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("statefulset") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def statefulset(name: str, replicas: int, image: str = "nginx") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": name,
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


def pod_names(cluster: Cluster, ns: str, app: str) -> str:
    return cluster.kubectl("get", "pods", "-n", ns, "-l", f"app={app}", "-o",
                           "jsonpath={.items[*].metadata.name}").stdout


def test_apply_roll_out_and_scale_a_statefulset(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(statefulset("web", 3)))
    out = cluster.kubectl("rollout", "status", "-n", ns, "sts/web", "--timeout=60s").stdout
    assert "partitioned roll out complete: 3 new pods have been updated" in out \
        or "roll out complete" in out, out
    assert pod_names(cluster, ns, "web") == "web-0 web-1 web-2"
    ready = cluster.kubectl("get", "sts", "-n", ns, "web", "--no-headers").stdout.split()
    assert ready[:2] == ["web", "3/3"], ready

    cluster.kubectl("apply", "-n", ns, "-f", "-",
                    input=json.dumps(statefulset("web", 3, image="nginx:2")))
    out = cluster.kubectl("rollout", "status", "-n", ns, "sts/web", "--timeout=60s").stdout
    assert "3 new pods have been updated" in out, out
    images = cluster.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o",
                             "jsonpath={.items[*].spec.containers[0].image}").stdout
    assert images == "nginx:2 nginx:2 nginx:2"
    history = cluster.kubectl("rollout", "history", "-n", ns, "sts/web").stdout
    assert "1" in history and "2" in history, history

    cluster.kubectl("scale", "-n", ns, "sts/web", "--replicas=1")
    assert wait_for(lambda: pod_names(cluster, ns, "web") == "web-0"), \
        pod_names(cluster, ns, "web")
    assert wait_for(lambda: cluster.kubectl("get", "sts", "-n", ns, "web", "--no-headers")
                    .stdout.split()[1] == "1/1")
    described = cluster.kubectl("describe", "sts", "-n", ns, "web").stdout
    assert "create Pod web-0 in StatefulSet web successful" in described, described
    assert "delete Pod web-2 in StatefulSet web successful" in described, described
