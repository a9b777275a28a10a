"""PersistentVolumes as a user meets them: real kubectl against `kubelite server` with
three simulated nodes, the PV binder and the local-path provisioner, whose volumes are
directories under the server's data dir."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("volumes") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def apply(cluster: Cluster, ns: str, *objects: Obj) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-",
                    input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def get(cluster: Cluster, *args: str) -> Any:
    result = cluster.kubectl("get", *args, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def phase(cluster: Cluster, *args: str) -> str:
    obj = get(cluster, *args)
    return str(((obj or {}).get("status") or {}).get("phase") or "")


def claim(name: str, size: str = "1Gi", klass: str | None = None) -> Obj:
    spec: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if klass is not None:
        spec["storageClassName"] = klass
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": spec}


def test_the_default_class_is_local_path(cluster: Cluster) -> None:
    out = cluster.kubectl("get", "storageclass", "--no-headers").stdout.split()
    assert out[:5] == ["local-path", "(default)", "rancher.io/local-path", "Delete",
                       "WaitForFirstConsumer"], out


def test_a_static_volume_binds_and_is_released_when_its_claim_goes(cluster: Cluster, ns: str) -> None:
    pv_name = f"static-{ns}"[:60]
    apply(cluster, ns, {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name},
        "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"],
                 "storageClassName": "manual", "persistentVolumeReclaimPolicy": "Retain",
                 "hostPath": {"path": "/srv/static"}}}, claim("data", klass="manual"))
    assert wait_for(lambda: phase(cluster, "pvc", "-n", ns, "data") == "Bound")
    table = cluster.kubectl("get", "pv,pvc", "-n", ns, "--no-headers").stdout
    pv_row = next(line.split() for line in table.splitlines() if line.startswith(f"persistentvolume/{pv_name} "))
    pvc_row = next(line.split() for line in table.splitlines() if line.startswith("persistentvolumeclaim/data "))
    assert pv_row[1:6] == ["2Gi", "RWO", "Retain", "Bound", f"{ns}/data"], pv_row
    assert pvc_row[1:6] == ["Bound", pv_name, "2Gi", "RWO", "manual"], pvc_row

    cluster.kubectl("delete", "pvc", "-n", ns, "data")
    assert wait_for(lambda: phase(cluster, "pv", pv_name) == "Released")
    cluster.kubectl("delete", "pv", pv_name)


def test_a_pod_gets_a_local_path_volume_on_its_node(cluster: Cluster, ns: str) -> None:
    apply(cluster, ns, claim("www", "3Gi"), {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}],
                 "volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": "www"}}]}})
    assert wait_for(lambda: phase(cluster, "pvc", "-n", ns, "www") == "Bound"), \
        cluster.kubectl("describe", "pvc", "-n", ns, "www").stdout
    assert wait_for(lambda: phase(cluster, "pod", "-n", ns, "web") == "Running")
    node = get(cluster, "pod", "-n", ns, "web")["spec"]["nodeName"]
    pvc = get(cluster, "pvc", "-n", ns, "www")
    pv = get(cluster, "pv", pvc["spec"]["volumeName"])
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]
    directory = Path(pv["spec"]["hostPath"]["path"])
    assert directory == cluster.data_dir / "storage" / f"{pv['metadata']['name']}_{ns}_www"
    assert directory.is_dir()
    described = cluster.kubectl("describe", "pvc", "-n", ns, "www").stdout
    assert "ProvisioningSucceeded" in described and "rancher.io/local-path" in described, described

    cluster.kubectl("delete", "pod", "-n", ns, "web", "--grace-period=0", "--force")
    cluster.kubectl("delete", "pvc", "-n", ns, "www")
    assert wait_for(lambda: get(cluster, "pv", pv["metadata"]["name"]) is None)
    assert not directory.exists()


def test_a_statefulset_gets_bound_claims(cluster: Cluster, ns: str) -> None:
    apply(cluster, ns, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "podManagementPolicy": "Parallel",
                 "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}},
                              "spec": {"containers": [{"name": "db", "image": "postgres"}]}},
                 "volumeClaimTemplates": [claim("data", "1Gi")]}})
    out = cluster.kubectl("rollout", "status", "-n", ns, "sts/db", "--timeout=60s").stdout
    assert "roll out complete" in out or "2 new pods have been updated" in out, out

    def claims_bound() -> bool:
        items = (get(cluster, "pvc", "-n", ns) or {}).get("items") or []
        return sorted((c["metadata"]["name"], c["status"].get("phase")) for c in items) == [
            ("data-db-0", "Bound"), ("data-db-1", "Bound")]
    assert wait_for(claims_bound), cluster.kubectl("get", "pvc", "-n", ns).stdout
    for ordinal in (0, 1):
        node = get(cluster, "pod", "-n", ns, f"db-{ordinal}")["spec"]["nodeName"]
        pv_name = get(cluster, "pvc", "-n", ns, f"data-db-{ordinal}")["spec"]["volumeName"]
        terms = get(cluster, "pv", pv_name)["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        assert terms[0]["matchExpressions"][0]["values"] == [node]
