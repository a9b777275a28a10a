"""The in-process components' identities: one user and one fresh token each, and a
kubelet's node identity, which the Node authorizer and NodeRestriction hold to its node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.apiserver.admission.node_restriction import NodeRestriction
from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    join_chain,
)
from kubelite.apiserver.auth.serviceaccount.options import ServiceAccountOptions, install
from kubelite.apiserver.authorization import configure_authorization
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.storage.factory import open_backend
from kubelite.cli.identities import (
    APISERVER,
    CONTROLLER_MANAGER,
    IDENTITIES,
    METRICS_SERVER,
    SCHEDULER,
    SIMULATED_NODES,
    ComponentTokens,
    node_identity,
)


@pytest.mark.parametrize("component,name,privileged", [
    (APISERVER, "system:apiserver", True),
    (SCHEDULER, "system:kube-scheduler", False),
    (CONTROLLER_MANAGER, "system:kube-controller-manager", True),
    (METRICS_SERVER, "system:kubelite-metrics-server", True),
    (SIMULATED_NODES, "system:kubelite-simulated-nodes", True),
], ids=lambda value: value if isinstance(value, str) else None)
async def test_each_component_token_names_its_user(component: str, name: str,
                                                   privileged: bool) -> None:
    tokens = ComponentTokens()
    user = await tokens.authenticator().authenticate_token(tokens.token(component))
    assert user is not None
    assert (user.name, user.privileged) == (name, privileged)


def test_tokens_are_distinct_and_new_at_every_start() -> None:
    first, second = ComponentTokens(), ComponentTokens()
    tokens = {first.token(c) for c in IDENTITIES} | {second.token(c) for c in IDENTITIES}
    assert len(tokens) == 2 * len(IDENTITIES)
    assert all(len(token) >= 40 for token in tokens)


async def test_a_node_token_names_the_node_user_and_stays_the_same() -> None:
    tokens = ComponentTokens()
    authenticator = tokens.authenticator()  # made before the node: it learns of it
    token = tokens.node_token("n1")
    assert tokens.node_token("n1") == token != tokens.node_token("n2")
    user = await authenticator.authenticate_token(token)
    assert user is not None
    assert (user.name, user.groups, user.privileged) == ("system:node:n1", ("system:nodes",),
                                                         False)
    assert node_identity("n1").name == "system:node:n1"


@pytest.fixture
async def node_server(tmp_path: Path) -> AsyncIterator[tuple[APIServer, ComponentTokens]]:
    """A server as `kubelite server` configures it: component tokens, ServiceAccount
    tokens, Node,RBAC and NodeRestriction."""
    tokens = ComponentTokens()
    server = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                       compaction_interval=0, loopback_token=tokens.token(APISERVER),
                       authenticator=AuthenticatorChain([
                           BearerTokenAuthenticator([tokens.authenticator()])]))
    join_chain(server.authenticator, install(server, ServiceAccountOptions(
        key_file=tmp_path / "service.key")))
    await configure_authorization(server)
    server.registry.admission.add_mutating(NodeRestriction(stores=server.registry))
    await server.start()
    yield server, tokens
    await server.stop()


def in_process(server: APIServer, token: str) -> Client:
    return Client(InProcessTransport(server.handle, token=token),  # type: ignore[arg-type]
                  field_manager="test")


async def test_an_in_process_kubelet_is_held_to_its_own_node(
        node_server: tuple[APIServer, ComponentTokens]) -> None:
    server, tokens = node_server
    admin = in_process(server, tokens.token(CONTROLLER_MANAGER))
    kubelet = in_process(server, tokens.node_token("n1"))
    await admin.create("namespaces", {"metadata": {"name": "web"}})
    for name in ("mine", "theirs"):
        await admin.create("secrets", {"metadata": {"name": name}}, namespace="web")
    await admin.create("pods", {"metadata": {"name": "p"}, "spec": {
        "nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}],
        "volumes": [{"name": "s", "secret": {"secretName": "mine"}}]}}, namespace="web")
    await kubelet.create("nodes", {"metadata": {"name": "n1"}})
    await server.registry.store_for("", "pods").sync_cache()
    assert (await kubelet.get("secrets", "mine", namespace="web"))["metadata"]["name"] == "mine"
    with pytest.raises(errors.Forbidden, match="no relationship found between node 'n1'"):
        await kubelet.get("secrets", "theirs", namespace="web")
    listed = await kubelet.list("pods", field_selector="spec.nodeName=n1")
    assert [p["metadata"]["name"] for p in listed["items"]] == ["p"]
    with pytest.raises(errors.Forbidden, match='is not allowed to modify node "n2"'):
        await kubelet.create("nodes", {"metadata": {"name": "n2"}})


async def test_an_in_process_kubelet_evicts_and_gets_tokens_only_for_its_pods(
        node_server: tuple[APIServer, ComponentTokens]) -> None:
    """pods/eviction and serviceaccounts/token pass NodeRestriction as upstream's do."""
    server, tokens = node_server
    admin = in_process(server, tokens.token(CONTROLLER_MANAGER))
    kubelet = in_process(server, tokens.node_token("n1"))
    await admin.create("namespaces", {"metadata": {"name": "web"}})
    await admin.create("serviceaccounts", {"metadata": {"name": "robot"}}, namespace="web")
    pods = {}
    for name, node in (("mine", "n1"), ("theirs", "n2")):
        pods[name] = await admin.create("pods", {"metadata": {"name": name}, "spec": {
            "nodeName": node, "serviceAccountName": "robot",
            "containers": [{"name": "c", "image": "busybox"}]}}, namespace="web")
    await server.registry.store_for("", "pods").sync_cache()
    token_path = "/api/v1/namespaces/web/serviceaccounts/robot/token"

    def token_request(pod: dict[str, object] | None) -> dict[str, object]:
        spec: dict[str, object] = {"audiences": ["https://kubernetes.default.svc"]}
        if pod is not None:
            meta = pod["metadata"]
            assert isinstance(meta, dict)
            spec["boundObjectRef"] = {"apiVersion": "v1", "kind": "Pod",
                                      "name": meta["name"], "uid": meta["uid"]}
        return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": spec}
    issued = await kubelet.request("POST", token_path, body=token_request(pods["mine"]))
    assert issued["status"]["token"]
    with pytest.raises(errors.Forbidden, match="node requested token not bound to a pod"):
        await kubelet.request("POST", token_path, body=token_request(None))
    with pytest.raises(errors.Forbidden, match="bound to a pod scheduled on a different node"):
        await kubelet.request("POST", token_path, body=token_request(pods["theirs"]))

    def eviction(name: str) -> dict[str, object]:
        return {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": name, "namespace": "web"}}
    with pytest.raises(errors.Forbidden, match="node n1 can only evict pods with "
                                               "spec.nodeName set to itself"):
        await kubelet.request("POST", "/api/v1/namespaces/web/pods/theirs/eviction",
                              body=eviction("theirs"))
    await kubelet.request("POST", "/api/v1/namespaces/web/pods/mine/eviction",
                          body=eviction("mine"))
