"""The Node authorizer's decisions, as upstream's node_authorizer_test.go tables them
(with AuthorizeNodeWithSelectors), over a graph kept from a real watch cache."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.auth.attributes import Attributes, Decision
from kubelite.apiserver.auth.node.authorizer import NodeAuthorizer
from kubelite.apiserver.auth.node.conftest import NS, pod, put
from kubelite.apiserver.auth.node.graph import NodeGraph
from kubelite.apiserver.auth.rbac.policy import node_rules
from kubelite.apiserver.auth.rbac.rules import rules_from_api
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions

ALLOW, NO = Decision.ALLOW, Decision.NO_OPINION
NODE0 = UserInfo("system:node:node0", groups=("system:nodes", "system:authenticated"))
LEASES = "kube-node-lease"


def authorizer(registry: Registry) -> NodeAuthorizer:
    return NodeAuthorizer(NodeGraph(registry.cache, registry),
                          rules_from_api(node_rules()))


def ask(verb: str, resource: str, name: str = "", namespace: str = NS, *,
        group: str = "", subresource: str = "", user: UserInfo = NODE0,
        selector: tuple[tuple[str, str, str], ...] = ()) -> Attributes:
    return Attributes(user=user, verb=verb, resource_request=True, api_group=group,
                      api_version="v1", namespace=namespace, resource=resource,
                      subresource=subresource, name=name, field_selector=selector)


NO_RELATION = "no relationship found between node 'node0' and this object"

CASES: list[Any] = [
    # objects its pods use, and only those
    ("allowed configmap", ask("get", "configmaps", "configmap0-pod0-node0"), ALLOW, ""),
    ("allowed projected configmap", ask("get", "configmaps", "kube-root-ca.crt"), ALLOW, ""),
    ("allowed secret via pod", ask("get", "secrets", "secret0-pod0-node0"), ALLOW, ""),
    ("allowed secret via env", ask("get", "secrets", "env-secret-node0"), ALLOW, ""),
    ("list allowed secret via pod", ask("list", "secrets", "secret0-pod0-node0"), ALLOW, ""),
    ("watch allowed secret via pod", ask("watch", "secrets", "secret0-pod0-node0"),
     ALLOW, ""),
    ("disallowed list many secrets", ask("list", "secrets"), NO, "No Object name found"),
    ("disallowed watch many secrets", ask("watch", "secrets"), NO, "No Object name found"),
    ("disallowed list secrets from all namespaces",
     ask("list", "secrets", "secret0-pod0-node0", namespace=""), NO,
     "can only read namespaced object of this type"),
    ("allowed shared secret via pod", ask("get", "secrets", "secret0-shared"), ALLOW, ""),
    ("allowed shared secret via pvc", ask("get", "secrets", "secret-pv0-pod0-node0-ns0"),
     ALLOW, ""),
    ("allowed pvc", ask("get", "persistentvolumeclaims", "pvc0-pod0-node0"), ALLOW, ""),
    ("allowed ephemeral pvc", ask("get", "persistentvolumeclaims", "pod0-node0-eph"),
     ALLOW, ""),
    ("allowed pv", ask("get", "persistentvolumes", "pv0-pod0-node0", ""), ALLOW, ""),
    ("disallowed configmap", ask("get", "configmaps", "configmap0-pod0-node1"), NO,
     NO_RELATION),
    ("disallowed secret via pod", ask("get", "secrets", "secret0-pod0-node1"), NO,
     NO_RELATION),
    ("disallowed secret of an unbound pod", ask("get", "secrets", "secret-pending"), NO,
     NO_RELATION),
    ("disallowed shared secret via pvc", ask("get", "secrets", "secret-pv0-pod0-node1-ns0"),
     NO, NO_RELATION),
    ("disallowed secret of an unbound pv", ask("get", "secrets", "secret-pv-unbound"), NO,
     NO_RELATION),
    ("disallowed pvc", ask("get", "persistentvolumeclaims", "pvc0-pod0-node1"), NO,
     NO_RELATION),
    ("disallowed pv", ask("get", "persistentvolumes", "pv0-pod0-node1", ""), NO, NO_RELATION),
    ("disallowed secret write", ask("update", "secrets", "secret0-pod0-node0"), NO,
     "can only read resources of this type"),
    ("disallowed secret subresource", ask("get", "secrets", "secret0-pod0-node0",
                                          subresource="x"), NO, "cannot read subresource"),
    ("disallowed pvc list", ask("list", "persistentvolumeclaims", "pvc0-pod0-node0"), NO,
     "can only get individual resources of this type"),
    ("allowed pvc status update", ask("update", "persistentvolumeclaims", "pvc0-pod0-node0",
                                      subresource="status"), ALLOW, ""),
    ("disallowed pvc status get", ask("get", "persistentvolumeclaims", "pvc0-pod0-node0",
                                      subresource="status"), NO,
     "can only get/update/patch this type"),
    ("disallowed pvc status update of another node's",
     ask("patch", "persistentvolumeclaims", "pvc0-pod0-node1", subresource="status"), NO,
     NO_RELATION),
    ("allowed attachment", ask("get", "volumeattachments", "attachment0-node0", "",
                               group="storage.k8s.io"), ALLOW, ""),
    ("disallowed attachment - no relationship",
     ask("get", "volumeattachments", "attachment0-node1", "", group="storage.k8s.io"), NO,
     NO_RELATION),
    # tokens of the accounts its pods run as
    ("allowed svcacct token create", ask("create", "serviceaccounts", "svcacct0-node0",
                                         subresource="token"), ALLOW, ""),
    ("disallowed svcacct token create - serviceaccount not attached to node",
     ask("create", "serviceaccounts", "svcacct0-node1", subresource="token"), NO, NO_RELATION),
    ("disallowed svcacct token create - no subresource",
     ask("create", "serviceaccounts", "svcacct0-node0"), NO,
     "can only create token subresource of serviceaccount"),
    ("disallowed svcacct token create - non create",
     ask("update", "serviceaccounts", "svcacct0-node0", subresource="token"), NO,
     "can only create tokens for individual service accounts"),
    # its own lease
    ("allowed get node lease", ask("get", "leases", "node0", LEASES,
                                   group="coordination.k8s.io"), ALLOW, ""),
    ("allowed create node lease", ask("create", "leases", "", LEASES,
                                      group="coordination.k8s.io"), ALLOW, ""),
    ("allowed update node lease", ask("update", "leases", "node0", LEASES,
                                      group="coordination.k8s.io"), ALLOW, ""),
    ("disallowed get another node's lease", ask("get", "leases", "node1", LEASES,
                                                group="coordination.k8s.io"), NO,
     "can only access node lease with the same name as the requesting node"),
    ("disallowed list node leases", ask("list", "leases", "", LEASES,
                                        group="coordination.k8s.io"), NO,
     "can only get, create, update, patch, or delete a node lease"),
    ("disallowed get lease in namespace other than kube-node-lease",
     ask("get", "leases", "node0", "foo", group="coordination.k8s.io"), NO,
     'can only access leases in the "kube-node-lease" system namespace'),
    # its own CSINode
    ("allowed get CSINode", ask("get", "csinodes", "node0", "", group="storage.k8s.io"),
     ALLOW, ""),
    ("disallowed get another node's CSINode",
     ask("get", "csinodes", "node1", "", group="storage.k8s.io"), NO,
     "can only access CSINode with the same name as the requesting node"),
    ("disallowed CSINode with subresource", ask("get", "csinodes", "node0", "",
                                                group="storage.k8s.io", subresource="x"),
     NO, "cannot authorize CSINode subresources"),
    # nodes: reads of its own only, writes left to NodeRestriction
    ("get self", ask("get", "nodes", "node0", ""), ALLOW, ""),
    ("watch self by field selector", ask("watch", "nodes", "node0", ""), ALLOW, ""),
    ("get other", ask("get", "nodes", "node1", ""), NO,
     "node 'node0' cannot read 'node1', only its own Node object"),
    ("list all nodes", ask("list", "nodes", "", ""), NO,
     "node 'node0' cannot read all nodes, only its own Node object"),
    ("create node", ask("create", "nodes", "", ""), ALLOW, ""),
    ("update any node status", ask("update", "nodes", "node1", "", subresource="status"),
     ALLOW, ""),
    ("delete node", ask("delete", "nodes", "node0", ""), NO, ""),
    # pods: its own, or lists scoped to itself
    ("get related pod", ask("get", "pods", "pod0-node0"), ALLOW, ""),
    ("get unrelated pod", ask("get", "pods", "pod0-node1"), NO, NO_RELATION),
    ("list pods on the node", ask("list", "pods", "", "",
                                  selector=(("spec.nodeName", "=", "node0"),)), ALLOW, ""),
    ("watch pods on the node", ask("watch", "pods", "", "",
                                   selector=(("spec.nodeName", "=", "node0"),)), ALLOW, ""),
    ("list pods of another node", ask("list", "pods", "", "",
                                      selector=(("spec.nodeName", "=", "node1"),)), NO,
     "can only list/watch pods with spec.nodeName field selector"),
    ("list pods not on the node", ask("list", "pods", "", "",
                                      selector=(("spec.nodeName", "!=", "node0"),)), NO,
     "can only list/watch pods with spec.nodeName field selector"),
    ("list all pods", ask("list", "pods", "", ""), NO,
     "can only list/watch pods with spec.nodeName field selector"),
    ("create mirror pod", ask("create", "pods"), ALLOW, ""),
    ("delete pod", ask("delete", "pods", "pod0-node1"), ALLOW, ""),
    ("update pod status", ask("update", "pods", "pod0-node1", subresource="status"),
     ALLOW, ""),
    ("evict pod", ask("create", "pods", "pod0-node1", subresource="eviction"), ALLOW, ""),
    ("update pod", ask("update", "pods", "pod0-node0"), NO, ""),
    # the rest: system:node's rules
    ("static rule: create events", ask("create", "events"), ALLOW, ""),
    ("static rule: list services", ask("list", "services", "", ""), ALLOW, ""),
    ("static rule: create tokenreviews", ask("create", "tokenreviews", "", "",
                                             group="authentication.k8s.io"), ALLOW, ""),
    ("not in the static rules: list namespaces", ask("list", "namespaces", "", ""), NO, ""),
    ("not in the static rules: create deployments",
     ask("create", "deployments", group="apps"), NO, ""),
    # who is a node
    ("not a node: no group", ask("get", "secrets", "secret0-pod0-node0",
                                 user=UserInfo("system:node:node0")), NO, ""),
    ("not a node: other name", ask("get", "secrets", "secret0-pod0-node0",
                                   user=UserInfo("jane", groups=("system:nodes",))), NO, ""),
    ("unknown node", ask("get", "secrets", "secret0-pod0-node0",
                         user=UserInfo("system:node:", groups=("system:nodes",))), NO,
     'unknown node for user "system:node:"'),
]


@pytest.mark.parametrize(("attrs", "decision", "reason"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
async def test_a_node_is_allowed_what_its_pods_use_and_its_own_objects(
        world: Registry, attrs: Attributes, decision: Decision, reason: str) -> None:
    assert authorizer(world).decide(attrs) == (decision, reason)


async def test_access_follows_the_pods_as_they_come_and_go(world: Registry) -> None:
    node0 = authorizer(world)
    secret = ask("get", "secrets", "secret-new")
    assert node0.decide(secret)[0] is NO
    await put(world, "", "pods", pod("new", "node0", secrets=("secret-new",)))
    assert node0.decide(secret)[0] is ALLOW
    pods = world.store_for("", "pods")
    await pods.delete(NS, "new", {"gracePeriodSeconds": 0}, WriteOptions())
    await pods.sync_cache()
    assert node0.decide(secret)[0] is NO
    # a secret two pods share stays reachable while either is there
    assert node0.decide(ask("get", "secrets", "secret0-shared"))[0] is ALLOW


async def test_a_pod_bound_later_brings_its_objects_to_its_node(world: Registry) -> None:
    node0 = authorizer(world)
    secret = ask("get", "secrets", "secret-pending")
    assert node0.decide(secret)[0] is NO
    pods = world.store_for("", "pods")

    async def bind(obj: dict[str, Any]) -> dict[str, Any]:
        obj["spec"]["nodeName"] = "node0"
        return obj
    await pods.guaranteed_update(NS, "pending", bind, WriteOptions(subresource="binding"))
    await pods.sync_cache()
    assert node0.decide(secret)[0] is ALLOW


async def test_a_pv_counts_through_the_claim_it_is_bound_to(world: Registry) -> None:
    node0 = authorizer(world)
    pv = ask("get", "persistentvolumes", "pv-unbound", "")
    assert node0.decide(pv)[0] is NO
    pvs = world.store_for("", "persistentvolumes")
    entry = await pvs.cached_entry("", "pv-unbound")
    assert entry is not None
    bound = entry.obj
    bound["spec"]["claimRef"] = {"namespace": NS, "name": "pvc0-pod0-node0"}
    await pvs.update("", "pv-unbound", bound, WriteOptions())
    await pvs.sync_cache()
    assert node0.decide(pv)[0] is ALLOW
    assert node0.decide(ask("get", "secrets", "secret-pv-unbound"))[0] is ALLOW
