"""PodDisruptionBudgets as a user meets them: real kubectl against `kubelite server` with
three simulated nodes. `kubectl drain` of a node under a Deployment's budget evicts one
pod at a time from the numbers the disruption loop keeps: a blocked eviction is retried
until the evicted pod's replacement, on another node, is ready; `kubectl get pdb`
shows ALLOWED DISRUPTIONS as it goes."""

from __future__ import annotations

import collections
from collections.abc import Iterator

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for

BUDGET = """
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 5
  selector:
    matchLabels:
      app: web
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("disruption") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def get_pdb(cluster: Cluster, ns: str) -> list[str]:
    """NAME MIN-AVAILABLE MAX-UNAVAILABLE ALLOWED-DISRUPTIONS of `kubectl get pdb web`."""
    return cluster.kubectl("get", "pdb", "-n", ns, "web", "--no-headers").stdout.split()[:4]


def running_pods_by_node(cluster: Cluster, ns: str) -> dict[str, list[str]]:
    out = cluster.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o",
                          "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} "
                          "{.status.phase} {.metadata.deletionTimestamp}{'\\n'}{end}").stdout
    by_node: dict[str, list[str]] = collections.defaultdict(list)
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] == "Running":  # a 4th field: being deleted
            by_node[fields[1]].append(fields[0])
    return dict(by_node)


def test_drain_evicts_one_pod_at_a_time_under_a_budget(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=6")
    cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s",
                    timeout=90)
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=BUDGET)
    # six ready, five must stay: one disruption allowed
    assert wait_for(lambda: get_pdb(cluster, ns) == ["web", "5", "N/A", "1"]), get_pdb(
        cluster, ns)
    by_node = running_pods_by_node(cluster, ns)
    target = max(by_node, key=lambda n: len(by_node[n]))
    doomed = set(by_node[target])
    assert len(doomed) >= 2, by_node  # six pods on three nodes: some node has two

    drain = cluster.kubectl("drain", target, "--ignore-daemonsets", "--timeout=120s",
                            timeout=150)
    output = drain.stdout + drain.stderr
    assert f"node/{target} drained" in output, output
    # both evictions were asked at once; the budget let one through, the other was
    # refused and retried until the first pod's replacement was ready
    assert "Cannot evict pod as it would violate the pod's disruption budget." in output, output
    assert "will retry after 5s" in output, output
    for pod in doomed:
        assert f"evicting pod {ns}/{pod}" in output, output

    def replaced() -> dict[str, list[str]] | None:
        now = running_pods_by_node(cluster, ns)
        return now if sum(map(len, now.values())) == 6 and target not in now else None

    after = wait_for(replaced)
    assert after, running_pods_by_node(cluster, ns)
    assert not doomed & {p for pods in after.values() for p in pods}
    assert wait_for(lambda: get_pdb(cluster, ns) == ["web", "5", "N/A", "1"]), get_pdb(
        cluster, ns)
    described = cluster.kubectl("describe", "pdb", "-n", ns, "web").stdout
    assert "Allowed disruptions:  1" in described, described
    cluster.kubectl("uncordon", target)


def test_a_budget_with_max_unavailable_percent_reads_the_deployments_scale(
        cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=4")
    cluster.kubectl("create", "pdb", "web", "-n", ns, "--selector=app=web",
                    "--max-unavailable=50%")
    assert wait_for(lambda: get_pdb(cluster, ns) == ["web", "N/A", "50%", "2"]), get_pdb(
        cluster, ns)
    status = cluster.kubectl("get", "pdb", "-n", ns, "web", "-o",
                             "jsonpath={.status.expectedPods} {.status.desiredHealthy} "
                             "{.status.currentHealthy} "
                             "{.status.conditions[0].reason}").stdout.split()
    assert status == ["4", "2", "4", "SufficientPods"], status
    cluster.kubectl("scale", "-n", ns, "deployment/web", "--replicas=2")
    assert wait_for(lambda: get_pdb(cluster, ns) == ["web", "N/A", "50%", "1"]), get_pdb(
        cluster, ns)
