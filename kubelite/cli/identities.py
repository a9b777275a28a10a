"""Who kubelite's own components are when they call the API server in its process.

`kubelite server` runs the scheduler, the controller manager, the metrics server and
simulated nodes beside the API server, over the in-process transport. Each is a
client like any other and authenticates with a bearer token of its own. The tokens
are random, made at every start and kept in memory only (docs/decisions.md): they
never leave the process, so there is nothing on disk to steal or rotate.

The users are upstream's where upstream has one:
- the API server's loopback client is system:apiserver in system:masters, as
  kube-apiserver's loopback identity;
- the scheduler is system:kube-scheduler, whose default ClusterRole covers it;
- the controller manager is system:kube-controller-manager, in system:masters too:
  upstream's role for that user is narrow because each upstream controller calls
  with its own service account (--use-service-account-credentials), while
  kubelite's loops share one client;
- the metrics server and the simulated nodes have kubelite names, in system:masters;
- a kubelet the server runs is its node, `system:node:<name>` in `system:nodes`
  (node_identity), so the Node authorizer and NodeRestriction admission hold it to
  its own node's objects as they hold any kubelet.
"""

from __future__ import annotations

import secrets
import uuid

from kubelite.apiserver.auth.authn import StaticTokens
from kubelite.apiserver.auth.user import (
    APISERVER_USER,
    KUBE_CONTROLLER_MANAGER,
    KUBE_SCHEDULER,
    NODE_USER_PREFIX,
    NODES_GROUP,
    SYSTEM_PRIVILEGED_GROUP,
    UserInfo,
)

APISERVER = "kube-apiserver"
SCHEDULER = "kube-scheduler"
CONTROLLER_MANAGER = "kube-controller-manager"
METRICS_SERVER = "metrics-server"
SIMULATED_NODES = "simulated-nodes"

IDENTITIES = {
    APISERVER: (APISERVER_USER, (SYSTEM_PRIVILEGED_GROUP,)),
    SCHEDULER: (KUBE_SCHEDULER, ()),
    CONTROLLER_MANAGER: (KUBE_CONTROLLER_MANAGER, (SYSTEM_PRIVILEGED_GROUP,)),
    METRICS_SERVER: ("system:kubelite-metrics-server", (SYSTEM_PRIVILEGED_GROUP,)),
    SIMULATED_NODES: ("system:kubelite-simulated-nodes", (SYSTEM_PRIVILEGED_GROUP,)),
}


def node_identity(node_name: str) -> UserInfo:
    """Who the kubelet of `node_name` is: upstream's node user and group, which the
    Node authorizer and NodeRestriction recognise."""
    return UserInfo(f"{NODE_USER_PREFIX}{node_name}", uid=str(uuid.uuid4()),
                    groups=(NODES_GROUP,))


class ComponentTokens:
    """A fresh token and uid per component, for this process's lifetime."""

    def __init__(self) -> None:
        self._tokens = {component: secrets.token_urlsafe(32) for component in IDENTITIES}
        self.users = {component: UserInfo(name, uid=str(uuid.uuid4()), groups=groups)
                      for component, (name, groups) in IDENTITIES.items()}
        self._node_tokens: dict[str, str] = {}
        self._authenticator = StaticTokens({token: self.users[component]
                                            for component, token in self._tokens.items()})

    def token(self, component: str) -> str:
        return self._tokens[component]

    def node_token(self, node_name: str) -> str:
        """The token of the kubelet of `node_name` in this process (node_identity),
        made on first ask; the authenticator knows it from then on."""
        token = self._node_tokens.get(node_name)
        if token is None:
            token = self._node_tokens[node_name] = secrets.token_urlsafe(32)
            self._authenticator.users[token] = node_identity(node_name)
        return token

    def authenticator(self) -> StaticTokens:
        return self._authenticator
