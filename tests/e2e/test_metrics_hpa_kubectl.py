"""Resource metrics and autoscaling as a user meets them: `kubectl top` and
`kubectl autoscale` against `kubelite server` with simulated nodes whose pods use what
their `sim.kubelite.io/usage` annotation says (scraped every 200 ms, HPAs synced every
500 ms)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for

USAGE = "sim.kubelite.io/usage"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("metrics") / "cluster", 2,
                           "--metric-resolution", "200ms",
                           "--horizontal-pod-autoscaler-sync-period", "500ms") as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def pod(name: str, node: str, usage: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name},
                         "annotations": {USAGE: json.dumps(usage)}},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx"}]}}


def top(cluster: Cluster, *args: str) -> list[list[str]]:
    """`kubectl top ...` rows without the header; [] while metrics are not there yet."""
    result = cluster.kubectl("top", *args, "--no-headers", check=False)
    if result.returncode != 0:
        return []
    return [line.split() for line in result.stdout.splitlines() if line.strip()]


def test_kubectl_top_pod_shows_the_annotated_usage(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "-n", ns, "-f", "-",
                    input=json.dumps(pod("web", "sim-0", {"cpu": "250m", "memory": "64Mi"})))
    cluster.kubectl("create", "-n", ns, "-f", "-",
                    input=json.dumps(pod("db", "sim-1", {"cpu": "1", "memory": "1Gi"})))
    def both() -> list[list[str]]:
        rows = sorted(top(cluster, "pod", "-n", ns))
        return rows if len(rows) == 2 else []

    rows = wait_for(both)
    assert rows == [["db", "1000m", "1024Mi"], ["web", "250m", "64Mi"]], \
        cluster.kubectl("top", "pod", "-n", ns, check=False)
    assert top(cluster, "pod", "-n", ns, "web") == [["web", "250m", "64Mi"]]
    assert top(cluster, "pod", "-n", ns, "-l", "app=db") == [["db", "1000m", "1024Mi"]]
    assert [ns, "web", "250m", "64Mi"] in top(cluster, "pod", "-A")
    containers = top(cluster, "pod", "-n", ns, "web", "--containers")
    assert containers == [["web", "app", "250m", "64Mi"]]
    table = cluster.kubectl("get", "podmetrics", "-n", ns, "web").stdout.split("\n")
    assert table[0].split() == ["NAME", "CPU", "MEMORY", "WINDOW"], table
    assert table[1].split()[:3] == ["web", "250m", "64Mi"], table


def test_kubectl_top_node_shows_usage_and_its_share_of_capacity(cluster: Cluster,
                                                                ns: str) -> None:
    cluster.kubectl("create", "-n", ns, "-f", "-",
                    input=json.dumps(pod("busy", "sim-1", {"cpu": "3200m", "memory": "512Mi"})))

    def sim_1() -> list[str]:
        """sim-1's row once it counts busy: base 100m plus busy's 3200m (pods of other
        tests, going away with their namespaces, may still add theirs)."""
        rows = {r[0]: r for r in top(cluster, "node")}
        row = rows.get("sim-1", [])
        return row if row and int(row[1].removesuffix("m")) >= 3300 else []

    row = wait_for(sim_1)
    assert row, cluster.kubectl("top", "node", check=False)
    assert row[2] == f"{int(row[1].removesuffix('m')) * 100 // 32000}%"
    assert top(cluster, "node", "sim-0")[0][0] == "sim-0"
    rows = top(cluster, "node", "-l", "kubernetes.io/hostname=sim-0")
    assert [r[0] for r in rows] == ["sim-0"]


def test_the_metrics_apiservice_is_available(cluster: Cluster) -> None:
    out = cluster.kubectl("get", "apiservice", "v1beta1.metrics.k8s.io", "-o", "json").stdout
    service = json.loads(out)
    assert service["status"]["conditions"][0]["type"] == "Available"
    assert "metrics.k8s.io/v1beta1" in cluster.kubectl("api-versions").stdout.split()
    resources = cluster.kubectl("api-resources", "--api-group=metrics.k8s.io",
                                "--no-headers").stdout
    assert {line.split()[0] for line in resources.splitlines()} == {"nodes", "pods"}


def deployment(name: str, cpu: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name},
                                               "annotations": {USAGE: json.dumps({"cpu": cpu})}},
                                  "spec": {"containers": [{
                                      "name": "app", "image": "nginx",
                                      "resources": {"requests": {"cpu": "100m"}}}]}}}}


def replicas(cluster: Cluster, ns: str, name: str) -> int:
    out = cluster.kubectl("get", "deployment", "-n", ns, name, "-o",
                          "jsonpath={.spec.replicas}").stdout
    return int(out or 0)


def test_kubectl_autoscale_scales_up_under_load_and_down_when_it_drops(cluster: Cluster,
                                                                      ns: str) -> None:
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(deployment("x", "90m")))
    cluster.kubectl("autoscale", "-n", ns, "deployment", "x", "--cpu-percent=50", "--min=1",
                    "--max=5")
    # the test's short downscale stabilization, as a user would set it
    cluster.kubectl("patch", "-n", ns, "hpa", "x", "--type=merge", "-p", json.dumps(
        {"spec": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 1}}}}))
    assert wait_for(lambda: replicas(cluster, ns, "x") == 5, timeout=60), \
        cluster.kubectl("describe", "hpa", "-n", ns, "x").stdout

    def described() -> str:
        out = cluster.kubectl("describe", "hpa", "-n", ns, "x").stdout
        return out if "SuccessfulRescale" in out and "ValidMetricFound" in out else ""

    out = wait_for(described)
    assert out, cluster.kubectl("describe", "hpa", "-n", ns, "x").stdout
    assert "cpu resource utilization (percentage of request) above target" in out

    def hpa_row() -> list[str]:
        # NAME REFERENCE TARGETS(cpu: 90%/50%) MINPODS MAXPODS REPLICAS AGE
        row = cluster.kubectl("get", "hpa", "-n", ns, "x", "--no-headers").stdout.split()
        return row if row[-2] == "5" else []

    row = wait_for(hpa_row)
    assert row[:6] == ["x", "Deployment/x", "cpu:", "90%/50%", "1", "5"], row

    pods = cluster.kubectl("get", "pods", "-n", ns, "-l", "app=x", "-o",
                           "jsonpath={.items[*].metadata.name}").stdout.split()
    cluster.kubectl("annotate", "-n", ns, "pods", *pods, "--overwrite",
                    f"{USAGE}=" + json.dumps({"cpu": "5m"}))
    assert wait_for(lambda: replicas(cluster, ns, "x") == 1, timeout=60), \
        cluster.kubectl("describe", "hpa", "-n", ns, "x").stdout
    assert "All metrics below target" in cluster.kubectl("describe", "hpa", "-n", ns,
                                                         "x").stdout
