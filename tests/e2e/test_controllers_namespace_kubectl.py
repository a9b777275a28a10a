"""Namespace deletion as a user meets it: real kubectl against `kubelite server` with a
simulated node, whose controller manager's namespace loop empties deleted namespaces."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.cluster import Cluster, simulated_cluster, wait_for
from tests.e2e.test_controllers_kubectl import replicaset

CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "gizmos.nsloop.example.com"},
       "spec": {"group": "nsloop.example.com", "scope": "Namespaced",
                "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                    "openAPIV3Schema": {"type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True}}}]}}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("nsloop") / "cluster", 1) as c:
        c.kubectl("create", "-f", "-", input=json.dumps(CRD))
        c.kubectl("wait", "--for=condition=Established", "crd/gizmos.nsloop.example.com",
                  "--timeout=30s")
        yield c


def configmap(name: str, **meta: Any) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name, **meta}, "data": {"k": "v"}})


def test_kubectl_delete_ns_with_pods_objects_and_a_custom_resource_completes(
        cluster: Cluster) -> None:
    cluster.kubectl("create", "namespace", "full")
    for i in range(20):
        cluster.kubectl("create", "-n", "full", "-f", "-", input=configmap(f"c{i}"))
    cluster.kubectl("create", "-n", "full", "-f", "-", input=json.dumps(
        {"apiVersion": "nsloop.example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}}))
    cluster.kubectl("create", "-n", "full", "-f", "-", input=json.dumps(replicaset("web", 2)))
    assert wait_for(lambda: cluster.kubectl(
        "get", "pods", "-n", "full", "--field-selector=status.phase=Running", "-o", "name"
    ).stdout.count("pod/") == 2)

    cluster.kubectl("delete", "namespace", "full", "--timeout=60s")  # waits until gone
    assert cluster.kubectl("get", "ns", "full", check=False).returncode == 1
    for kind in ("cm", "gizmos", "rs", "pods"):
        assert cluster.kubectl("get", kind, "-n", "full", "-o", "name").stdout == ""


def test_a_finalizer_keeps_the_namespace_terminating_with_its_conditions_shown(
        cluster: Cluster) -> None:
    cluster.kubectl("create", "namespace", "stuck")
    cluster.kubectl("create", "-n", "stuck", "-f", "-",
                    input=configmap("held", finalizers=["example.com/hold"]))
    cluster.kubectl("create", "-n", "stuck", "-f", "-", input=configmap("free"))
    cluster.kubectl("delete", "namespace", "stuck", "--wait=false")

    def conditions() -> dict[str, Any]:
        ns = yaml.safe_load(cluster.kubectl("get", "ns", "stuck", "-o", "yaml").stdout)
        return {c["type"]: c for c in (ns.get("status") or {}).get("conditions") or ()}

    shown = wait_for(lambda: conditions().get("NamespaceContentRemaining", {})
                     .get("status") == "True" and conditions())
    assert shown, conditions()
    assert shown["NamespaceContentRemaining"]["message"] == (
        "Some resources are remaining: configmaps. has 1 resource instances")
    assert shown["NamespaceFinalizersRemaining"]["message"] == (
        "Some finalizers are remaining: example.com/hold in 1 resource instances")
    assert shown["NamespaceDeletionContentFailure"]["status"] == "False"
    phase = cluster.kubectl("get", "ns", "stuck", "-o", "jsonpath={.status.phase}").stdout
    assert phase == "Terminating"
    assert cluster.kubectl("get", "cm", "-n", "stuck", "-o", "name").stdout == "configmap/held\n"

    cluster.kubectl("patch", "-n", "stuck", "cm", "held", "--type=merge",
                    "-p", '{"metadata":{"finalizers":null}}')
    cluster.kubectl("wait", "--for=delete", "namespace/stuck", "--timeout=30s")
