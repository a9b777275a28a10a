import pytest

from kubelite.apiserver.registry.strategies import STRATEGIES

INGRESS = STRATEGIES[("networking.k8s.io", "ingresses")]
NETPOL = STRATEGIES[("networking.k8s.io", "networkpolicies")]


def ingress(**path_fields):
    item = {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}, **path_fields}
    return {"metadata": {"name": "i"}, "spec": {"rules": [{"host": "a.example", "http": {"paths": [item]}}]}}


def test_ingress_starts_with_empty_load_balancer_status_and_generation():
    obj = ingress(pathType="Prefix")
    INGRESS.prepare_for_create(obj)
    assert obj["status"] == {"loadBalancer": {}}
    assert obj["metadata"]["generation"] == 1
    assert INGRESS.validate(obj) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [({}, "spec.rules[0].http.paths[0].pathType", "Required value: pathType must be specified"),
     ({"pathType": "Glob"}, "spec.rules[0].http.paths[0].pathType",
      'Unsupported value: "Glob": supported values: "Exact", "ImplementationSpecific", "Prefix"'),
     ({"pathType": "Exact", "path": "foo"}, "spec.rules[0].http.paths[0].path",
      'Invalid value: "foo": must be an absolute path')],
    ids=["missing", "unsupported", "relative"],
)
def test_ingress_path_rules(fields, field, message):
    assert [(c.field, c.message) for c in INGRESS.validate(ingress(**fields))] == [(field, message)]


def test_network_policy_defaults_policy_types_and_protocol():
    policy = {"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}}
    NETPOL.default(policy)
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy["spec"]["egress"][0]["ports"] == [{"port": 53, "protocol": "TCP"}]
