"""ResourceQuota and LimitRange as a user meets them: real kubectl against `kubelite
server` with simulated nodes: `kubectl create quota`, `kubectl describe quota`, a
Deployment stopped by its quota (FailedCreate on its ReplicaSet), usage going back
down, and a LimitRange defaulting a pod."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("quota") / "cluster", 2) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def quota_table(cluster: Cluster, ns: str, name: str) -> dict[str, tuple[str, str]]:
    """resource -> (Used, Hard) as `kubectl describe quota` prints them."""
    out = cluster.kubectl("describe", "quota", "-n", ns, name).stdout
    rows = out.split("--------", 1)[-1].splitlines()[1:]
    return {parts[0]: (parts[1], parts[2]) for parts in (r.split() for r in rows)
            if len(parts) == 3}


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx
        resources:
          requests: {cpu: 500m, memory: 128Mi}
          limits: {cpu: 500m, memory: 128Mi}
"""


def test_a_quota_stops_a_deployment_and_usage_follows_its_pods(cluster: Cluster,
                                                               ns: str) -> None:
    out = cluster.kubectl("create", "quota", "compute-quota", "-n", ns,
                          "--hard=requests.cpu=1,requests.memory=1Gi,pods=5").stdout
    assert out.strip() == "resourcequota/compute-quota created"
    assert wait_for(lambda: quota_table(cluster, ns, "compute-quota") == {
        "pods": ("0", "5"), "requests.cpu": ("0", "1"), "requests.memory": ("0", "1Gi")}), \
        quota_table(cluster, ns, "compute-quota")

    cluster.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)

    def failed_create() -> str:
        described = cluster.kubectl("describe", "rs", "-n", ns, "-l", "app=web").stdout
        return described if "FailedCreate" in described else ""
    described = wait_for(failed_create)
    assert re.search(r'Error creating: pods "web-[a-z0-9]+-[a-z0-9]*" is forbidden: exceeded '
                     r"quota: compute-quota, requested: requests.cpu=500m, used: "
                     r"requests.cpu=1, limited: requests.cpu=1", described), described
    assert wait_for(lambda: quota_table(cluster, ns, "compute-quota") == {
        "pods": ("2", "5"), "requests.cpu": ("1", "1"), "requests.memory": ("256Mi", "1Gi")}), \
        quota_table(cluster, ns, "compute-quota")
    listed = cluster.kubectl("get", "quota", "-n", ns).stdout
    assert "compute-quota" in listed and "requests.cpu: 1/1" in listed, listed

    big = cluster.kubectl("run", "big", "-n", ns, "--image=nginx", "--overrides", json.dumps({
        "spec": {"containers": [{"name": "big", "image": "nginx", "resources": {
            "requests": {"cpu": "2", "memory": "1Mi"}}}]}}), check=False)
    assert big.returncode != 0
    assert 'Error from server (Forbidden): pods "big" is forbidden: exceeded quota: ' \
           "compute-quota, requested: requests.cpu=2, used: requests.cpu=1, limited: " \
           "requests.cpu=1" in big.stderr, big.stderr

    # Fewer pods: the deleted ones give their share back.
    cluster.kubectl("scale", "deployment", "web", "-n", ns, "--replicas=1")
    assert wait_for(lambda: quota_table(cluster, ns, "compute-quota") == {
        "pods": ("1", "5"), "requests.cpu": ("500m", "1"),
        "requests.memory": ("128Mi", "1Gi")}), quota_table(cluster, ns, "compute-quota")
    cluster.kubectl("delete", "deployment", "web", "-n", ns)
    assert wait_for(lambda: quota_table(cluster, ns, "compute-quota") == {
        "pods": ("0", "5"), "requests.cpu": ("0", "1"), "requests.memory": ("0", "1Gi")}), \
        quota_table(cluster, ns, "compute-quota")


LIMIT_RANGE = """
apiVersion: v1
kind: LimitRange
metadata: {name: defaults}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 100m, memory: 128Mi}
    max: {cpu: "1"}
"""


def test_a_limit_range_defaults_and_bounds_pods(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=LIMIT_RANGE)
    cluster.kubectl("run", "web", "-n", ns, "--image=nginx")
    pod = json.loads(cluster.kubectl("get", "pod", "web", "-n", ns, "-o", "json").stdout)
    assert pod["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"}}
    assert pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit "
        "for container web")
    described = cluster.kubectl("describe", "limits", "-n", ns, "defaults").stdout
    assert re.search(r"Container\s+cpu\s+-\s+1\s+100m\s+500m", described), described

    big = cluster.kubectl("run", "big", "-n", ns, "--image=nginx", "--overrides", json.dumps({
        "spec": {"containers": [{"name": "big", "image": "nginx", "resources": {
            "limits": {"cpu": "2"}}}]}}), check=False)
    assert big.returncode != 0
    assert 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2' \
        in big.stderr, big.stderr
