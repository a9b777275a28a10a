"""The refusal messages and the chain's order, checked against upstream's outcomes."""

from __future__ import annotations

import asyncio

import pytest

from kubelite.apiserver.auth.attributes import (
    Attributes,
    AuthorizerChain,
    Decision,
    forbidden,
    non_resource_attributes,
    resource_attributes,
)
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.routing import parse_resource_path

JANE = UserInfo("jane", groups=("system:authenticated",))


def _attrs(method: str, path: str) -> Attributes:
    info = parse_resource_path(method, path, watch_param=False)
    return (resource_attributes(JANE, info) if info is not None
            else non_resource_attributes(JANE, method, path))


@pytest.mark.parametrize("method,path,reason,message", [
    ("GET", "/api/v1/namespaces/web/pods", "",
     'pods is forbidden: User "jane" cannot list resource "pods" in API group "" '
     'in the namespace "web"'),
    ("GET", "/apis/apps/v1/namespaces/web/deployments/api", "",
     'deployments.apps "api" is forbidden: User "jane" cannot get resource '
     '"deployments" in API group "apps" in the namespace "web"'),
    ("PUT", "/api/v1/nodes/n1/status", "",
     'nodes "n1" is forbidden: User "jane" cannot update resource "nodes/status" in '
     'API group "" at the cluster scope'),
    ("GET", "/metrics", "",
     'forbidden: User "jane" cannot get path "/metrics"'),
    ("DELETE", "/api/v1/namespaces/web/pods", "no RBAC policy matched",
     'pods is forbidden: User "jane" cannot deletecollection resource "pods" in API '
     'group "" in the namespace "web": no RBAC policy matched'),
], ids=["list", "get-named-in-group", "subresource-cluster-scope", "non-resource",
        "with-reason"])
def test_forbidden_reads_as_upstream(method: str, path: str, reason: str,
                                     message: str) -> None:
    err = forbidden(_attrs(method, path), reason)
    assert err.code == 403 and err.reason == "Forbidden"
    assert err.message == message


class _Fixed:
    def __init__(self, decision: Decision, reason: str = "") -> None:
        self.decision, self.reason, self.asked = decision, reason, 0

    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        self.asked += 1
        return self.decision, self.reason


@pytest.mark.parametrize("decisions,expected", [
    ([Decision.NO_OPINION, Decision.ALLOW], Decision.ALLOW),
    ([Decision.DENY, Decision.ALLOW], Decision.DENY),
    ([Decision.NO_OPINION, Decision.NO_OPINION], Decision.NO_OPINION),
], ids=["allow-after-no-opinion", "first-deny-wins", "nobody-decides"])
def test_chain_asks_in_order_until_one_decides(decisions: list[Decision],
                                               expected: Decision) -> None:
    members = [_Fixed(d, f"r{i}") for i, d in enumerate(decisions)]
    decision, _ = asyncio.run(AuthorizerChain(members).authorize(_attrs("GET", "/api")))
    assert decision is expected
    decided = next((i for i, d in enumerate(decisions) if d is not Decision.NO_OPINION),
                   len(decisions) - 1)
    assert [m.asked for m in members] == [1] * (decided + 1) + [0] * (len(members) - decided - 1)


@pytest.mark.parametrize("method,path,selector,name,terms", [
    ("GET", "/api/v1/pods", "spec.nodeName=n1", "", (("spec.nodeName", "=", "n1"),)),
    ("GET", "/api/v1/nodes", "metadata.name=n1", "n1", (("metadata.name", "=", "n1"),)),
    ("GET", "/api/v1/nodes", "metadata.name!=n1", "", (("metadata.name", "!=", "n1"),)),
    ("GET", "/api/v1/nodes", "metadata.name=a%2Fb", "", (("metadata.name", "=", "a%2Fb"),)),
    ("GET", "/api/v1/nodes", "metadata.name=..", "", (("metadata.name", "=", ".."),)),
    ("GET", "/api/v1/nodes/n2", "metadata.name=n1", "n2", ()),
    ("DELETE", "/api/v1/namespaces/web/pods", "metadata.name=p", "",
     (("metadata.name", "=", "p"),)),
    ("GET", "/api/v1/pods", "spec.nodeName", "", ()),
], ids=["list-selector", "name-from-selector", "not-equals-names-nothing",
        "invalid-name-kept-out", "dot-dot-kept-out", "get-keeps-its-name",
        "deletecollection-names-nothing", "unparsable-selector-ignored"])
def test_a_list_carries_its_field_selector_and_the_name_it_requires(
        method: str, path: str, selector: str, name: str,
        terms: tuple[tuple[str, str, str], ...]) -> None:
    """As upstream's RequestInfoFactory: a list or watch selecting metadata.name is
    named by it (if a valid path segment); the selector rides along for the
    authorizers; one that does not parse is left to the handler's 400."""
    info = parse_resource_path(method, path, watch_param=False)
    assert info is not None
    attrs = resource_attributes(JANE, info, selector)
    assert (attrs.name, attrs.field_selector) == (name, terms)
