import pytest

from kubelite.apiserver.registry.strategies import STRATEGIES

G = "rbac.authorization.k8s.io"


@pytest.mark.parametrize(
    ("plural", "rule", "want"),
    [("roles", {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, []),
     ("roles", {"apiGroups": [""], "resources": ["pods"]},
      [("rules[0].verbs", "Required value: verbs must contain at least one value")]),
     ("roles", {"resources": ["pods"], "verbs": ["get"]},
      [("rules[0].apiGroups", "Required value: resource rules must supply at least one api group")]),
     ("roles", {"nonResourceURLs": ["/healthz"], "verbs": ["get"]},
      [("rules[0].nonResourceURLs", 'Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs')]),
     ("clusterroles", {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}, [])],
    ids=["ok", "no-verbs", "no-groups", "role-url", "clusterrole-url"],
)
def test_policy_rules(plural, rule, want):
    causes = STRATEGIES[(G, plural)].validate({"rules": [rule]})
    assert [(c.field, c.message) for c in causes] == want


def test_binding_defaults_and_immutable_role_ref():
    strategy = STRATEGIES[(G, "clusterrolebindings")]
    binding = {"roleRef": {"kind": "ClusterRole", "name": "view"},
               "subjects": [{"kind": "User", "name": "alice"},
                            {"kind": "ServiceAccount", "name": "sa", "namespace": "default"}]}
    strategy.default(binding)
    assert binding["roleRef"]["apiGroup"] == G
    assert binding["subjects"][0]["apiGroup"] == G
    assert "apiGroup" not in binding["subjects"][1]
    assert strategy.validate(binding) == []
    changed = {**binding, "roleRef": {"apiGroup": G, "kind": "ClusterRole", "name": "edit"}}
    assert [c.message.rsplit(": ", 1)[-1] for c in strategy.validate_update(changed, binding)] == ["cannot change roleRef"]


def test_cluster_role_binding_cannot_bind_a_role():
    causes = STRATEGIES[(G, "clusterrolebindings")].validate(
        {"roleRef": {"apiGroup": G, "kind": "Role", "name": "x"}})
    assert [(c.field, c.message) for c in causes] == [
        ("roleRef.kind", 'Unsupported value: "Role": supported values: "ClusterRole"')]
