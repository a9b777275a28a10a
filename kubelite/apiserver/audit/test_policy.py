"""Audit policy rules match requests as upstream's checker does, and bad policy files
are refused with upstream's messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubelite.apiserver.audit.policy import (
    InvalidPolicy,
    Level,
    Policy,
    load_file,
    parse,
)
from kubelite.apiserver.auth.attributes import Attributes
from kubelite.apiserver.auth.user import UserInfo

JANE = UserInfo("jane", groups=("dev", "system:authenticated"))


def resource(verb: str, resource: str, *, group: str = "", namespace: str = "",
             name: str = "", subresource: str = "", user: UserInfo = JANE) -> Attributes:
    return Attributes(user=user, verb=verb, resource_request=True, api_group=group,
                      api_version="v1", namespace=namespace, resource=resource,
                      subresource=subresource, name=name)


def path(p: str, verb: str = "get") -> Attributes:
    return Attributes(user=JANE, verb=verb, resource_request=False, path=p)


def policy(*rules: dict[str, Any], **top: Any) -> Policy:
    return parse(yaml.safe_dump({"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                                 "rules": list(rules), **top}))


MATCHES = [
    ("catch-all", {}, resource("get", "pods"), True),
    ("user", {"users": ["jane"]}, resource("get", "pods"), True),
    ("other-user", {"users": ["bob"]}, resource("get", "pods"), False),
    ("group", {"userGroups": ["dev"]}, resource("get", "pods"), True),
    ("other-group", {"userGroups": ["ops"]}, resource("get", "pods"), False),
    ("verb", {"verbs": ["get", "list"]}, resource("list", "pods"), True),
    ("other-verb", {"verbs": ["create"]}, resource("list", "pods"), False),
    ("namespace", {"namespaces": ["web"]}, resource("get", "pods", namespace="web"), True),
    ("other-namespace", {"namespaces": ["web"]}, resource("get", "pods", namespace="db"),
     False),
    ("namespace-rule-not-for-paths", {"namespaces": ["web"]}, path("/healthz"), False),
    ("cluster-scope-is-empty-namespace", {"namespaces": [""]}, resource("get", "nodes"), True),
    ("group-resources", {"resources": [{"group": "apps", "resources": ["deployments"]}]},
     resource("get", "deployments", group="apps"), True),
    ("core-is-empty-group", {"resources": [{"group": "", "resources": ["deployments"]}]},
     resource("get", "deployments", group="apps"), False),
    ("whole-group", {"resources": [{"group": "apps"}]},
     resource("get", "statefulsets", group="apps"), True),
    ("star", {"resources": [{"resources": ["*"]}]}, resource("get", "pods", subresource="log"),
     True),
    ("subresource", {"resources": [{"resources": ["pods/log"]}]},
     resource("get", "pods", subresource="log"), True),
    ("resource-is-not-its-subresource", {"resources": [{"resources": ["pods"]}]},
     resource("get", "pods", subresource="log"), False),
    ("star-subresource", {"resources": [{"resources": ["*/status"]}]},
     resource("update", "deployments", subresource="status"), True),
    ("resource-star", {"resources": [{"resources": ["pods/*"]}]},
     resource("get", "pods", subresource="exec"), True),
    ("resource-star-covers-the-resource", {"resources": [{"resources": ["pods/*"]}]},
     resource("get", "pods"), True),
    ("resource-name", {"resources": [{"resources": ["configmaps"],
                                      "resourceNames": ["controller-leader"]}]},
     resource("update", "configmaps", name="controller-leader"), True),
    ("other-resource-name", {"resources": [{"resources": ["configmaps"],
                                            "resourceNames": ["controller-leader"]}]},
     resource("update", "configmaps", name="x"), False),
    ("resource-rule-not-for-paths", {"resources": [{"resources": ["*"]}]}, path("/version"),
     False),
    ("url", {"nonResourceURLs": ["/version"]}, path("/version"), True),
    ("url-wildcard", {"nonResourceURLs": ["/healthz*"]}, path("/healthz/etcd"), True),
    ("url-star", {"nonResourceURLs": ["*"]}, path("/openapi/v2"), True),
    ("url-rule-not-for-resources", {"nonResourceURLs": ["*"]}, resource("get", "pods"), False),
]


@pytest.mark.parametrize("rule,attrs,matches", [(r, a, m) for _, r, a, m in MATCHES],
                         ids=[i for i, *_ in MATCHES])
def test_rule_matching(rule: dict[str, Any], attrs: Attributes, matches: bool) -> None:
    checked = policy({"level": "Metadata", **rule}).evaluate(attrs)
    assert checked.level is (Level.METADATA if matches else Level.NONE)


def test_the_first_matching_rule_decides() -> None:
    checked = policy({"level": "None", "resources": [{"resources": ["events"]}]},
                     {"level": "RequestResponse", "resources": [{"resources": ["secrets"]}]},
                     {"level": "Metadata"})
    assert checked.evaluate(resource("create", "events")).level is Level.NONE
    assert checked.evaluate(resource("get", "secrets")).level is Level.REQUEST_RESPONSE
    assert checked.evaluate(resource("get", "pods")).level is Level.METADATA


def test_stages_and_managed_fields_combine_policy_and_rule() -> None:
    checked = policy({"level": "Request", "omitStages": ["ResponseStarted"],
                      "omitManagedFields": False, "users": ["jane"]},
                     {"level": "Request"},
                     omitStages=["RequestReceived"], omitManagedFields=True)
    mine = checked.evaluate(resource("get", "pods"))
    assert mine.omit_stages == {"RequestReceived", "ResponseStarted"}
    assert mine.omit_managed_fields is False
    theirs = checked.evaluate(resource("get", "pods", user=UserInfo("bob")))
    assert theirs.omit_stages == {"RequestReceived"} and theirs.omit_managed_fields is True


def test_an_unknown_user_matches_no_rule_naming_users() -> None:
    checked = policy({"level": "Request", "userGroups": ["system:authenticated"]},
                     {"level": "Metadata"})
    attrs = resource("get", "pods", user=UserInfo(""))
    assert checked.evaluate(attrs, user_known=False).level is Level.METADATA


INVALID = [
    ("bad-level", {"rules": [{"level": "Everything"}]},
     'rules[0].level: Unsupported value: "Everything": supported values: "None", '
     '"Metadata", "Request", "RequestResponse"'),
    ("no-level", {"rules": [{"users": ["x"]}]}, "rules[0].level: Required value"),
    ("url-without-slash", {"rules": [{"level": "None", "nonResourceURLs": ["healthz"]}]},
     "rules[0].nonResourceURLs[0]: Invalid value: \"healthz\": non-resource URL rules must "
     "begin with a '/' character"),
    ("url-inner-star", {"rules": [{"level": "None", "nonResourceURLs": ["/a*/b"]}]},
     "non-resource URL wildcards '*' must be the final character of the rule"),
    ("urls-and-resources", {"rules": [{"level": "None", "nonResourceURLs": ["/x"],
                                       "namespaces": ["y"]}]},
     'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both '
     "regular resources and non-resource URLs"),
    ("names-without-resources", {"rules": [{"level": "None", "resources": [
        {"resourceNames": ["a"]}]}]},
     'rules[0].resources.resourceNames: Invalid value: []string{"a"}: using resourceNames '
     "requires at least one resource"),
    ("bad-group", {"rules": [{"level": "None", "resources": [
        {"group": "rbac.authorization.k8s.io/v1"}]}]},
     'rules[0].resources.group: Invalid value: "rbac.authorization.k8s.io/v1"'),
    ("bad-stage", {"rules": [{"level": "None", "omitStages": ["Done"]}]},
     'rules[0].omitStages[0]: Invalid value: "Done": allowed stages are '
     "RequestReceived,ResponseStarted,ResponseComplete,Panic"),
    ("bad-policy-stage", {"omitStages": ["Done"], "rules": [{"level": "None"}]},
     'omitStages[0]: Invalid value: "Done"'),
    ("no-rules", {"rules": []}, "loaded illegal policy with 0 rules"),
]


@pytest.mark.parametrize("doc,message", [(d, m) for _, d, m in INVALID],
                         ids=[i for i, *_ in INVALID])
def test_invalid_policies(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidPolicy) as caught:
        parse(yaml.safe_dump({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", **doc}))
    assert message in str(caught.value)


def test_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidPolicy, match="failed to read file path"):
        load_file(tmp_path / "missing.yaml")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("apiVersion: v1\nkind: ConfigMap\n")
    with pytest.raises(InvalidPolicy, match=r"unknown group version field /v1, Kind=ConfigMap "
                       r"in policy: from file .*wrong.yaml"):
        load_file(wrong)
    good = tmp_path / "good.yaml"
    good.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n")
    assert load_file(good).rules[0].level is Level.METADATA
