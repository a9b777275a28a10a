import copy

import pytest

from kubelite.apiserver.registry.strategies import STRATEGIES

SVC = STRATEGIES[("", "services")]


def service(**spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}


def created(svc):
    SVC.prepare_for_create(svc)
    SVC.default(svc)
    return svc


def test_minimal_service_defaults():
    svc = created(service())
    assert svc["spec"] == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"],
    }
    assert svc["status"] == {"loadBalancer": {}}
    assert "generation" not in svc["metadata"]
    assert SVC.validate(svc) == []


def test_nodeport_and_loadbalancer_defaults():
    svc = created(service(type="LoadBalancer"))
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"
    assert svc["spec"]["allocateLoadBalancerNodePorts"] is True


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"ports": []}, "spec.ports", "Required value"),
        ({"ports": [{"port": 80}, {"port": 81}]}, "spec.ports[0].name", "Required value"),
        ({"ports": [{"port": 0}]}, "spec.ports[0].port", "Invalid value: 0: must be between 1 and 65535, inclusive"),
        ({"type": "Fancy"}, "spec.type",
         'Unsupported value: "Fancy": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'),
        ({"ports": [{"port": 80, "nodePort": 30001}]}, "spec.ports[0].nodePort",
         "Forbidden: may not be used when `type` is 'ClusterIP'"),
        ({"type": "ExternalName", "ports": []}, "spec.externalName", "Required value"),
    ],
    ids=["no-ports", "unnamed-ports", "port-zero", "type", "nodeport-on-clusterip", "externalname"],
)
def test_validation(spec, field, message):
    svc = created(service(**spec))
    assert (field, message) in [(c.field, c.message) for c in SVC.validate(svc)]


def test_headless_service_needs_no_ports():
    assert SVC.validate(created(service(clusterIP="None", ports=[]))) == []


def test_cluster_ip_is_immutable_but_omitting_it_keeps_it():
    old = created(service(clusterIP="10.96.0.10"))
    omitted = service()
    SVC.prepare_for_update(omitted, old)
    SVC.default(omitted)
    assert omitted["spec"]["clusterIP"] == "10.96.0.10"
    assert SVC.validate_update(omitted, old) == []
    changed = copy.deepcopy(old)
    changed["spec"]["clusterIP"] = "10.96.0.11"
    SVC.prepare_for_update(changed, old)
    assert [(c.field, c.message) for c in SVC.validate_update(changed, old)] == [
        ("spec.clusterIP", 'Invalid value: "10.96.0.11": field is immutable')]


def test_switching_to_cluster_ip_drops_carried_over_node_ports() -> None:
    from kubelite.apiserver.registry.strategies.services import ServiceStrategy
    old = {"metadata": {"name": "s"}, "spec": {
        "type": "NodePort", "clusterIP": "10.43.0.9", "clusterIPs": ["10.43.0.9"],
        "ports": [{"port": 80, "protocol": "TCP", "nodePort": 31000}]}}
    new = {"metadata": {"name": "s"}, "spec": {
        "type": "ClusterIP", "clusterIP": "10.43.0.9", "clusterIPs": ["10.43.0.9"],
        "ports": [{"port": 80, "protocol": "TCP", "nodePort": 31000}]}}
    ServiceStrategy().prepare_for_update(new, old)
    assert new["spec"]["ports"] == [{"port": 80, "protocol": "TCP"}]
