"""Service endpoints as a user meets them: real kubectl against `kubelite server` with
three simulated nodes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("endpoints") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def test_an_exposed_deployment_has_endpoints_and_slices(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=3",
                    "--port=8080")
    cluster.kubectl("expose", "deployment", "web", "-n", ns, "--port=80", "--target-port=8080")

    def pod_ips() -> list[str]:
        out = cluster.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o",
                              "jsonpath={.items[*].status.podIP}").stdout.split()
        return sorted(out) if len(out) == 3 else []

    ips = wait_for(pod_ips)
    assert ips
    wanted = ",".join(f"{ip}:8080" for ip in ips)

    def endpoints_row() -> list[str]:
        out = cluster.kubectl("get", "endpoints", "-n", ns, "web", "--no-headers").stdout.split()
        return out if len(out) >= 2 and sorted(out[1].split(",")) == wanted.split(",") else []

    assert wait_for(endpoints_row), cluster.kubectl("get", "endpoints", "-n", ns, "-o", "yaml").stdout

    slices = json.loads(cluster.kubectl("get", "endpointslices", "-n", ns, "-l",
                                        "kubernetes.io/service-name=web", "-o", "json").stdout)
    (endpoint_slice,) = slices["items"]
    assert endpoint_slice["metadata"]["name"].startswith("web-")
    assert sorted(a for e in endpoint_slice["endpoints"] for a in e["addresses"]) == ips
    row = cluster.kubectl("get", "endpointslices", "-n", ns, "--no-headers",
                          endpoint_slice["metadata"]["name"]).stdout.split()
    assert row[1:3] == ["IPv4", "8080"]
    assert sorted(row[3].split(",")) == ips

    described = cluster.kubectl("describe", "svc", "-n", ns, "web").stdout
    endpoints_line = next(line for line in described.splitlines() if line.startswith("Endpoints:"))
    assert sorted(endpoints_line.split(None, 1)[1].split(",")) == wanted.split(",")

    # scaled down: the endpoints follow
    cluster.kubectl("scale", "deployment", "web", "-n", ns, "--replicas=1")

    def one_address() -> str:
        out = cluster.kubectl("get", "endpoints", "-n", ns, "web", "--no-headers").stdout.split()
        return out[1] if len(out) >= 2 and "," not in out[1] and out[1] != "<none>" else ""

    assert wait_for(one_address)
