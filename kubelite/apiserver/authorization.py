"""`--authorization-mode`: the authorizer chain of a server that authenticates, as
upstream's pkg/kubeapiserver/authorizer/config.go builds it.

    system:masters (PrivilegedGroupAuthorizer) ─▶ each mode in order ─▶ 403

Modes are `Node` (auth/node: what a kubelet may do, limited to its own node's
objects), `RBAC` (auth/rbac: the authorizer over the indexed RBAC objects, and the
escalation check on RBAC writes) and `AlwaysAllow`. The default is `Node,RBAC`, as
kubeadm and k3s run it. Whatever the modes, the server
also serves authorization.k8s.io/v1 (auth/reviews.py), answering from this chain.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.attributes import Authorizer, AuthorizerChain
from kubelite.apiserver.auth.node.authorizer import NodeAuthorizer
from kubelite.apiserver.auth.node.graph import NodeGraph
from kubelite.apiserver.auth.rbac.policy import node_rules
from kubelite.apiserver.auth.rbac.authorizer import (
    AlwaysAllow,
    PrivilegedGroupAuthorizer,
    RBACAuthorizer,
)
from kubelite.apiserver.auth.rbac.escalation import EscalationCheck
from kubelite.apiserver.auth.rbac.index import PolicyIndex
from kubelite.apiserver.auth.access_reviews import Reviews, RuleResolver
from kubelite.apiserver.auth.rbac.rules import rules_from_api

MODES = ("Node", "RBAC", "AlwaysAllow")
DEFAULT_MODES = ("Node", "RBAC")


def parse_modes(value: str) -> tuple[str, ...]:
    """`RBAC,AlwaysAllow` -> ("RBAC", "AlwaysAllow"); ValueError names what is unknown."""
    modes = tuple(m.strip() for m in value.split(",") if m.strip())
    if not modes:
        raise ValueError("at least one authorization mode must be passed")
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"authorization-mode {mode!r} is not a valid mode "
                             f"(valid: {', '.join(MODES)})")
    if len(set(modes)) != len(modes):
        raise ValueError(f"authorization-mode {value!r} has mode specified more than once")
    return modes


async def configure_authorization(server: APIServer, modes: Sequence[str] = DEFAULT_MODES
                                  ) -> AuthorizerChain:
    """Give the server (before or after start) its authorizer chain, the review API
    and, with RBAC, the escalation check."""
    authorizers: list[Authorizer] = [PrivilegedGroupAuthorizer()]
    resolver: RuleResolver | None = None
    rbac: RBACAuthorizer | None = None
    for mode in modes:
        if mode == "Node":
            graph = NodeGraph(server.cache, server.registry)
            authorizers.append(NodeAuthorizer(graph, rules_from_api(node_rules())))
        elif mode == "RBAC":
            rbac = RBACAuthorizer(PolicyIndex(server.cache, server.registry))
            authorizers.append(rbac)
            resolver = resolver or rbac
        elif mode == "AlwaysAllow":
            always = AlwaysAllow()
            authorizers.append(always)
            resolver = resolver or always
    chain = AuthorizerChain(authorizers)
    server.authorizer = chain
    if rbac is not None:
        server.registry.admission.add_validating(EscalationCheck(chain, rbac))
    for endpoint in Reviews(chain, resolver or AlwaysAllow()).endpoints():
        server.create_only.add(endpoint)
    return chain
