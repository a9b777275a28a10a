from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
CREATED = (NOW - timedelta(seconds=45)).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(group: str, kind: str, obj: dict) -> list:
    obj = {"metadata": {"name": "x", "creationTimestamp": CREATED}, **obj}
    return table_for(group, kind, [obj], now=NOW)["rows"][0]["cells"]


@pytest.mark.parametrize("kind", ["RoleBinding", "ClusterRoleBinding"])
def test_binding_cells(kind: str) -> None:
    obj = {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "User", "name": "bob"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "namespace": "kube-system", "name": "default"},
        ],
    }
    assert row("rbac.authorization.k8s.io", kind, obj) == [
        "x", "ClusterRole/view", "45s", "alice, bob", "devs", "kube-system/default",
    ]


def test_roles_use_the_default_table() -> None:
    table = table_for("rbac.authorization.k8s.io", "Role", [{"metadata": {"name": "r", "creationTimestamp": CREATED}}], now=NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]
    assert table["rows"][0]["cells"] == ["r", CREATED]


@pytest.mark.parametrize(
    ("conditions", "certificate", "want"),
    [
        ([], "", "Pending"),
        ([{"type": "Approved"}], "LS0t", "Approved,Issued"),
        ([{"type": "Approved"}, {"type": "Denied"}], "", "Denied"),
        ([{"type": "Approved"}, {"type": "Failed"}], "", "Approved,Failed"),
    ],
    ids=["pending", "issued", "denied-wins", "failed"],
)
def test_certificate_signing_request_cells(conditions: list, certificate: str, want: str) -> None:
    obj = {
        "spec": {"signerName": "kubernetes.io/kube-apiserver-client", "username": "alice", "expirationSeconds": 86400},
        "status": {"conditions": conditions, "certificate": certificate},
    }
    assert row("certificates.k8s.io", "CertificateSigningRequest", obj) == [
        "x", "45s", "kubernetes.io/kube-apiserver-client", "alice", "24h", want,
    ]


def test_certificate_signing_request_without_expiration() -> None:
    assert row("certificates.k8s.io", "CertificateSigningRequest", {"spec": {}}) == ["x", "45s", "<none>", "", "<none>", "Pending"]


@pytest.mark.parametrize("kind", ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])
def test_webhook_configuration_counts_webhooks(kind: str) -> None:
    assert row("admissionregistration.k8s.io", kind, {"webhooks": [{"name": "a"}, {"name": "b"}]}) == ["x", 2, "45s"]
    assert row("admissionregistration.k8s.io", kind, {}) == ["x", 0, "45s"]


def test_admission_policy_cells() -> None:
    policy = {"spec": {"validations": [{"expression": "true"}], "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}}}
    assert row("admissionregistration.k8s.io", "ValidatingAdmissionPolicy", policy) == ["x", 1, "v1/ConfigMap", "45s"]
    assert row("admissionregistration.k8s.io", "MutatingAdmissionPolicy", {"spec": {}}) == ["x", 0, "<unset>", "45s"]


@pytest.mark.parametrize(
    ("param_ref", "want"),
    [
        (None, "<unset>"),
        ({"name": "cfg", "namespace": "ns"}, "ns/cfg"),
        ({"name": "cfg"}, "*/cfg"),
        (
            {"selector": {"matchLabels": {"b": "2", "a": "1"}}},
            "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{},}",
        ),
    ],
    ids=["unset", "namespaced", "any-namespace", "selector"],
)
def test_admission_policy_binding_cells(param_ref: dict | None, want: str) -> None:
    spec = {"policyName": "p"}
    if param_ref is not None:
        spec["paramRef"] = param_ref
    assert row("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", {"spec": spec}) == ["x", "p", want, "45s"]
