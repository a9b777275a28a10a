import copy

from kubelite.apiserver.registry.strategies import STRATEGIES

NS = STRATEGIES[("", "namespaces")]
NODE = STRATEGIES[("", "nodes")]


def test_new_namespace_is_active_with_kubernetes_finalizer_and_name_label():
    ns = {"kind": "Namespace", "metadata": {"name": "team-a"}, "status": {"phase": "Terminating"}}
    NS.prepare_for_create(ns)
    NS.default(ns)
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert "generation" not in ns["metadata"]


def test_name_label_cannot_be_overridden():
    ns = {"metadata": {"name": "a", "labels": {"kubernetes.io/metadata.name": "b"}}}
    NS.default(ns)
    assert ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "a"


def test_plain_update_keeps_finalizers_and_finalize_changes_them():
    old = {"metadata": {"name": "a"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    new = copy.deepcopy(old)
    new["spec"]["finalizers"] = []
    NS.prepare_for_update(new, old)
    assert new["spec"]["finalizers"] == ["kubernetes"]
    finalize = copy.deepcopy(old)
    finalize["spec"]["finalizers"] = []
    finalize["metadata"]["labels"] = {"x": "y"}
    NS.subresource_strategies()["finalize"].prepare_for_update(finalize, old)
    assert finalize["spec"] == {}
    assert "labels" not in finalize["metadata"]


def test_node_keeps_registered_status_and_defaults_allocatable():
    node = {"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "4"}}}
    NODE.prepare_for_create(node)
    NODE.default(node)
    assert node["status"] == {"capacity": {"cpu": "4"}, "allocatable": {"cpu": "4"}}
    assert NODE.selectable_fields(node) == {"spec.unschedulable": "false"}
    assert "status" in NODE.subresource_strategies()
