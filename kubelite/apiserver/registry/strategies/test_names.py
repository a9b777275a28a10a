import pytest

from kubelite.apiserver.registry.strategies.names import name_causes, validate_name

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.mark.parametrize(
    ("group", "plural", "name", "want"),
    [
        ("", "pods", "web-0", []),
        ("", "pods", "Bad_Name", [SUBDOMAIN_MSG]),
        ("", "configmaps", "kube-root-ca.crt", []),
        ("", "namespaces", "a.b", ["must not contain dots"]),
        ("apps", "statefulsets", "db.x", ["must not contain dots"]),
        ("apps", "deployments", "db.x", []),
        ("", "services", "1web", [DNS1035_MSG]),
        ("", "services", "web", []),
        ("rbac.authorization.k8s.io", "clusterroles", "system:node", []),
        ("rbac.authorization.k8s.io", "roles", "a/b", ["may not contain '/'"]),
        ("rbac.authorization.k8s.io", "roles", "..", ["may not be '..'"]),
        ("", "pods", "a" * 254, ["must be no more than 253 characters"]),
        ("batch", "cronjobs", "c" * 53, ["must be no more than 52 characters"]),
        ("example.com", "widgets", "w1", []),
    ],
    ids=["pod-ok", "pod-bad", "cm-dots", "ns-label", "sts-label", "deploy-subdomain",
         "svc-digit", "svc-ok", "rbac-colon", "rbac-slash", "rbac-dotdot", "too-long",
         "cronjob-52", "custom-default"],
)
def test_validate_name_applies_the_kinds_rule(group, plural, name, want):
    assert validate_name(group, plural, name) == want


def test_generate_name_prefix_may_end_in_dash():
    assert validate_name("", "pods", "web-", prefix=True) == []
    assert name_causes("", "pods", {"generateName": "web-", "name": "web-abcde"}) == []


def test_name_causes_format_like_upstream():
    [cause] = name_causes("", "pods", {"name": "Bad_Name"})
    assert cause.field == "metadata.name"
    assert cause.type == "FieldValueInvalid"
    assert cause.message == f'Invalid value: "Bad_Name": {SUBDOMAIN_MSG}'


def test_missing_name_is_required():
    [cause] = name_causes("", "pods", {})
    assert (cause.field, cause.message) == ("metadata.name", "Required value: name or generateName is required")
