"""Rule matching and coverage, against upstream's outcomes (rbac_test.go,
evaluation_helpers_test.go, policy_comparator_test.go, policy_compact_test.go)."""

from __future__ import annotations

import pytest

from kubelite.apiserver.auth.attributes import Attributes
from kubelite.apiserver.auth.rbac.rules import (
    Rule,
    compact,
    compact_string,
    covers,
    rule_allows,
)
from kubelite.apiserver.auth.user import UserInfo

JANE = UserInfo("jane")


def resource(verb: str, group: str, res: str, sub: str = "", name: str = "",
             namespace: str = "ns") -> Attributes:
    return Attributes(user=JANE, verb=verb, resource_request=True, api_group=group,
                      resource=res, subresource=sub, name=name, namespace=namespace)


def path(verb: str, url: str) -> Attributes:
    return Attributes(user=JANE, verb=verb, resource_request=False, path=url)


def rule(verbs: str, groups: str = "", resources: str = "", names: str = "",
         urls: str = "") -> Rule:
    def split(value: str) -> tuple[str, ...]:
        return tuple(value.split(",")) if value else ()
    return Rule(split(verbs), tuple(groups.split(",")) if resources else (), split(resources),
                split(names), split(urls))


@pytest.mark.parametrize("rule_, attrs, allowed", [
    (rule("get", "", "pods"), resource("get", "", "pods"), True),
    (rule("*", "", "pods"), resource("delete", "", "pods"), True),
    (rule("get", "", "pods"), resource("list", "", "pods"), False),
    (rule("get", "*", "pods"), resource("get", "example.com", "pods"), True),
    (rule("get", "apps", "pods"), resource("get", "", "pods"), False),
    # a resource does not cover its subresources, nor the reverse
    (rule("get", "", "pods"), resource("get", "", "pods", "log"), False),
    (rule("get", "", "pods/log"), resource("get", "", "pods", "log"), True),
    (rule("get", "", "pods/log"), resource("get", "", "pods"), False),
    (rule("get", "", "*"), resource("get", "", "pods", "log"), True),
    (rule("get", "apps", "*/scale"), resource("get", "apps", "deployments", "scale"), True),
    (rule("get", "apps", "*/scale"), resource("get", "apps", "deployments"), False),
    (rule("get", "apps", "*/scale"), resource("get", "apps", "deployments", "status"), False),
    # resourceNames restrict to those names; a request without a name never matches
    (rule("get", "", "pods", "web"), resource("get", "", "pods", name="web"), True),
    (rule("get", "", "pods", "web"), resource("get", "", "pods", name="db"), False),
    (rule("list", "", "pods", "web"), resource("list", "", "pods"), False),
    # a resource rule never allows a path, nor a URL rule a resource
    (rule("get", urls="*"), resource("get", "", "pods"), False),
    (rule("get", "*", "*"), path("get", "/healthz"), False),
    (rule("get", urls="/healthz"), path("get", "/healthz"), True),
    (rule("get", urls="/healthz"), path("post", "/healthz"), False),
    (rule("get", urls="/healthz"), path("get", "/healthz/etcd"), False),
    (rule("get", urls="/apis/*"), path("get", "/apis/apps/v1"), True),
    (rule("get", urls="/apis/*"), path("get", "/apis"), False),
    (rule("get", urls="/api*"), path("get", "/apis"), True),
    (rule("get", urls="*"), path("get", "/anything"), True),
], ids=["exact", "verb-star", "other-verb", "group-star", "other-group",
        "resource-not-subresource", "subresource", "subresource-not-resource",
        "star-covers-subresources", "star-slash-sub", "star-slash-sub-not-resource",
        "star-slash-sub-other-sub", "named", "other-name", "named-rule-no-name",
        "url-rule-resource-request", "resource-rule-path", "url-exact", "url-other-verb",
        "url-not-prefix", "url-prefix-star", "url-prefix-star-needs-slash",
        "url-prefix-star-no-slash", "url-star"])
def test_rule_allows(rule_: Rule, attrs: Attributes, allowed: bool) -> None:
    assert rule_allows(attrs, rule_) is allowed


@pytest.mark.parametrize("owner, wanted, missing", [
    ([rule("get,list", "", "pods")], [rule("get", "", "pods")], []),
    ([rule("*", "", "pods")], [rule("get,delete", "", "pods")], []),
    ([rule("get", "", "pods")], [rule("get,delete", "", "pods")], [rule("delete", "", "pods")]),
    ([rule("get", "", "pods", "web")], [rule("get", "", "pods")], [rule("get", "", "pods")]),
    ([rule("get", "", "pods")], [rule("get", "", "pods", "web")], []),
    ([rule("get", "", "pods", "web,db")], [rule("get", "", "pods", "web")], []),
    ([rule("get", "*", "*")], [rule("get", "apps", "deployments/scale")], []),
    ([rule("get", "apps", "deployments")], [rule("get", "apps", "deployments/scale")],
     [rule("get", "apps", "deployments/scale")]),
    ([rule("get", urls="/apis/*")], [rule("get", urls="/apis/apps")], []),
    ([rule("get", urls="/apis/apps")], [rule("get", urls="/apis/*")],
     [rule("get", urls="/apis/*")]),
    ([rule("get", "", "pods"), rule("delete", "", "pods")], [rule("get,delete", "", "pods")],
     []),
    ([], [rule("get", "", "pods"), rule("get", urls="/metrics")],
     [rule("get", "", "pods"), rule("get", urls="/metrics")]),
], ids=["subset-of-verbs", "verb-star", "missing-verb", "names-do-not-cover-all",
        "all-covers-names", "names-cover-names", "star-covers-subresource",
        "resource-does-not-cover-subresource", "url-star-covers", "url-does-not-cover-star",
        "pieces-from-two-owner-rules", "nothing-held"])
def test_covers(owner: list[Rule], wanted: list[Rule], missing: list[Rule]) -> None:
    assert covers(owner, wanted) == missing


def test_compact_merges_verbs_of_one_resource() -> None:
    pieces = covers([], [rule("get,list", "", "pods"), rule("watch", "", "pods"),
                         rule("get", "", "pods", "a,b")])
    assert sorted(compact_string(r) for r in compact(pieces)) == [
        '{APIGroups:[""], Resources:["pods"], ResourceNames:["a"], Verbs:["get"]}',
        '{APIGroups:[""], Resources:["pods"], ResourceNames:["b"], Verbs:["get"]}',
        '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list" "watch"]}',
    ]


def test_compact_string_of_a_url_rule() -> None:
    assert compact_string(rule("get,post", urls="/healthz")) == \
        '{NonResourceURLs:["/healthz"], Verbs:["get" "post"]}'


def test_malformed_rule_allows_nothing() -> None:
    assert Rule.from_api("junk") == Rule()
    assert Rule.from_api({"verbs": "get", "resources": ["pods", 3]}) == Rule(resources=("pods",))
