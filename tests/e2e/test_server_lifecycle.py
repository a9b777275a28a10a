"""Starting, stopping and restarting `kubelite server`, on SQLite and on a real etcd."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.storage.etcd_process import EtcdServer, etcd_available
from tests.cluster import Cluster


# cluster-info names the server's address, which follows the port the test picks anew
# at each start (checked below), so it alone is written again by a restart
FOLLOWS_THE_PORT = "ConfigMap/kube-public/cluster-info"


def snapshot(cluster: Cluster) -> dict[str, tuple[str, str]]:
    listed = json.loads(cluster.kubectl("get", "cm,ns", "-A", "-o", "json").stdout)
    objects = {f'{o["kind"]}/{o["metadata"].get("namespace", "")}/{o["metadata"]["name"]}':
               (o["metadata"]["uid"], o["metadata"]["resourceVersion"]) for o in listed["items"]}
    assert cluster.url in cluster.kubectl("get", "cm", "cluster-info", "-n", "kube-public",
                                          "-o", "jsonpath={.data.kubeconfig}").stdout
    objects.pop(FOLLOWS_THE_PORT)
    return objects


def test_restart_brings_back_every_object(fresh_cluster: Cluster) -> None:
    fresh_cluster.kubectl("create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept"},
        "data": {"a": "1"}}))
    before = snapshot(fresh_cluster)
    assert fresh_cluster.stop() == 0  # SIGTERM: a clean stop
    fresh_cluster.start()
    assert snapshot(fresh_cluster) == before


@pytest.fixture
def etcd_endpoint() -> Iterator[str]:
    if not etcd_available():
        pytest.fail("etcd is not installed: run scripts/install-test-tools")
    with EtcdServer() as endpoint:
        yield endpoint


def test_server_on_etcd(tmp_path: Path, etcd_endpoint: str) -> None:
    cluster = Cluster(tmp_path / "c", datastore=etcd_endpoint)
    cluster.start()
    try:
        cluster.kubectl("create", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "on-etcd"},
            "data": {"a": "1"}}))
        assert "configmap/on-etcd" in cluster.kubectl("get", "cm", "-o", "name").stdout
        before = snapshot(cluster)
        cluster.stop()
        cluster.start()
        assert snapshot(cluster) == before
    finally:
        cluster.stop()


def test_two_servers_share_one_etcd(tmp_path: Path, etcd_endpoint: str) -> None:
    """A write through one server is read at once through the other, and the two never
    hand out the same ClusterIP or NodePort."""
    a = Cluster(tmp_path / "a", datastore=etcd_endpoint)
    b = Cluster(tmp_path / "b", datastore=etcd_endpoint)
    a.start()
    b.start()
    try:
        a.kubectl("create", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}}))
        assert b.kubectl("get", "cm", "shared", "-o", "name").stdout.strip() == \
            "configmap/shared"
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 31000}]}}
        a.kubectl("create", "-f", "-", input=json.dumps(svc))
        svc["metadata"]["name"] = "t"
        clash = b.kubectl("create", "-f", "-", input=json.dumps(svc), check=False)
        assert clash.returncode != 0 and "provided port is already allocated" in clash.stderr
        ips = set()
        for i, server in enumerate((a, b) * 5):
            server.kubectl("create", "-f", "-", input=json.dumps({
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": f"u{i}"},
                "spec": {"ports": [{"port": 80}]}}))
            got = json.loads(server.kubectl("get", "svc", f"u{i}", "-o", "json").stdout)
            ips.add(got["spec"]["clusterIP"])
        assert len(ips) == 10
    finally:
        a.stop()
        b.stop()
