import pytest

from kubelite.apiserver.registry.strategies.names import (
    cronjob_name,
    dns1035_label,
    dns_label,
    dns_subdomain,
    name_causes,
    path_segment,
)

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
    ("rule", "name", "want"),
    [
        (dns_subdomain, "web-0", []),
        (dns_subdomain, "Bad_Name", [SUBDOMAIN_MSG]),
        (dns_subdomain, "kube-root-ca.crt", []),
        (dns_subdomain, "a" * 254, ["must be no more than 253 characters"]),
        (dns_label, "a.b", ["must not contain dots"]),
        (dns_label, "Bad", [LABEL_MSG]),
        (dns1035_label, "1web", [DNS1035_MSG]),
        (dns1035_label, "web", []),
        (path_segment, "system:node", []),
        (path_segment, "a/b", ["may not contain '/'"]),
        (path_segment, "..", ["may not be '..'"]),
        (cronjob_name, "c" * 53, ["must be no more than 52 characters"]),
        (cronjob_name, "c" * 52, []),
    ],
    ids=["subdomain-ok", "subdomain-bad", "subdomain-dots", "subdomain-too-long",
         "label-dots", "label-upper", "dns1035-digit", "dns1035-ok", "segment-colon",
         "segment-slash", "segment-dotdot", "cronjob-53", "cronjob-52"],
)
def test_name_rule_gives_upstreams_messages(rule, name, want):
    assert rule(name, False) == want


@pytest.mark.parametrize("rule", [dns_subdomain, dns_label, dns1035_label, cronjob_name],
                         ids=["subdomain", "label", "dns1035", "cronjob"])
def test_generate_name_prefix_may_end_in_dash(rule):
    assert rule("web-", True) == []
    assert rule("web-", False) != []
    assert name_causes(rule, {"generateName": "web-", "name": "web-abcde"}) == []


def test_name_causes_format_like_upstream():
    [cause] = name_causes(dns_subdomain, {"name": "Bad_Name"})
    assert cause.field == "metadata.name"
    assert cause.type == "FieldValueInvalid"
    assert cause.message == f'Invalid value: "Bad_Name": {SUBDOMAIN_MSG}'


def test_name_causes_check_generate_name_as_a_prefix():
    [cause] = name_causes(dns_subdomain, {"generateName": "Web-", "name": "ok"})
    assert (cause.field, cause.type) == ("metadata.generateName", "FieldValueInvalid")


def test_missing_name_is_required():
    [cause] = name_causes(dns_subdomain, {})
    assert (cause.field, cause.message) == ("metadata.name", "Required value: name or generateName is required")
