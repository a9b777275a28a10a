"""NodeRestriction: upstream's admission_test.go outcomes as tables, with the objects a
node asks about stored in a real registry and read from its watch cache."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.node_restriction import (
    NodeRestriction,
    forbidden_labels,
)
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.machinery import errors
from tests.csr import new_key, request_pem

Obj = dict[str, Any]
NS = "ns"
MYNODE = UserInfo("system:node:mynode", groups=("system:nodes", "system:authenticated"))
MIRROR = {"kubernetes.io/config.mirror": "abc"}


def attributes(registry: Registry, group: str, plural: str, operation: Operation, obj: Obj,
               old: Obj | None = None, *, name: str | None = None, namespace: str = NS,
               subresource: str = "", user: UserInfo | None = MYNODE) -> Attributes:
    meta = obj.get("metadata") or {}
    if name is None:
        name = "" if operation is Operation.CREATE else str(meta.get("name") or "")
    return Attributes(registry.store_for(group, plural).spec, operation, namespace, name,
                      copy.deepcopy(obj), copy.deepcopy(old), subresource=subresource,
                      user=user)


async def admit(registry: Registry, attrs: Attributes) -> str:
    """"" when admitted, else the refusal's message."""
    try:
        await NodeRestriction(stores=registry).admit(attrs)
    except errors.StatusError as err:
        return str(err)
    return ""


async def stored(registry: Registry, plural: str, obj: Obj, namespace: str = "") -> Obj:
    store = registry.store_for("", plural)
    created = await store.create(namespace, copy.deepcopy(obj), WriteOptions())
    await store.sync_cache()
    return created


@pytest.fixture
async def cluster(registry: Registry) -> Registry:
    """Nodes mynode and othernode, and a pod bound to each."""
    await stored(registry, "namespaces", {"metadata": {"name": NS}})
    for node in ("mynode", "othernode"):
        await stored(registry, "nodes", {"metadata": {"name": node}})
        await stored(registry, "pods", pod_on(f"pod-{node}", node), NS)
    return registry


def pod_on(name: str, node: str, **spec: Any) -> Obj:
    return {"metadata": {"name": name, "namespace": NS},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
                     **spec}}


def node(name: str = "mynode", labels: Obj | None = None, **spec: Any) -> Obj:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": spec}


# -- nodes -----------------------------------------------------------------------------

NOT_MASTER = ('nodes "mynode" is forbidden: node "mynode" is not allowed to set the '
              'following labels: node-role.kubernetes.io/master')

NODE_CREATES: list[Any] = [
    ("allow create of my node", node(), ""),
    ("allow the kubelet's labels", node(labels={
        "kubernetes.io/hostname": "mynode", "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": "z", "topology.kubernetes.io/region": "r",
        "failure-domain.beta.kubernetes.io/zone": "z",
        "node.kubernetes.io/instance-type": "big", "beta.kubernetes.io/instance-type": "big",
        "foo.node.kubernetes.io/x": "1", "kubelet.kubernetes.io/y": "1",
        "foo.kubelet.kubernetes.io/z": "1"}), ""),
    ("allow labels outside kubernetes.io", node(labels={"foo": "bar", "example.com/a": "b"}),
     ""),
    ("forbid create of other node", node("othernode"),
     'nodes "othernode" is forbidden: node "mynode" is not allowed to modify node '
     '"othernode"'),
    ("forbid node-role labels", node(labels={"node-role.kubernetes.io/master": ""}),
     NOT_MASTER),
    ("forbid node-restriction labels", node(labels={
        "node-restriction.kubernetes.io/a": "1", "foo.node-restriction.kubernetes.io/b": "1",
        "k8s.io/c": "1"}),
     'nodes "mynode" is forbidden: node "mynode" is not allowed to set the following '
     'labels: foo.node-restriction.kubernetes.io/b, k8s.io/c, '
     'node-restriction.kubernetes.io/a'),
    ("forbid create with configSource", node(configSource={"configMap": {"name": "x"}}),
     'nodes "mynode" is forbidden: node "mynode" is not allowed to create pods with a '
     'non-nil configSource'),
]


@pytest.mark.parametrize(("obj", "message"), [c[1:] for c in NODE_CREATES],
                         ids=[c[0] for c in NODE_CREATES])
async def test_a_node_registers_only_itself_with_the_kubelets_labels(
        cluster: Registry, obj: Obj, message: str) -> None:
    attrs = attributes(cluster, "", "nodes", Operation.CREATE, obj, name=obj["metadata"]["name"])
    assert await admit(cluster, attrs) == message


TAINT = {"key": "k", "value": "v", "effect": "NoSchedule"}
ROLE = {"node-role.kubernetes.io/master": ""}

NODE_UPDATES: list[Any] = [
    ("allow status update", node(), node(), "status", ""),
    ("allow unchanged forbidden label", node(labels=ROLE), node(labels=ROLE), "", ""),
    ("allow kubelet label change", node(labels={"kubernetes.io/os": "linux"}),
     node(labels={"kubernetes.io/os": "windows"}), "", ""),
    ("allow empty taints as none", node(taints=[]), node(), "", ""),
    ("forbid adding node-role label", node(), node(labels=ROLE), "",
     'nodes "mynode" is forbidden: is not allowed to modify labels: '
     'node-role.kubernetes.io/master'),
    ("forbid removing node-role label", node(labels=ROLE), node(), "",
     'nodes "mynode" is forbidden: is not allowed to modify labels: '
     'node-role.kubernetes.io/master'),
    ("forbid adding a taint", node(), node(taints=[TAINT]), "",
     'nodes "mynode" is forbidden: node "mynode" is not allowed to modify taints'),
    ("forbid removing a taint", node(taints=[TAINT]), node(), "",
     'nodes "mynode" is forbidden: node "mynode" is not allowed to modify taints'),
    ("forbid a new configSource", node(), node(configSource={"configMap": {"name": "x"}}), "",
     'nodes "mynode" is forbidden: node "mynode" is not allowed to update configSource to '
     'a new non-nil configSource'),
    ("forbid other node's status", node("othernode"), node("othernode"), "status",
     'nodes "othernode" is forbidden: node "mynode" is not allowed to modify node '
     '"othernode"'),
]


@pytest.mark.parametrize(("old", "new", "subresource", "message"),
                         [c[1:] for c in NODE_UPDATES], ids=[c[0] for c in NODE_UPDATES])
async def test_a_node_updates_only_itself_and_not_its_taints_or_restricted_labels(
        cluster: Registry, old: Obj, new: Obj, subresource: str, message: str) -> None:
    attrs = attributes(cluster, "", "nodes", Operation.UPDATE, new, old,
                       subresource=subresource)
    assert await admit(cluster, attrs) == message


@pytest.mark.parametrize(("labels", "forbidden"), [
    ({"kubernetes.io/hostname"}, []),
    ({"node-role.kubernetes.io/worker", "foo"}, ["node-role.kubernetes.io/worker"]),
    ({"sub.k8s.io/x", "example.com/y"}, ["sub.k8s.io/x"]),
    ({"node.kubernetes.io/exclude-from-external-load-balancers"}, []),
    ({"x.node-restriction.kubernetes.io/y"}, ["x.node-restriction.kubernetes.io/y"]),
], ids=["hostname", "node-role", "k8s.io", "node.kubernetes.io", "node-restriction"])
def test_forbidden_labels_are_kubernetes_ones_outside_the_kubelets_set(
        labels: set[str], forbidden: list[str]) -> None:
    assert forbidden_labels(labels) == forbidden


async def test_who_is_not_a_node_passes_untouched(cluster: Registry) -> None:
    jane = UserInfo("jane", groups=("system:authenticated",))
    attrs = attributes(cluster, "", "nodes", Operation.CREATE, node("othernode", ROLE),
                       name="othernode", user=jane)
    assert not NodeRestriction(stores=cluster).handles(attrs)
    assert await admit(cluster, attrs) == ""


async def test_a_node_without_a_name_is_refused(cluster: Registry) -> None:
    nameless = UserInfo("system:node:", groups=("system:nodes",))
    attrs = attributes(cluster, "", "nodes", Operation.CREATE, node(), name="mynode",
                       user=nameless)
    assert await admit(cluster, attrs) == (
        'nodes "mynode" is forbidden: could not determine node from user "system:node:"')


# -- pods --------------------------------------------------------------------------------

async def node_uid(registry: Registry) -> str:
    entry = await registry.store_for("", "nodes").cached_entry("", "mynode")
    assert entry is not None
    return str(entry.obj["metadata"]["uid"])


async def mirror(registry: Registry, node_name: str = "mynode", **spec: Any) -> Obj:
    owner = {"apiVersion": "v1", "kind": "Node", "name": node_name, "controller": True,
             "uid": await node_uid(registry)}
    pod = pod_on("static-web", node_name, **spec)
    pod["metadata"].update(annotations=MIRROR, ownerReferences=[owner])
    return pod


def refusal(reason: str, name: str = "static-web") -> str:
    return f'pods "{name}" is forbidden: {reason}'


async def test_a_node_creates_mirror_pods_bound_and_owned_by_itself(
        cluster: Registry) -> None:
    pod = await mirror(cluster)
    assert await admit(cluster, attributes(cluster, "", "pods", Operation.CREATE, pod)) == ""


MIRROR_REFUSALS: list[Any] = [
    ("not a mirror pod", lambda p: p["metadata"].pop("annotations"),
     'pod does not have "kubernetes.io/config.mirror" annotation, node "mynode" can only '
     'create mirror pods'),
    ("bound elsewhere", lambda p: p["spec"].update(nodeName="othernode"),
     'node "mynode" can only create pods with spec.nodeName set to itself'),
    ("no owner", lambda p: p["metadata"].pop("ownerReferences"),
     'node "mynode" can only create pods with an owner reference set to itself'),
    ("two owners", lambda p: p["metadata"]["ownerReferences"].append(
        dict(p["metadata"]["ownerReferences"][0])),
     'node "mynode" can only create pods with a single owner reference set to itself'),
    ("owned by another node", lambda p: p["metadata"]["ownerReferences"][0].update(
        name="othernode"),
     'node "mynode" can only create pods with an owner reference set to itself'),
    ("not the controller", lambda p: p["metadata"]["ownerReferences"][0].update(
        controller=False),
     'node "mynode" can only create pods with a controller owner reference set to itself'),
    ("blocks owner deletion", lambda p: p["metadata"]["ownerReferences"][0].update(
        blockOwnerDeletion=True),
     'node "mynode" must not set blockOwnerDeletion on an owner reference'),
    ("wrong node uid", lambda p: p["metadata"]["ownerReferences"][0].update(uid="nope"),
     None),
    ("service account", lambda p: p["spec"].update(serviceAccountName="default"),
     'node "mynode" can not create pods that reference a service account'),
    ("secret", lambda p: p["spec"].update(volumes=[{"name": "s", "secret": {
        "secretName": "x"}}]),
     'node "mynode" can not create pods that reference secrets'),
    ("configmap", lambda p: p["spec"]["containers"][0].update(envFrom=[{"configMapRef": {
        "name": "x"}}]),
     'node "mynode" can not create pods that reference configmaps'),
    ("cluster trust bundle", lambda p: p["spec"].update(volumes=[{"name": "b", "projected": {
        "sources": [{"clusterTrustBundle": {"name": "x", "path": "b"}}]}}]),
     'node "mynode" can not create pods that reference clustertrustbundles'),
    ("claim", lambda p: p["spec"].update(volumes=[{"name": "c", "persistentVolumeClaim": {
        "claimName": "x"}}]),
     'node "mynode" can not create pods that reference persistentvolumeclaims'),
]


@pytest.mark.parametrize(("change", "reason"), [c[1:] for c in MIRROR_REFUSALS],
                         ids=[c[0] for c in MIRROR_REFUSALS])
async def test_a_mirror_pod_must_be_its_nodes_and_reference_nothing(
        cluster: Registry, change: Any, reason: str | None) -> None:
    pod = await mirror(cluster)
    change(pod)
    uid = await node_uid(cluster)
    expected = refusal(reason or f"node mynode UID mismatch: expected {uid} got nope")
    assert await admit(cluster, attributes(cluster, "", "pods", Operation.CREATE, pod)) == \
        expected


async def pod_attrs(registry: Registry, name: str, operation: Operation, *,
                    subresource: str = "", change: Any = None) -> Attributes:
    entry = await registry.store_for("", "pods").cached_entry(NS, name)
    assert entry is not None
    new = entry.obj
    if change is not None:
        change(new)
    return attributes(registry, "", "pods", operation, new, entry.obj, name=name,
                      subresource=subresource)


POD_WRITES: list[Any] = [
    ("delete my pod", "pod-mynode", Operation.DELETE, "", None, ""),
    ("delete other's pod", "pod-othernode", Operation.DELETE, "", None,
     'node "mynode" can only delete pods with spec.nodeName set to itself'),
    ("update a pod", "pod-mynode", Operation.UPDATE, "", None,
     'unexpected operation "UPDATE", node "mynode" can only create and delete mirror pods'),
    ("status of my pod", "pod-mynode", Operation.UPDATE, "status",
     lambda p: p.setdefault("status", {}).update(phase="Running"), ""),
    ("status of other's pod", "pod-othernode", Operation.UPDATE, "status", None,
     'node "mynode" can only update pod status for pods with spec.nodeName set to itself'),
    ("labels through status", "pod-mynode", Operation.UPDATE, "status",
     lambda p: p["metadata"].update(labels={"a": "b"}),
     'node "mynode" cannot update labels through pod status'),
    ("claim statuses through status", "pod-mynode", Operation.UPDATE, "status",
     lambda p: p.setdefault("status", {}).update(resourceClaimStatuses=[{"name": "a"}]),
     'node "mynode" cannot update resource claim statues'),
    ("other subresource", "pod-mynode", Operation.UPDATE, "ephemeralcontainers", None,
     "unexpected pod subresource \"ephemeralcontainers\", only 'status' and 'eviction' "
     "are allowed"),
]


@pytest.mark.parametrize(("name", "operation", "subresource", "change", "reason"),
                         [c[1:] for c in POD_WRITES], ids=[c[0] for c in POD_WRITES])
async def test_a_node_deletes_and_reports_status_only_of_its_own_pods(
        cluster: Registry, name: str, operation: Operation, subresource: str, change: Any,
        reason: str) -> None:
    attrs = await pod_attrs(cluster, name, operation, subresource=subresource, change=change)
    assert await admit(cluster, attrs) == (refusal(reason, name) if reason else "")


@pytest.mark.parametrize(("name", "message"), [
    ("pod-mynode", ""),
    ("pod-othernode", 'pods "pod-othernode" is forbidden: node mynode can only evict pods '
                      'with spec.nodeName set to itself'),
    ("gone", 'pods "gone" not found'),
], ids=["own", "other's", "missing"])
async def test_a_node_evicts_only_its_own_pods(cluster: Registry, name: str,
                                               message: str) -> None:
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    attrs = attributes(cluster, "", "pods", Operation.CREATE, eviction, name=name,
                       subresource="eviction")
    assert await admit(cluster, attrs) == message


# -- tokens, leases, CSRs, claims ----------------------------------------------------------

def token_request(ref: Obj | None) -> Obj:
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"audiences": ["x"], **({"boundObjectRef": ref} if ref else {})}}


async def uid_of(registry: Registry, name: str) -> str:
    entry = await registry.store_for("", "pods").cached_entry(NS, name)
    assert entry is not None
    return str(entry.obj["metadata"]["uid"])


@pytest.mark.parametrize(("ref", "reason"), [
    ({"apiVersion": "v1", "kind": "Pod", "name": "pod-mynode", "uid": "POD"}, ""),
    (None, "node requested token not bound to a pod"),
    ({"apiVersion": "v1", "kind": "Secret", "name": "s", "uid": "1"},
     "node requested token not bound to a pod"),
    ({"apiVersion": "v1", "kind": "Pod", "name": "pod-mynode"},
     "node requested token with a pod binding without a uid"),
    ({"apiVersion": "v1", "kind": "Pod", "name": "pod-mynode", "uid": "other"},
     "the UID in the bound object reference (other) does not match the UID in record. "
     "The object might have been deleted and then recreated"),
    ({"apiVersion": "v1", "kind": "Pod", "name": "pod-othernode", "uid": "POD"},
     "node requested token bound to a pod scheduled on a different node"),
], ids=["own-pod", "unbound", "bound-to-secret", "no-uid", "uid-mismatch", "other-node"])
async def test_a_nodes_tokens_are_bound_to_its_own_pods(
        cluster: Registry, ref: Obj | None, reason: str) -> None:
    if ref is not None and ref.get("uid") == "POD":
        ref = {**ref, "uid": await uid_of(cluster, ref["name"])}
    attrs = attributes(cluster, "", "serviceaccounts", Operation.CREATE, token_request(ref),
                       name="default", subresource="token")
    expected = f'serviceaccounts "default" is forbidden: {reason}' if reason else ""
    assert await admit(cluster, attrs) == expected


def lease(name: str) -> Obj:
    return {"metadata": {"name": name, "namespace": "kube-node-lease"}, "spec": {}}


OWN_LEASE = "can only access node lease with the same name as the requesting node"


@pytest.mark.parametrize(("operation", "name", "namespace", "reason"), [
    (Operation.CREATE, "mynode", "kube-node-lease", ""),
    (Operation.UPDATE, "mynode", "kube-node-lease", ""),
    (Operation.DELETE, "mynode", "kube-node-lease", ""),
    (Operation.CREATE, "othernode", "kube-node-lease", OWN_LEASE),
    (Operation.UPDATE, "othernode", "kube-node-lease", OWN_LEASE),
    (Operation.CREATE, "mynode", "default",
     'can only access leases in the "kube-node-lease" system namespace'),
], ids=["create-own", "update-own", "delete-own", "create-other", "update-other",
        "other-namespace"])
async def test_a_node_holds_only_its_own_lease(
        cluster: Registry, operation: Operation, name: str, namespace: str,
        reason: str) -> None:
    obj = lease(name)
    old = obj if operation is not Operation.CREATE else None
    attrs = attributes(cluster, "coordination.k8s.io", "leases", operation, obj, old,
                       namespace=namespace)
    expected = f'leases.coordination.k8s.io "{name}" is forbidden: {reason}' if reason else ""
    assert await admit(cluster, attrs) == expected


def csr(common_name: str, signer: str) -> Obj:
    pem = request_pem(new_key(), common_name, ("system:nodes",))
    return {"metadata": {"name": "node-csr"},
            "spec": {"request": base64.b64encode(pem).decode(), "signerName": signer,
                     "usages": ["client auth"]}}


@pytest.mark.parametrize(("common_name", "signer", "reason"), [
    ("system:node:mynode", "kubernetes.io/kube-apiserver-client-kubelet", ""),
    ("system:node:mynode", "kubernetes.io/kubelet-serving", ""),
    ("system:node:othernode", "kubernetes.io/kube-apiserver-client-kubelet",
     "can only create a node CSR with CN=system:node:mynode"),
    ("system:node:othernode", "kubernetes.io/kubelet-serving",
     "can only create a node CSR with CN=system:node:mynode"),
    ("anyone", "example.com/signer", ""),
], ids=["own-client", "own-serving", "other-client", "other-serving", "other-signer"])
async def test_a_node_asks_kubelet_certificates_only_for_itself(
        cluster: Registry, common_name: str, signer: str, reason: str) -> None:
    attrs = attributes(cluster, "certificates.k8s.io", "certificatesigningrequests",
                       Operation.CREATE, csr(common_name, signer), namespace="")
    expected = (f'certificatesigningrequests.certificates.k8s.io "node-csr" is forbidden: '
                f'{reason}') if reason else ""
    assert await admit(cluster, attrs) == expected


async def test_an_unreadable_kubelet_csr_is_refused(cluster: Registry) -> None:
    obj = csr("system:node:mynode", "kubernetes.io/kubelet-serving")
    obj["spec"]["request"] = base64.b64encode(b"not a request").decode()
    attrs = attributes(cluster, "certificates.k8s.io", "certificatesigningrequests",
                       Operation.CREATE, obj, namespace="")
    assert "is forbidden: unable to parse csr: " in await admit(cluster, attrs)


CLAIM = {"metadata": {"name": "data", "namespace": NS, "resourceVersion": "5"},
         "spec": {"accessModes": ["ReadWriteOnce"]}, "status": {"phase": "Bound"}}


@pytest.mark.parametrize(("subresource", "change", "reason"), [
    ("status", lambda c: c["status"].update(capacity={"storage": "2Gi"}, conditions=[
        {"type": "Resizing", "status": "True"}]), ""),
    ("status", lambda c: c["metadata"].update(resourceVersion=""), ""),
    ("status", lambda c: c["metadata"].update(labels={"a": "b"}),
     'node "mynode" is not allowed to update fields other than status.quantity and '
     'status.conditions: metadata.labels'),
    ("status", lambda c: c["status"].update(phase="Lost"),
     'node "mynode" is not allowed to update fields other than status.quantity and '
     'status.conditions: status.phase'),
    ("", lambda c: None, "may only update PVC status"),
], ids=["capacity-and-conditions", "no-resource-version", "labels", "phase", "not-status"])
async def test_a_node_changes_only_capacity_and_conditions_of_claims(
        cluster: Registry, subresource: str, change: Any, reason: str) -> None:
    new = copy.deepcopy(CLAIM)
    change(new)
    attrs = attributes(cluster, "", "persistentvolumeclaims", Operation.UPDATE, new, CLAIM,
                       subresource=subresource)
    expected = f'persistentvolumeclaims "data" is forbidden: {reason}' if reason else ""
    assert await admit(cluster, attrs) == expected
